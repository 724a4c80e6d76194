/**
 * What TEMPO cannot run, refused before any context or decode, in one line each. TEMPO puts
 * several tokens at ONE position of ONE causal decoder and reads next-token logits for each:
 *
 * - recurrent and hybrid models keep one state per sequence, not one KV cell per token;
 * - multi-axis-position models (M-RoPE: Qwen2-VL, Qwen3-VL, ...) take several position
 *   coordinates per token, while TEMPO hands each token one;
 * - encoder-decoder models (T5) need llama_encode first and decode against its output;
 * - embedding-only models (BERT, nomic-bert, T5 encoders, ...) have no next-token head and
 *   most attend both ways, so a set member would see tokens after it.
 *
 * The loaded model's own answers (llama_model_is_recurrent/_is_hybrid, _has_encoder,
 * _has_decoder, _rope_type) decide where the C API can tell; embedding-only models are told
 * from the GGUF header (pooling type, causal flag), since no C API call reports them on a model.
 */
import { GgufMetaValue } from "./gguf-header.js";

/** llama_rope_type values (include/llama.h, from ggml.h's GGML_ROPE_TYPE_*) that take several position axes. */
export const MULTI_AXIS_ROPE_TYPES: Readonly<Record<number, string>> = { 8: "M-RoPE", 24: "vision RoPE", 40: "interleaved M-RoPE" };

/** llama_pooling_type (include/llama.h): 0 is NONE; -1 UNSPECIFIED. */
const POOLING_NAMES: Readonly<Record<number, string>> = { 1: "mean", 2: "CLS", 3: "last", 4: "rank" };

/**
 * Architectures of the pinned llama.cpp whose graph ends in embeddings, not logits (their
 * GGUFs normally also carry a pooling type; this catches files that do not).
 */
export const EMBEDDING_ARCHITECTURES: ReadonlySet<string> = new Set([
  "bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3", "neo-bert", "modern-bert", "eurobert", "t5encoder", "gemma-embedding",
]);

export interface LoadedModelQueries {
  isRecurrent(): boolean;
  isHybrid(): boolean;
  hasEncoder(): boolean;
  hasDecoder(): boolean;
  ropeType(): number;
}

/** Why the loaded model cannot run under TEMPO (what follows "<file> is ..."), or undefined. */
export function loadedModelProblem(q: LoadedModelQueries): string | undefined {
  if (q.isRecurrent() || q.isHybrid()) {
    return "a recurrent/hybrid model: it cannot hold several tokens at one position, so TEMPO cannot run it";
  }
  if (!q.hasDecoder()) return "an encoder-only model (no decoder, no next-token logits), so TEMPO cannot run it";
  if (q.hasEncoder()) return "an encoder-decoder model (it needs llama_encode before every decode), so TEMPO cannot run it";
  const axes = MULTI_AXIS_ROPE_TYPES[q.ropeType()];
  if (axes) return `a multi-axis-position model (${axes}: several position coordinates per token; TEMPO gives each token one), so TEMPO cannot run it`;
  return undefined;
}

const asInt = (v: GgufMetaValue | undefined): number | undefined =>
  typeof v === "number" || typeof v === "bigint" ? Number(v) : undefined;

/** From the GGUF header: why the model is embedding-only (what follows "<file> is ..."), or undefined. */
export function embeddingOnlyProblem(md: ReadonlyMap<string, GgufMetaValue>): string | undefined {
  const arch = md.get("general.architecture");
  if (typeof arch !== "string") return undefined;
  const pooling = asInt(md.get(`${arch}.pooling_type`));
  const tail = "it outputs embeddings, not next-token logits, so TEMPO cannot run it";
  if (pooling !== undefined && POOLING_NAMES[pooling]) return `an embedding model (${arch}.pooling_type ${POOLING_NAMES[pooling]}): ${tail}`;
  if (EMBEDDING_ARCHITECTURES.has(arch)) return `an embedding model (architecture ${arch}): ${tail}`;
  if (md.get(`${arch}.attention.causal`) === false) {
    return `a non-causal model (${arch}.attention.causal is false: every token sees the tokens after it), so TEMPO cannot run it`;
  }
  return undefined;
}
