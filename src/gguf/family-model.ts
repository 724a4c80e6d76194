/**
 * Small models of the real architecture families (llama, qwen2, qwen3, phi3, gemma2, gemma3)
 * as GGUF metadata + tensor lists for `writeGguf`. The lists follow the pinned llama.cpp's
 * load_arch_tensors for each family (src/models/<arch>.cpp); llama.cpp's file loader checks
 * every name, every shape and the exact tensor count when the file is opened, so a wrong list
 * fails the load instead of passing unnoticed.
 *
 * Why not llama.cpp's own `llama_model_init_from_user` + `llama_model_save_to_file`: in the
 * pinned build (node-llama-cpp 3.21.1, llama.cpp v0.4.0) init-from-user requires the metadata
 * context to already hold as many tensor infos as the architecture creates
 * (done_getting_tensors: "too many tensors created; expected 0, got 20" for a 2-layer llama),
 * so it cannot tell us a tensor list it is not given; it creates every optional tensor with
 * valid dimensions (biases, rope factors, an untied output) and never a fused QKV; and the
 * saver writes only what it regenerates from the loaded hyper-parameters, without the
 * sliding-window pattern, the chat template or the end-of-generation tokens.
 */
import { GgmlType, GgufTensor, GgufValue, GgufValueType, writeGguf } from "./writer.js";

export type ArchFamily = "llama" | "qwen2" | "qwen3" | "phi3" | "gemma2" | "gemma3";

export interface FamilyHyperParams {
  arch: ArchFamily;
  name: string;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  nHeadKv: number;
  /** Per-head width; qwen3 and gemma may have nHead × headDim ≠ nEmbd. Default nEmbd / nHead. */
  headDim?: number;
  nFf: number;
  nCtxTrain: number;
  ropeFreqBase?: number;
  rmsEps?: number;
  /** No output.weight: llama.cpp reuses token_embd (always so for gemma2/gemma3). */
  tiedOutput?: boolean;
  /** gemma2/gemma3: window of the sliding-window layers, in positions. */
  slidingWindow?: number;
  /** gemma2/gemma3: every swaPattern-th layer is full attention, the others sliding. */
  swaPattern?: number;
  /** gemma3: RoPE base of the sliding-window layers. */
  ropeFreqBaseSwa?: number;
  /** gemma2: tanh soft-capping of attention scores and of the final logits. */
  attnSoftcap?: number;
  finalSoftcap?: number;
}

/** What a tensor is, so weights can be drawn for it (a norm is ones, a bias small, ...). */
export type TensorRole =
  | "token_embd" | "output" | "norm" | "head_norm" | "q" | "k" | "v" | "qkv" | "q_bias" | "k_bias" | "v_bias"
  | "attn_output" | "ffn_gate" | "ffn_up" | "ffn_gate_up" | "ffn_down";

export interface TensorSpec {
  name: string;
  /** ggml order: ne[0] (the input dimension of a matrix) first. */
  shape: number[];
  role: TensorRole;
  /** Index of the layer, or -1 for the embeddings and the head. */
  layer: number;
}

const HAS_QKV_BIAS = new Set<ArchFamily>(["qwen2"]);
const HAS_QK_NORM = new Set<ArchFamily>(["qwen3", "gemma3"]);
const HAS_POST_NORMS = new Set<ArchFamily>(["gemma2", "gemma3"]);
const ALWAYS_TIED = new Set<ArchFamily>(["gemma2", "gemma3"]);

export function headDimOf(hp: FamilyHyperParams): number {
  const d = hp.headDim ?? hp.nEmbd / hp.nHead;
  if (!Number.isInteger(d) || hp.nHead % hp.nHeadKv !== 0) throw new Error(`${hp.name}: head width must be an integer and nHead divisible by nHeadKv`);
  return d;
}

