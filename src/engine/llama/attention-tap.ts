/**
 * Captures attention probabilities in the forward pass that contains a parallel set, through
 * llama.cpp's eval callback. The graph node `kq_soft_max-<layer>` (only present with flash
 * attention OFF) holds F32 [n_kv, n_tokens, n_head, n_stream]: columns are KV CELLS (padded,
 * masked cells exactly 0), rows are the ubatch's tokens in batch order.
 *
 * Cost (docs/benchmarks.md, bench/attention-capture.ts): the scheduler asks the callback about
 * EVERY graph node (hundreds per decode), one call into JavaScript each, and splits the graph
 * and synchronises after each node it accepts. So the "ask" answer reads four bytes of the
 * node's name in place (koffi.decode at an offset; a koffi.view of the header costs ~20x more)
 * and decides from a per-name cache; the data is copied once, straight into its final array.
 */
import koffi from "koffi";
import { EvalCallback, LlamaApi, Pointer } from "./c-api.js";

/** Byte offsets in `struct ggml_tensor` for this build (docs/design/llama-cpp-facts.md). */
const TENSOR = { type: 0, ne: 16, nb: 48, name: 256, nameLength: 64 } as const;
const GGML_TYPE_F32 = 0;
const NODE_PREFIX = "kq_soft_max-";
/** The name's first four bytes, "kq_s", as one little-endian uint32: most nodes fail this. */
const PREFIX_WORD = Buffer.from(NODE_PREFIX, "latin1").readUInt32LE(0);

export interface LayerAttention {
  layer: number;
  nKv: number;
  nTokens: number;
  nHead: number;
  /** [nHead][nTokens][nKv], row-major: ggml's own layout of the node. */
  probs: Float32Array;
}

export class AttentionTap {
  /** Pass as `cb_eval` when creating the context. */
  readonly callback: unknown;
  private armed = false;
  private captured: LayerAttention[] = [];
  private error: string | undefined;
  /** Node name -> captured layer (or undefined: not captured). Names repeat every decode. */
  private readonly decisions = new Map<string, number | undefined>();

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

  /** The captured layer this node is, if any (graph memory read in place: nothing copied). */
  private layerOf(tensor: Pointer): number | undefined {
    if ((koffi.decode(tensor, TENSOR.name, "uint32") as number) !== PREFIX_WORD) return undefined;
    const name = koffi.decode(tensor, TENSOR.name, "char", TENSOR.nameLength) as string;
    if (this.decisions.has(name)) return this.decisions.get(name);
    const tail = name.slice(NODE_PREFIX.length);
    const layer = name.startsWith(NODE_PREFIX) && /^\d+$/.test(tail) && this.layers.has(Number(tail)) ? Number(tail) : undefined;
    this.decisions.set(name, layer);
    return layer;
  }

  private onNode(tensor: Pointer, ask: boolean): boolean {
    if (!this.armed) return !ask; // ask: "no"; data: keep going
    try {
      const layer = this.layerOf(tensor);
      if (ask) return layer !== undefined;
      if (layer === undefined) return true;
      if ((koffi.decode(tensor, TENSOR.type, "int32") as number) !== GGML_TYPE_F32) throw new Error(`kq_soft_max-${layer} is not F32`);
      const ne = [0, 1, 2, 3].map((i) => Number(koffi.decode(tensor, TENSOR.ne + 8 * i, "int64")));
      const nb = [0, 1, 2, 3].map((i) => Number(koffi.decode(tensor, TENSOR.nb + 8 * i, "uint64")));
      if (ne[3] !== 1) throw new Error(`expected one KV stream (kv_unified), found ${ne[3]}`);
      const [nKv, nTokens, nHead] = ne;
      const probs = new Float32Array(nKv * nTokens * nHead);
      if (nb[0] === 4 && nb[1] === 4 * nKv && nb[2] === nb[1] * nTokens) {
        // Contiguous (the usual case): already [head][token][cell]; one copy into place.
        this.api.ggml_backend_tensor_get(tensor, probs, 0, probs.byteLength); // host or device buffer alike
      } else {
        const raw = new Float32Array(nb[3] / 4); // the whole node, whatever its strides
        this.api.ggml_backend_tensor_get(tensor, raw, 0, raw.byteLength);
        for (let h = 0; h < nHead; h++) for (let r = 0; r < nTokens; r++) {
          const src = (h * nb[2] + r * nb[1]) / 4;
          probs.set(raw.subarray(src, src + nKv), (h * nTokens + r) * nKv);
        }
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
