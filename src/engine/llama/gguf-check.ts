/**
 * Hyper-parameters llama.cpp asserts on (GGML_ASSERT, or a C++ exception through the C API:
 * both abort the process) instead of failing the load. Checked from the GGUF header before
 * libllama sees the file, so a hostile model is one clear message.
 */
import { GgufHeader, GgufHeaderError, GgufMetaValue, readGgufHeader } from "./gguf-header.js";
import { embeddingOnlyProblem } from "./model-support.js";

/** LLAMA_MAX_LAYERS and LLAMA_MAX_EXPERTS of the pinned llama.cpp (src/llama-hparams.h). */
export const LLAMA_MAX_LAYERS = 512;
export const LLAMA_MAX_EXPERTS = 512;

const asInt = (v: GgufMetaValue | undefined): number | undefined =>
  typeof v === "number" || typeof v === "bigint" ? Number(v) : undefined;

/** What is wrong with the GGUF file at `path` before llama.cpp may load it, or undefined. */
export function ggufFileProblem(path: string): string | undefined {
  return ggufFileVerdict(path).problem;
}

/**
 * One read of the header, two answers: `problem`, what llama.cpp would abort on (or a broken
 * header); `unsupported`, a valid model TEMPO cannot run (what follows "<file> is ...").
 */
export function ggufFileVerdict(path: string): { problem?: string; unsupported?: string } {
  let header: GgufHeader;
  try {
    header = readGgufHeader(path);
  } catch (e) {
    if (e instanceof GgufHeaderError) return { problem: e.message };
    throw e;
  }
  const problem = ggufProblem(header);
  return problem ? { problem } : { unsupported: embeddingOnlyProblem(header.metadata) };
}

/** The first problem found, as one sentence, or undefined when the header looks loadable. */
export function ggufProblem(header: GgufHeader): string | undefined {
  const { metadata: md, tensors } = header;
  const arch = md.get("general.architecture");
  if (typeof arch === "string") {
    const key = (k: string) => `${arch}.${k}`;
    const blocks = asInt(md.get(key("block_count")));
    if (blocks !== undefined && !(blocks >= 1 && blocks <= LLAMA_MAX_LAYERS)) {
      return `${key("block_count")} is ${blocks}; llama.cpp supports 1 to ${LLAMA_MAX_LAYERS} layers`;
    }
    const experts = asInt(md.get(key("expert_count"))) ?? 0;
    const used = asInt(md.get(key("expert_used_count"))) ?? 0;
    if (experts > LLAMA_MAX_EXPERTS) return `${key("expert_count")} is ${experts}; llama.cpp supports at most ${LLAMA_MAX_EXPERTS} experts`;
    if (used > 0 && experts === 0) return `${key("expert_used_count")} is ${used} but the model has no experts (${key("expert_count")} is 0 or absent)`;
    if (used > experts) return `${key("expert_used_count")} is ${used}, more than the ${experts} experts of ${key("expert_count")}`;
  }
  const vocab = vocabularyProblem(md);
  if (vocab) return vocab;
  const empty = tensors.find((t) => t.dims.some((d) => d < 1n));
  if (empty) return `tensor ${empty.name} has an empty dimension (${empty.dims.join(" x ")})`;
  return undefined;
}

function vocabularyProblem(md: GgufHeader["metadata"]): string | undefined {
  const tokens = md.get("tokenizer.ggml.tokens");
  if (!Array.isArray(tokens) || tokens.length === 0) return "the model has no vocabulary (tokenizer.ggml.tokens is empty or absent)";
  if (md.get("tokenizer.ggml.model") === "llama") {
    // An SPM tokenizer falls back to byte tokens for any character it has no piece for;
    // llama.cpp looks them up with std::map::at, which throws through the C API when absent.
    const pieces = new Set(tokens.map(String));
    for (let b = 0; b < 256; b++) {
      const name = `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;
      // (llama.cpp also tries the byte as a one-character piece: only ASCII can be one.)
      if (!pieces.has(name) && !(b < 128 && pieces.has(String.fromCharCode(b)))) {
        return `the SPM vocabulary has no byte token ${name} (an SPM vocabulary needs all 256 byte tokens)`;
      }
    }
  }
  return undefined;
}