/** The tensors llama.cpp's loader creates for this family (src/models/<arch>.cpp), in file order. */
export function familyTensors(hp: FamilyHyperParams, nVocab: number): TensorSpec[] {
  const { arch, nEmbd: e, nFf: f } = hp;
  const d = headDimOf(hp);
  const q = hp.nHead * d;
  const kv = hp.nHeadKv * d;
  const specs: TensorSpec[] = [
    { name: "token_embd.weight", shape: [e, nVocab], role: "token_embd", layer: -1 },
    { name: "output_norm.weight", shape: [e], role: "norm", layer: -1 },
  ];
  if (!hp.tiedOutput && !ALWAYS_TIED.has(arch)) specs.push({ name: "output.weight", shape: [e, nVocab], role: "output", layer: -1 });
  for (let i = 0; i < hp.nLayer; i++) {
    const t = (suffix: string, shape: number[], role: TensorRole) => specs.push({ name: `blk.${i}.${suffix}`, shape, role, layer: i });
    t("attn_norm.weight", [e], "norm");
    if (arch === "phi3") {
      t("attn_qkv.weight", [e, q + 2 * kv], "qkv");
    } else {
      t("attn_q.weight", [e, q], "q");
      t("attn_k.weight", [e, kv], "k");
      t("attn_v.weight", [e, kv], "v");
    }
    if (HAS_QKV_BIAS.has(arch)) {
      t("attn_q.bias", [q], "q_bias");
      t("attn_k.bias", [kv], "k_bias");
      t("attn_v.bias", [kv], "v_bias");
    }
    if (HAS_QK_NORM.has(arch)) {
      t("attn_q_norm.weight", [d], "head_norm");
      t("attn_k_norm.weight", [d], "head_norm");
    }
    t("attn_output.weight", [q, e], "attn_output");
    if (HAS_POST_NORMS.has(arch)) t("post_attention_norm.weight", [e], "norm");
    t("ffn_norm.weight", [e], "norm");
    if (arch === "phi3") {
      t("ffn_up.weight", [e, 2 * f], "ffn_gate_up"); // gate rows first, then up (llama.cpp splits it in half)
    } else {
      t("ffn_gate.weight", [e, f], "ffn_gate");
      t("ffn_up.weight", [e, f], "ffn_up");
    }
    t("ffn_down.weight", [f, e], "ffn_down");
    if (HAS_POST_NORMS.has(arch)) t("post_ffw_norm.weight", [e], "norm");
  }
  return specs;
}

const u32 = (value: number): GgufValue => ({ type: GgufValueType.UINT32, value });
const f32 = (value: number): GgufValue => ({ type: GgufValueType.FLOAT32, value });

/** The architecture's hyper-parameter keys as llama.cpp reads them (src/llama-arch.cpp names). */
export function familyMetadata(hp: FamilyHyperParams, nVocab: number): Record<string, GgufValue> {
  const a = hp.arch;
  const d = headDimOf(hp);
  const md: Record<string, GgufValue> = {
    "general.architecture": { type: GgufValueType.STRING, value: a },
    "general.name": { type: GgufValueType.STRING, value: hp.name },
    "general.alignment": u32(32),
    [`${a}.context_length`]: u32(hp.nCtxTrain),
    [`${a}.embedding_length`]: u32(hp.nEmbd),
    [`${a}.block_count`]: u32(hp.nLayer),
    [`${a}.feed_forward_length`]: u32(hp.nFf),
    [`${a}.attention.head_count`]: u32(hp.nHead),
    [`${a}.attention.head_count_kv`]: u32(hp.nHeadKv),
    [`${a}.attention.key_length`]: u32(d),
    [`${a}.attention.value_length`]: u32(d),
    [`${a}.rope.dimension_count`]: u32(d),
    [`${a}.rope.freq_base`]: f32(hp.ropeFreqBase ?? 10000),
    [`${a}.attention.layer_norm_rms_epsilon`]: f32(hp.rmsEps ?? 1e-6),
    [`${a}.vocab_size`]: u32(nVocab),
  };
  if (hp.slidingWindow !== undefined) md[`${a}.attention.sliding_window`] = u32(hp.slidingWindow);
  if (hp.swaPattern !== undefined) md[`${a}.attention.sliding_window_pattern`] = u32(hp.swaPattern);
  if (hp.ropeFreqBaseSwa !== undefined) md[`${a}.rope.freq_base_swa`] = f32(hp.ropeFreqBaseSwa);
  if (hp.attnSoftcap !== undefined) md[`${a}.attn_logit_softcapping`] = f32(hp.attnSoftcap);
  if (hp.finalSoftcap !== undefined) md[`${a}.final_logit_softcapping`] = f32(hp.finalSoftcap);
  return md;
}

/**
 * Writes a family model: `vocabulary` holds the tokenizer.* keys (its tokenizer.ggml.tokens
 * fixes n_vocab), `weightsFor` draws each tensor's values. Matrices are stored as
 * `matrixType`, vectors (norms, biases) as F32, as llama.cpp's converters do.
 */
export function writeFamilyGguf(
  path: string,
  hp: FamilyHyperParams,
  vocabulary: Record<string, GgufValue>,
  weightsFor: (spec: TensorSpec) => Float32Array,
  matrixType: GgmlType = GgmlType.F16,
  extraMetadata: Record<string, GgufValue> = {},
): void {
  const tokens = vocabulary["tokenizer.ggml.tokens"];
  if (!tokens || tokens.type !== GgufValueType.ARRAY) throw new Error("the vocabulary needs tokenizer.ggml.tokens");
  const nVocab = tokens.value.length;
  const tensors: GgufTensor[] = familyTensors(hp, nVocab).map((spec) => ({
    name: spec.name, shape: spec.shape, data: weightsFor(spec), type: spec.shape.length > 1 ? matrixType : GgmlType.F32,
  }));
  writeGguf(path, { ...familyMetadata(hp, nVocab), ...vocabulary, ...extraMetadata }, tensors);
}
