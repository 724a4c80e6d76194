/**
 * Small models offered by "TEMPO: Download Model…", one or more per family the family matrix
 * verifies on test models (docs/models.md lists them from here). No `vscode` import: the
 * matrix script reads this list outside VS Code.
 */
export interface SuggestedModel {
  uri: string;
  description: string;
  /** The test family (docs/models.md) whose architecture and tokenizer the model has. */
  family: "llama-bpe" | "qwen2" | "qwen3" | "phi3" | "gemma2" | "gemma3";
}

export const SUGGESTED_MODELS: ReadonlyArray<SuggestedModel> = [
  { uri: "hf:bartowski/SmolLM2-135M-Instruct-GGUF:Q8_0", description: "SmolLM2 135M instruct, ~145 MB", family: "llama-bpe" },
  { uri: "hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M", description: "Qwen2.5 0.5B instruct, ~400 MB", family: "qwen2" },
  { uri: "hf:Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF:Q4_K_M", description: "Qwen2.5 Coder 0.5B, ~400 MB", family: "qwen2" },
  { uri: "hf:bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", description: "Llama 3.2 1B instruct, ~800 MB", family: "llama-bpe" },
  { uri: "hf:Qwen/Qwen3-0.6B-GGUF:Q8_0", description: "Qwen3 0.6B, ~640 MB", family: "qwen3" },
  { uri: "hf:ggml-org/gemma-3-1b-it-GGUF:Q4_K_M", description: "Gemma 3 1B instruct, ~800 MB", family: "gemma3" },
  { uri: "hf:bartowski/gemma-2-2b-it-GGUF:Q4_K_M", description: "Gemma 2 2B instruct, ~1.7 GB", family: "gemma2" },
  { uri: "hf:bartowski/Phi-3.5-mini-instruct-GGUF:Q4_K_M", description: "Phi-3.5 mini instruct, ~2.4 GB", family: "phi3" },
];
