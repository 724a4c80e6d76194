/**
 * The libllama C API through koffi: struct layouts for this exact build and the functions we
 * call. node-llama-cpp 3.21.1 is pinned exactly because these layouts change between releases;
 * `verifyLayouts` refuses to run against anything else.
 */
import koffi, { type LibraryHandle, type TypeObject } from "koffi";

/** The llama.cpp build whose layouts are declared below (node-llama-cpp 3.21.1). */
export const EXPECTED_LLAMA_VERSION = "0.4.0-dev";
export const EXPECTED_NODE_LLAMA_CPP = "3.21.1";

export const ModelParams = koffi.struct("tempo_llama_model_params", {
  devices: "void *",
  tensor_buft_overrides: "void *",
  n_gpu_layers: "int32_t",
  split_mode: "int32_t",
  load_mode: "int32_t",
  lazy_mode: "int32_t",
  main_gpu: "int32_t",
  tensor_split: "void *",
  progress_callback: "void *",
  progress_callback_user_data: "void *",
  kv_overrides: "void *",
  vocab_only: "bool",
  check_tensors: "bool",
  use_extra_bufts: "bool",
  no_host: "bool",
  no_alloc: "bool",
  load_mtp: "bool",
});

/** bool (*)(struct ggml_tensor * t, bool ask, void * user_data) */
export const EvalCallback = koffi.proto("bool tempo_ggml_eval_callback(void *tensor, bool ask, void *user_data)");

export const ContextParams = koffi.struct("tempo_llama_context_params", {
  n_ctx: "uint32_t",
  n_batch: "uint32_t",
  n_ubatch: "uint32_t",
  n_seq_max: "uint32_t",
  n_rs_seq: "uint32_t",
  n_outputs_max: "uint32_t",
  n_outputs_max_per_seq: "uint32_t",
  n_threads: "int32_t",
  n_threads_batch: "int32_t",
  ctx_type: "int32_t",
  rope_scaling_type: "int32_t",
  pooling_type: "int32_t",
  attention_type: "int32_t",
  flash_attn_type: "int32_t",
  rope_freq_base: "float",
  rope_freq_scale: "float",
  yarn_ext_factor: "float",
  yarn_attn_factor: "float",
  yarn_beta_fast: "float",
  yarn_beta_slow: "float",
  yarn_orig_ctx: "uint32_t",
  defrag_thold: "float",
  cb_eval: koffi.pointer(EvalCallback),
  cb_eval_user_data: "void *",
  type_k: "int32_t",
  type_v: "int32_t",
  abort_callback: "void *",
  abort_callback_data: "void *",
  embeddings: "bool",
  offload_kqv: "bool",
  no_perf: "bool",
  op_offload: "bool",
  swa_full: "bool",
  kv_unified: "bool",
  samplers: "void *",
  n_samplers: "size_t",
  ctx_other: "void *",
});

export const Batch = koffi.struct("tempo_llama_batch", {
  n_tokens: "int32_t",
  token: "void *",
  embd: "void *",
  pos: "void *",
  n_seq_id: "void *",
  seq_id: "void *",
  logits: "void *",
});

export const PerfContextData = koffi.struct("tempo_llama_perf_context_data", {
  t_start_ms: "double",
  t_load_ms: "double",
  t_p_eval_ms: "double",
  t_eval_ms: "double",
  n_p_eval: "int32_t",
  n_eval: "int32_t",
  n_reused: "int32_t",
});

/** Sizes and offsets measured on this build (docs/design/llama-cpp-facts.md). */
const EXPECTED_LAYOUT: Array<[TypeObject, string, number, Record<string, number>]> = [
  [ModelParams, "llama_model_params", 80, { n_gpu_layers: 16, load_mode: 24, tensor_split: 40, kv_overrides: 64, vocab_only: 72, load_mtp: 77 }],
  [ContextParams, "llama_context_params", 160, {
    n_threads: 28, flash_attn_type: 52, rope_freq_base: 56, yarn_orig_ctx: 80, cb_eval: 88, cb_eval_user_data: 96,
    type_k: 104, abort_callback: 112, embeddings: 128, swa_full: 132, kv_unified: 133, samplers: 136, ctx_other: 152,
  }],
  [Batch, "llama_batch", 56, { token: 8, pos: 24, seq_id: 40, logits: 48 }],
];

