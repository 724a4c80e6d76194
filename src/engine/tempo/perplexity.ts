/**
 * Teacher-forced perplexity of a reference text: exp(mean NLL) of its tokens. In `standard`
 * mode that is ordinary perplexity; in TEMPO modes each step's set is the reference token plus
 * the tokens the threshold rule selects beside it, decoded in the mode, and the next token is
 * scored under the run's policy: how much do parallel siblings perturb the prediction?
 *
 * A text longer than one window is scored in sliding windows, as llama.cpp's perplexity tool
 * and the usual strided evaluation do: each window after the first starts afresh (BOS when the
 * model adds one), re-reads the `size - stride` tokens before its part as context, and scores
 * only its `stride` new tokens, so every token is scored once with at least that much context.
 */
import { TempoSession } from "../session.js";
import { TempoInputError } from "../errors.js";
import { GenerationConfig } from "../types.js";
import { runGeneration } from "./generate.js";

export interface WindowScheme {
  /** Tokens fed per window, BOS included. */
  size: number;
  /** Tokens newly scored by each window after the first. */
  stride: number;
  /** Windows run (1: the text fit in one). */
  count: number;
}

export interface PerplexityOptions {
  /**
   * Tokens per window, BOS included. Default: the session's context in standard mode; in TEMPO
   * modes (context - 1) / max width + 1, so that a window fits even when every step's set is as
   * wide as max width.
   */
  window?: number;
  /** Tokens scored per window after the first. Default: half the window. */
  stride?: number;
  signal?: AbortSignal;
}

export interface PerplexityResult {
  mode: GenerationConfig["mode"];
  /** Tokens scored (the text's tokens, BOS excluded). */
  tokens: number;
  meanNll: number;
  perplexity: number;
  /** Mean members per step (1 in standard mode). */
  meanSetSize: number;
  /** KV cells used: tokens fed in total, in the fullest window. */
  cells: number;
  stopReason: string;
  windows: WindowScheme;
}

/** The window scheme for a text of `tokens` tokens, with defaults and checks. */
export function windowScheme(contextSize: number, setWidth: number, options: Pick<PerplexityOptions, "window" | "stride">): Omit<WindowScheme, "count"> {
  const size = options.window ?? (setWidth > 1 ? Math.floor((contextSize - 1) / setWidth) + 1 : contextSize);
  const stride = options.stride ?? Math.floor(size / 2);
  if (!Number.isInteger(size) || size < 3 || size > contextSize) {
    throw new TempoInputError(`the window must be a whole number of tokens from 3 to the context's ${contextSize}, got ${size}`);
  }
  if (!Number.isInteger(stride) || stride < 1 || stride > size - 2) {
    throw new TempoInputError(`the stride must be a whole number from 1 to the window minus 2 (${size - 2}), got ${stride}`);
  }
  return { size, stride };
}

export async function teacherForcedPerplexity(session: TempoSession, text: string, config: GenerationConfig, options: PerplexityOptions = {}): Promise<PerplexityResult> {
  const model = session.model;
  const all = model.promptTokens(text);
  if (all.length < 2) throw new TempoInputError("the text is too short to score (needs at least two tokens)");
  const setWidth = config.mode === "standard" ? 1 : config.maxWidth;
  const { size, stride } = windowScheme(session.contextSize, setWidth, options);
  const bos = model.info.addsBos ? [all[0]] : [];
  const nll: number[] = [];
  let members = 0, cells = 0, count = 0, stopReason = "max-steps";
  // The first window conditions on the first token (BOS when the model adds one) and scores the
  // rest of its tokens; each later one scores the next `stride` after `size - stride` of context.
  for (let scored = 1; scored < all.length; count++) {
    const end = count === 0 ? Math.min(size, all.length) : Math.min(scored + stride, all.length);
    const contextStart = count === 0 ? 0 : Math.max(bos.length, end - size + bos.length);
    const promptTokens = count === 0 ? all.slice(0, 1) : [...bos, ...all.slice(contextStart, scored)];
    const reference = all.slice(scored, end);
    const run = await runGeneration(session, { promptTokens, config: { ...config, maxSteps: reference.length, stopStrings: [] }, teacherTokens: reference, signal: options.signal });
    if (run.stopReason === "aborted") throw new TempoInputError("perplexity cancelled");
    if (run.steps.length < reference.length) {
      throw new TempoInputError(`the context filled after ${run.steps.length} of ${reference.length} tokens of window ${count + 1} (sets use one cell per member); use a smaller --window or --stride, or a larger --context-size`);
    }
    for (const s of run.steps) nll.push(-s.candidates[0].logprob);
    members += run.steps.reduce((a, s) => a + s.candidates.length, 0);
    cells = Math.max(cells, session.cellsUsed);
    stopReason = run.stopReason;
    scored = end;
  }
  const meanNll = nll.reduce((a, b) => a + b, 0) / nll.length;
  return {
    mode: config.mode, tokens: nll.length, meanNll, perplexity: Math.exp(meanNll),
    meanSetSize: members / nll.length, cells, stopReason, windows: { size, stride, count },
  };
}
