/**
 * llama.cpp's own quantiser (`llama_model_quantize`, what `llama-quantize` runs) through koffi,
 * on the libllama node-llama-cpp loaded: quantised files are made by the same code that makes
 * the files users download, never by a quantiser of ours.
 */
import koffi from "koffi";
import { LlamaRuntime } from "./runtime.js";

/** llama_model_quantize_params of the pinned build (include/llama.h). */
export const QuantizeParams = koffi.struct("tempo_llama_model_quantize_params", {
  nthread: "int32_t",
  ftype: "int32_t",
  output_tensor_type: "int32_t",
  token_embedding_type: "int32_t",
  allow_requantize: "bool",
  quantize_output_tensor: "bool",
  only_copy: "bool",
  pure: "bool",
  keep_split: "bool",
  dry_run: "bool",
  imatrix: "void *",
  kv_overrides: "void *",
  tt_overrides: "void *",
  prune_layers: "void *",
  max_buf_size: "size_t",
});

/** llama_ftype values (include/llama.h) of the file types TEMPO's tests make. */
export const LLAMA_FTYPE = { ALL_F32: 0, MOSTLY_F16: 1, MOSTLY_Q8_0: 7, MOSTLY_Q4_K_M: 15 } as const;
export type QuantFtype = keyof typeof LLAMA_FTYPE;

interface QuantizeParamsValue { nthread: number; ftype: number; [k: string]: unknown }

let bound: { defaults: () => QuantizeParamsValue; quantize: (i: string, o: string, p: QuantizeParamsValue) => number } | undefined;

function bind(runtime: LlamaRuntime) {
  const lib = koffi.load(runtime.versions.libllamaPath);
  const defaults = lib.func("llama_model_quantize_default_params", QuantizeParams, []);
  const quantize = lib.func("llama_model_quantize", "uint32_t", ["const char *", "const char *", koffi.pointer(QuantizeParams)]);
  // A wrong layout would hand llama.cpp garbage flags: check it against this build's defaults.
  const problems: string[] = [];
  if (koffi.sizeof(QuantizeParams) !== 64) problems.push(`sizeof = ${koffi.sizeof(QuantizeParams)} (expected 64)`);
  if (koffi.offsetof(QuantizeParams, "imatrix") !== 24 || koffi.offsetof(QuantizeParams, "max_buf_size") !== 56) problems.push("field offsets differ");
  const d = defaults() as QuantizeParamsValue;
  const GGML_TYPE_COUNT = 43;
  if (d.ftype !== LLAMA_FTYPE.MOSTLY_Q8_0 || d.output_tensor_type !== GGML_TYPE_COUNT || d.quantize_output_tensor !== true || d.dry_run !== false) {
    problems.push(`default params ${JSON.stringify({ ftype: d.ftype, output_tensor_type: d.output_tensor_type, quantize_output_tensor: d.quantize_output_tensor })}`);
  }
  if (problems.length) throw new Error(`llama_model_quantize_params does not match this libllama: ${problems.join("; ")}`);
  return { defaults: () => defaults() as QuantizeParamsValue, quantize: (i: string, o: string, p: QuantizeParamsValue) => quantize(i, o, p) as number };
}

/**
 * Quantises the GGUF at `input` to `output` as `llama-quantize input output <ftype>` would
 * (default mixture for the type: e.g. Q4_K_M keeps some tensors at Q6_K). Synchronous; tiny
 * test models take milliseconds. Throws when llama.cpp reports failure (its log says why).
 */
export function quantizeModel(runtime: LlamaRuntime, input: string, output: string, ftype: QuantFtype, threads = 1): void {
  bound ??= bind(runtime);
  const params = bound.defaults();
  params.ftype = LLAMA_FTYPE[ftype];
  params.nthread = threads;
  const rc = bound.quantize(input, output, params);
  if (rc !== 0) throw new Error(`llama_model_quantize(${input} -> ${ftype}) failed with ${rc} (see llama.cpp's log)`);
}