export interface ModelParamsValue {
  n_gpu_layers: number; vocab_only: boolean; load_mode: number; [k: string]: unknown;
}
export interface ContextParamsValue {
  n_ctx: number; n_batch: number; n_ubatch: number; n_seq_max: number; n_threads: number; n_threads_batch: number;
  flash_attn_type: number; type_k: number; type_v: number; swa_full: boolean; kv_unified: boolean; no_perf: boolean; cb_eval: unknown; cb_eval_user_data: unknown;
  [k: string]: unknown;
}
export interface BatchValue {
  n_tokens: number; token: unknown; embd: unknown; pos: unknown; n_seq_id: unknown; seq_id: unknown; logits: unknown;
}

/** Opaque native handles. */
export type Pointer = object;

export function bindLlamaApi(lib: LibraryHandle, ggmlBase: LibraryHandle) {
  const f = lib.func.bind(lib);
  return {
    llama_version: f("const char *llama_version(void)"),
    llama_model_default_params: f("llama_model_default_params", ModelParams, []),
    llama_context_default_params: f("llama_context_default_params", ContextParams, []),
    llama_model_load_from_file: f("llama_model_load_from_file", "void *", ["const char *", ModelParams]),
    llama_model_free: f("void llama_model_free(void *model)"),
    llama_init_from_model: f("llama_init_from_model", "void *", ["void *", ContextParams]),
    llama_free: f("void llama_free(void *ctx)"),
    llama_model_get_vocab: f("void *llama_model_get_vocab(void *model)"),
    llama_model_n_layer: f("int32_t llama_model_n_layer(void *model)"),
    llama_model_n_head: f("int32_t llama_model_n_head(void *model)"),
    llama_model_n_head_kv: f("int32_t llama_model_n_head_kv(void *model)"),
    llama_model_n_embd: f("int32_t llama_model_n_embd(void *model)"),
    llama_model_n_ctx_train: f("int32_t llama_model_n_ctx_train(void *model)"),
    llama_model_is_recurrent: f("bool llama_model_is_recurrent(void *model)"),
    llama_model_is_hybrid: f("bool llama_model_is_hybrid(void *model)"),
    llama_model_has_encoder: f("bool llama_model_has_encoder(void *model)"),
    llama_model_has_decoder: f("bool llama_model_has_decoder(void *model)"),
    /** enum llama_rope_type: -1 none, 0 norm, 2 NeoX, 8 M-RoPE, 24 vision, 40 interleaved M-RoPE. */
    llama_model_rope_type: f("int32_t llama_model_rope_type(void *model)"),
    llama_model_desc: f("int32_t llama_model_desc(void *model, _Out_ uint8_t *buf, size_t buf_size)"),
    llama_model_n_params: f("uint64_t llama_model_n_params(void *model)"),
    llama_vocab_n_tokens: f("int32_t llama_vocab_n_tokens(void *vocab)"),
    llama_vocab_is_eog: f("bool llama_vocab_is_eog(void *vocab, int32_t token)"),
    llama_vocab_bos: f("int32_t llama_vocab_bos(void *vocab)"),
    llama_vocab_get_add_bos: f("bool llama_vocab_get_add_bos(void *vocab)"),
    llama_token_to_piece: f("int32_t llama_token_to_piece(void *vocab, int32_t token, _Out_ uint8_t *buf, int32_t length, int32_t lstrip, bool special)"),
    llama_n_ctx: f("uint32_t llama_n_ctx(void *ctx)"),
    llama_n_batch: f("uint32_t llama_n_batch(void *ctx)"),
    llama_n_ubatch: f("uint32_t llama_n_ubatch(void *ctx)"),
    llama_n_threads: f("int32_t llama_n_threads(void *ctx)"),
    llama_set_n_threads: f("void llama_set_n_threads(void *ctx, int32_t n_threads, int32_t n_threads_batch)"),
    llama_get_memory: f("void *llama_get_memory(void *ctx)"),
    llama_memory_clear: f("void llama_memory_clear(void *mem, bool data)"),
    llama_memory_seq_cp: f("void llama_memory_seq_cp(void *mem, int32_t src, int32_t dst, int32_t p0, int32_t p1)"),
    llama_memory_seq_rm: f("bool llama_memory_seq_rm(void *mem, int32_t seq_id, int32_t p0, int32_t p1)"),
    llama_batch_init: f("llama_batch_init", Batch, ["int32_t", "int32_t", "int32_t"]),
    llama_batch_free: f("llama_batch_free", "void", [Batch]),
    llama_decode: f("llama_decode", "int32_t", ["void *", Batch]),
    llama_get_logits_ith: f("float *llama_get_logits_ith(void *ctx, int32_t i)"),
    llama_perf_context: f("llama_perf_context", PerfContextData, ["void *"]),
    ggml_backend_tensor_get: ggmlBase.func("void ggml_backend_tensor_get(void *tensor, _Out_ void *data, size_t offset, size_t size)"),
  };
}
export type LlamaApi = ReturnType<typeof bindLlamaApi>;

