/**
 * A reusable llama_batch whose arrays we fill through typed views on native memory
 * (koffi.view): no per-token marshalling.
 */
import koffi from "koffi";
import { BatchValue, LlamaApi, Pointer } from "./c-api.js";

export interface BatchRow { token: number; position: number; seqIds: readonly number[]; wantLogits: boolean }

export class NativeBatch {
  private readonly value: BatchValue;
  private readonly tokens: Int32Array;
  private readonly positions: Int32Array;
  private readonly nSeqIds: Int32Array;
  private readonly outputs: Int8Array;
  private readonly seqIdRows: Int32Array[];
  private freed = false;

  constructor(private readonly api: LlamaApi, readonly capacity: number, readonly maxSeqIdsPerToken: number) {
    this.value = api.llama_batch_init(capacity, 0, maxSeqIdsPerToken) as BatchValue;
    const view32 = (p: unknown) => new Int32Array(koffi.view(p, capacity * 4));
    this.tokens = view32(this.value.token);
    this.positions = view32(this.value.pos);
    this.nSeqIds = view32(this.value.n_seq_id);
    this.outputs = new Int8Array(koffi.view(this.value.logits, capacity));
    const rowPointers = koffi.decode(this.value.seq_id, koffi.array("void *", capacity)) as unknown[];
    this.seqIdRows = rowPointers.map((p) => new Int32Array(koffi.view(p, maxSeqIdsPerToken * 4)));
  }

  /** Fills the batch with `rows`; returns the struct to pass to llama_decode. */
  fill(rows: readonly BatchRow[]): BatchValue {
    if (rows.length > this.capacity) throw new Error(`batch of ${rows.length} exceeds capacity ${this.capacity}`);
    rows.forEach((r, i) => {
      if (r.seqIds.length > this.maxSeqIdsPerToken) throw new Error(`token carries ${r.seqIds.length} sequence ids, at most ${this.maxSeqIdsPerToken}`);
      this.tokens[i] = r.token;
      this.positions[i] = r.position;
      this.nSeqIds[i] = r.seqIds.length;
      this.seqIdRows[i].set(r.seqIds);
      this.outputs[i] = r.wantLogits ? 1 : 0;
    });
    this.value.n_tokens = rows.length;
    return this.value;
  }

  free(): void {
    if (!this.freed) { this.api.llama_batch_free(this.value); this.freed = true; }
  }
}

export type { Pointer };
