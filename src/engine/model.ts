/**
 * A GGUF model opened once: weights through the C API (never twice), tokenizer through
 * node-llama-cpp (vocabOnly), every input validated before it can reach a GGML_ASSERT.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { basename } from "node:path";
import { loadRuntime, GpuChoice, LlamaRuntime } from "./llama/runtime.js";
import { ModelParamsValue, Pointer } from "./llama/c-api.js";
import { renderTokenBytes } from "./token-text.js";
import { sha256File } from "./hash.js";
import { TempoInputError } from "./errors.js";
import { ggufFileVerdict } from "./llama/gguf-check.js";
import { loadedModelProblem } from "./llama/model-support.js";

type LlamaModel = Awaited<ReturnType<LlamaRuntime["llama"]["loadModel"]>>;

export interface ModelInfo {
  path: string;
  fileName: string;
  description: string;
  nVocab: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nEmbd: number;
  nCtxTrain: number;
  addsBos: boolean;
  bos: number;
}

/** Checks the file before libllama sees it: existence, type, GGUF magic, plausible size. */
export function checkModelFile(path: string): void {
  let st;
  try { st = statSync(path); } catch { throw new TempoInputError(`model file not found: ${path}`); }
  if (st.isDirectory()) throw new TempoInputError(`model path is a directory, not a GGUF file: ${path}`);
  if (!st.isFile()) throw new TempoInputError(`model path is not a regular file: ${path}`);
  const head = Buffer.alloc(8);
  const fd = openSync(path, "r");
  try { readSync(fd, head, 0, 8, 0); } finally { closeSync(fd); }
  if (st.size < 24 || head.toString("latin1", 0, 4) !== "GGUF") throw new TempoInputError(`not a GGUF file (bad magic): ${path}`);
  const version = head.readUInt32LE(4);
  if (version < 2 || version > 3) throw new TempoInputError(`unsupported GGUF version ${version}: ${path}`);
  const { problem, unsupported } = ggufFileVerdict(path);
  if (problem) throw new TempoInputError(`${basename(path)}: ${problem}`);
  if (unsupported) throw new TempoInputError(`${basename(path)} is ${unsupported}`);
}

export class TempoModel {
  private pieceCache = new Map<number, Uint8Array>();
  private specialCache = new Map<number, string | undefined>();
  /** tokenView's answers: every step event renders its eleven tokens, mostly the same few hundred. */
  private viewCache = new Map<number, Readonly<{ text: string; special?: string }>>();
  private sha: Promise<string> | undefined;

  private constructor(
    readonly runtime: LlamaRuntime,
    readonly pointer: Pointer,
    readonly vocab: Pointer,
    readonly tokenizer: LlamaModel,
    readonly info: ModelInfo,
  ) {}

  static async open(path: string, options: { gpu?: GpuChoice } = {}): Promise<TempoModel> {
    checkModelFile(path);
    const runtime = await loadRuntime(options.gpu);
    const { api } = runtime;
    const params = api.llama_model_default_params() as ModelParamsValue;
    if (runtime.backend === "CPU") params.n_gpu_layers = 0;
    const pointer = api.llama_model_load_from_file(path, params) as Pointer | null;
    if (!pointer) throw new TempoInputError(`llama.cpp could not load ${path} (truncated or unsupported GGUF; see the log for details)`);
    try {
      // Before any context or decode: what the loaded model says it is.
      const unsupported = loadedModelProblem({
        isRecurrent: () => api.llama_model_is_recurrent(pointer) as boolean,
        isHybrid: () => api.llama_model_is_hybrid(pointer) as boolean,
        hasEncoder: () => api.llama_model_has_encoder(pointer) as boolean,
        hasDecoder: () => api.llama_model_has_decoder(pointer) as boolean,
        ropeType: () => api.llama_model_rope_type(pointer) as number,
      });
      if (unsupported) throw new TempoInputError(`${basename(path)} is ${unsupported}`);
      const vocab = api.llama_model_get_vocab(pointer) as Pointer;
      const desc = Buffer.alloc(256);
      const n = api.llama_model_desc(pointer, desc, desc.length) as number;
      const tokenizer = await runtime.llama.loadModel({ modelPath: path, vocabOnly: true });
      const info: ModelInfo = {
        path, fileName: basename(path), description: describeModel(desc.toString("utf8", 0, Math.max(0, n)), Number(api.llama_model_n_params(pointer))),
        nVocab: api.llama_vocab_n_tokens(vocab) as number,
        nLayer: api.llama_model_n_layer(pointer) as number,
        nHead: api.llama_model_n_head(pointer) as number,
        nHeadKv: api.llama_model_n_head_kv(pointer) as number,
        nEmbd: api.llama_model_n_embd(pointer) as number,
        nCtxTrain: api.llama_model_n_ctx_train(pointer) as number,
        addsBos: api.llama_vocab_get_add_bos(vocab) as boolean,
        bos: api.llama_vocab_bos(vocab) as number,
      };
      return new TempoModel(runtime, pointer, vocab, tokenizer, info);
    } catch (e) {
      api.llama_model_free(pointer);
      throw e;
    }
  }