export class LibraryMismatchError extends Error {}

/**
 * Refuses to run when the loaded library is not the build these layouts describe: a wrong
 * layout corrupts parameters silently instead of failing.
 */
export function verifyLayouts(api: LlamaApi, nodeLlamaCppVersion: string): void {
  const problems: string[] = [];
  const version = api.llama_version() as string;
  if (nodeLlamaCppVersion !== EXPECTED_NODE_LLAMA_CPP) problems.push(`node-llama-cpp ${nodeLlamaCppVersion} (expected ${EXPECTED_NODE_LLAMA_CPP})`);
  if (version !== EXPECTED_LLAMA_VERSION) problems.push(`llama_version() "${version}" (expected "${EXPECTED_LLAMA_VERSION}")`);
  for (const [type, name, size, offsets] of EXPECTED_LAYOUT) {
    if (koffi.sizeof(type) !== size) problems.push(`sizeof(${name}) = ${koffi.sizeof(type)} (expected ${size})`);
    for (const [field, off] of Object.entries(offsets)) {
      const found = koffi.offsetof(type, field);
      if (found !== off) problems.push(`offsetof(${name}.${field}) = ${found} (expected ${off})`);
    }
  }
  const c = api.llama_context_default_params() as ContextParamsValue;
  const expectC: Partial<ContextParamsValue> = { n_ctx: 512, n_batch: 2048, n_ubatch: 512, n_seq_max: 1, flash_attn_type: -1, kv_unified: false };
  for (const [k, v] of Object.entries(expectC)) if (c[k] !== v) problems.push(`llama_context_default_params().${k} = ${c[k]} (expected ${v})`);
  const m = api.llama_model_default_params() as ModelParamsValue;
  if (m.vocab_only !== false) problems.push(`llama_model_default_params().vocab_only = ${m.vocab_only} (expected false)`);
  if (problems.length) {
    throw new LibraryMismatchError(
      `TEMPO's llama.cpp binding was built for node-llama-cpp ${EXPECTED_NODE_LLAMA_CPP} / llama.cpp ${EXPECTED_LLAMA_VERSION}, ` +
      `but found node-llama-cpp ${nodeLlamaCppVersion} / llama.cpp "${version}": ${problems.join("; ")}. ` +
      `Reinstall with the pinned version (npm ci).`,
    );
  }
}
