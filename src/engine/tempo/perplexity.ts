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
import type { TempoSession } from "../session.js";
import type { TempoModel } from "../model.js";
import { seatRunner, type SessionGroup } from "../session-group.js";
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

/** One window: the tokens it conditions on and the reference tokens it scores. */
export interface PerplexityWindow { promptTokens: number[]; reference: number[] }

/**
 * The windows a text is scored in. The first conditions on the first token (BOS when the model
 * adds one) and scores the rest of its tokens; each later one scores the next `stride` after
 * `size - stride` of context. They do not depend on each other, so they can run at once.
 */
export function perplexityWindows(model: TempoModel, text: string, contextSize: number, config: GenerationConfig, options: Pick<PerplexityOptions, "window" | "stride"> = {}): { windows: PerplexityWindow[]; scheme: Omit<WindowScheme, "count"> } {
  const all = model.promptTokens(text);
  if (all.length < 2) throw new TempoInputError("the text is too short to score (needs at least two tokens)");
  const scheme = windowScheme(contextSize, config.mode === "standard" ? 1 : config.maxWidth, options);
  const bos = model.info.addsBos ? [all[0]] : [];
  const windows: PerplexityWindow[] = [];
  for (let scored = 1; scored < all.length;) {
    const first = windows.length === 0;
    const end = first ? Math.min(scheme.size, all.length) : Math.min(scored + scheme.stride, all.length);
    const contextStart = first ? 0 : Math.max(bos.length, end - scheme.size + bos.length);
    windows.push({ promptTokens: first ? all.slice(0, 1) : [...bos, ...all.slice(contextStart, scored)], reference: all.slice(scored, end) });
    scored = end;
  }
  return { windows, scheme };
}

/**
 * Scores `text` on one session (window after window) or on a SessionGroup (up to one window per
 * seat in each decode: the same numbers within layout noise, test/unit/session-group.test.ts).
 */
export async function teacherForcedPerplexity(engine: TempoSession | SessionGroup, text: string, config: GenerationConfig, options: PerplexityOptions = {}): Promise<PerplexityResult> {
  const { contextSize, onSeat } = seatRunner(engine);
  const { windows, scheme } = perplexityWindows(engine.model, text, contextSize, config, options);
  const scoreWindow = async (seat: TempoSession, { promptTokens, reference }: PerplexityWindow, w: number) => {
    const run = await runGeneration(seat, { promptTokens, config: { ...config, maxSteps: reference.length, stopStrings: [] }, teacherTokens: reference, signal: options.signal });
    if (run.stopReason === "aborted") throw new TempoInputError("perplexity cancelled");
    if (run.steps.length < reference.length) {
      throw new TempoInputError(`the context filled after ${run.steps.length} of ${reference.length} tokens of window ${w + 1} (sets use one cell per member); use a smaller --window or --stride, or a larger --context-size`);
    }
    return { nll: run.steps.map((s) => -s.candidates[0].logprob), members: run.steps.reduce((a, s) => a + s.candidates.length, 0), cells: seat.cellsUsed, stopReason: run.stopReason };
  };
  // The first failure ends the run: windows not started yet are not scored for a caller that has given up.
  let failure: { error: unknown } | undefined;
  const scored = await Promise.all(windows.map((window, w) => onSeat(async (seat) => {
    if (failure) throw failure.error;
    try {
      return await scoreWindow(seat, window, w);
    } catch (error) {
      failure ??= { error };
      throw error;
    }
  })));
  const nll = scored.flatMap((w) => w.nll);
  const meanNll = nll.reduce((a, b) => a + b, 0) / nll.length;
  return {
    mode: config.mode, tokens: nll.length, meanNll, perplexity: Math.exp(meanNll),
    meanSetSize: scored.reduce((a, w) => a + w.members, 0) / nll.length, cells: Math.max(...scored.map((w) => w.cells)), stopReason: scored.at(-1)!.stopReason,
    windows: { ...scheme, count: windows.length },
  };
}
