/**
 * Captures attention probabilities in the forward pass that contains a parallel set, through
 * llama.cpp's eval callback. The graph node `kq_soft_max-<layer>` (only present with flash
 * attention OFF) holds F32 [n_kv, n_tokens, n_head, n_stream]: columns are KV CELLS (padded,
 * masked cells exactly 0), rows are the ubatch's tokens in batch order.
 */
import koffi from "koffi";
import { EvalCallback, LlamaApi, Pointer } from "./c-api.js";

/** Byte offsets in `struct ggml_tensor` for this build (docs/design/llama-cpp-facts.md). */
const TENSOR = { type: 0, ne: 16, nb: 48, name: 256, nameLength: 64, size: 336 } as const;
const GGML_TYPE_F32 = 0;
const NODE_PREFIX = "kq_soft_max-";

export interface LayerAttention {
  layer: number;
  nKv: number;
  nTokens: number;
  nHead: number;
  /** [nTokens][nHead][nKv], row-major. */
  probs: Float32Array;
}

export class AttentionTap {
  /** Pass as `cb_eval` when creating the context. */
  readonly callback: unknown;
  private armed = false;
  private captured: LayerAttention[] = [];
  private error: string | undefined;

  constructor(private readonly api: LlamaApi, private readonly layers: ReadonlySet<number>) {
    this.callback = koffi.register((tensor: Pointer, ask: boolean) => this.onNode(tensor, ask), koffi.pointer(EvalCallback));
  }

  /** Capture during the next decode(s) only; everything else runs with a cheap "no". */
  arm(): void { this.armed = true; this.captured = []; this.error = undefined; }

  /** Stops capturing and returns what the armed decodes produced, by layer. */
  disarm(): LayerAttention[] {
    this.armed = false;
    if (this.error) throw new Error(`attention capture failed: ${this.error}`);
    return this.captured.sort((a, b) => a.layer - b.layer);
  }

  private layerOf(header: Buffer): number | undefined {
    const raw = header.subarray(TENSOR.name, TENSOR.name + TENSOR.nameLength);
    const end = raw.indexOf(0);
    const name = raw.toString("latin1", 0, end < 0 ? raw.length : end);
    if (!name.startsWith(NODE_PREFIX)) return undefined;
    const layer = Number(name.slice(NODE_PREFIX.length));
    return this.layers.has(layer) ? layer : undefined;
  }

  private onNode(tensor: Pointer, ask: boolean): boolean {
    if (!this.armed) return !ask; // ask: "no"; data: keep going
    try {
      // Copy the header at once: views into graph memory dangle after the node.
      const header = Buffer.from(koffi.view(tensor, TENSOR.size));
      const layer = this.layerOf(header);
      if (ask) return layer !== undefined;
      if (layer === undefined) return true;
      if (header.readInt32LE(TENSOR.type) !== GGML_TYPE_F32) throw new Error(`kq_soft_max-${layer} is not F32`);
      const ne = [0, 1, 2, 3].map((i) => Number(header.readBigInt64LE(TENSOR.ne + 8 * i)));
      const nb = [0, 1, 2, 3].map((i) => Number(header.readBigUInt64LE(TENSOR.nb + 8 * i)));
      if (ne[3] !== 1) throw new Error(`expected one KV stream (kv_unified), found ${ne[3]}`);
      const bytes = nb[3] * ne[3];
      const raw = new Float32Array(bytes / 4);
      this.api.ggml_backend_tensor_get(tensor, raw, 0, bytes); // host or device buffer alike
      const [nKv, nTokens, nHead] = ne;
      const probs = new Float32Array(nKv * nTokens * nHead);
      // Re-pack to [token][head][cell] whatever the strides.
      for (let r = 0; r < nTokens; r++) for (let h = 0; h < nHead; h++) {
        const src = (r * nb[1] + h * nb[2]) / 4;
        probs.set(raw.subarray(src, src + nKv), (r * nHead + h) * nKv);
      }
      this.captured.push({ layer, nKv, nTokens, nHead, probs });
      return true;
    } catch (e) {
      this.error = (e as Error).message;
      return true;
    }
  }

  dispose(): void { koffi.unregister(this.callback as never); }
}