  /** Tokens fed before step 0: BOS when the model adds one, then the prompt. */
  promptTokens(prompt: string): number[] {
    if (prompt.length === 0) throw new TempoInputError("the prompt is empty");
    const ids = Array.from(this.tokenizer.tokenize(prompt) as unknown as number[]);
    return this.info.addsBos ? [this.info.bos, ...ids] : ids;
  }

  isEog(token: number): boolean {
    return this.runtime.api.llama_vocab_is_eog(this.vocab, token) as boolean;
  }

  /** Raw bytes of a token's piece (control tokens render as nothing). */
  pieceBytes(token: number): Uint8Array {
    let bytes = this.pieceCache.get(token);
    if (!bytes) {
      bytes = this.piece(token, false);
      this.pieceCache.set(token, bytes);
    }
    return bytes;
  }

  private piece(token: number, special: boolean): Uint8Array {
    const { api } = this.runtime;
    const buf = Buffer.alloc(64);
    const n = api.llama_token_to_piece(this.vocab, token, buf, buf.length, 0, special) as number;
    if (n >= 0) return new Uint8Array(buf.subarray(0, n));
    const big = Buffer.alloc(-n);
    return new Uint8Array(big.subarray(0, api.llama_token_to_piece(this.vocab, token, big, big.length, 0, special) as number));
  }

  /**
   * Name of a special token, which has no text of its own (`<s>`, `<|im_end|>`): its piece
   * when llama.cpp is asked to render special tokens. Undefined for every token with text.
   */
  specialName(token: number): string | undefined {
    if (this.pieceBytes(token).length > 0) return undefined;
    if (!this.specialCache.has(token)) {
      const name = renderTokenBytes(this.piece(token, true));
      this.specialCache.set(token, name === "" ? undefined : name);
    }
    return this.specialCache.get(token);
  }

  /** Text and, for a special token, its name: what a step event records of a token. */
  tokenView(token: number): Readonly<{ text: string; special?: string }> {
    let view = this.viewCache.get(token);
    if (!view) {
      const special = this.specialName(token);
      view = Object.freeze(special === undefined ? { text: this.tokenText(token) } : { text: "", special });
      this.viewCache.set(token, view);
    }
    return view;
  }

  /** Display text of one token: its characters, with bytes that are not a whole character as <0xNN>. */
  tokenText(token: number): string {
    return renderTokenBytes(this.pieceBytes(token));
  }

  /** Text of a token path: multi-byte characters split across tokens come out whole. */
  pathText(tokens: number[]): string {
    return renderTokenBytes(Buffer.concat(tokens.map((t) => this.pieceBytes(t))));
  }

  /** SHA-256 of the model file (computed once): captures record it, replays check it. */
  sha256(): Promise<string> {
    this.sha ??= sha256File(this.info.path);
    return this.sha;
  }

  async dispose(): Promise<void> {
    this.runtime.api.llama_model_free(this.pointer);
    await this.tokenizer.dispose();
  }
}

/**
 * llama.cpp's description is "<arch> <size class> <file type>"; the size class is "?B" for
 * shapes it does not know (every test model, many fine-tunes) and the file type reads
 * "(guessed) F16" when the GGUF does not state it. Adds the real parameter count and says
 * plainly what was guessed: "llama 4.26M parameters F16 (file type guessed from its tensors)".
 */
export function describeModel(llamaDescription: string, parameters: number): string {
  const units: [number, string][] = [[1e9, "B"], [1e6, "M"], [1e3, "K"]];
  const [scale, unit] = units.find(([u]) => parameters >= u) ?? [1, ""];
  const count = `${Number((parameters / scale).toPrecision(3))}${unit} parameters`;
  const [arch, size, ...rest] = llamaDescription.split(" ");
  const guessed = "(guessed) ";
  let fileType = rest.join(" ");
  if (fileType.startsWith(guessed)) fileType = `${fileType.slice(guessed.length)} (file type guessed from its tensors)`;
  return [arch, size === "?B" ? count : `${size} (${count})`, fileType].filter(Boolean).join(" ");
}
