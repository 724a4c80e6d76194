/**
 * One TEMPO run turned into completions: every path through its parallel sets (best first, the
 * primary path first of all), each cut at the end of the function or block being completed.
 * The offline experiment (runner.ts) scores these paths; live inline completions offer the
 * distinct ones as alternatives.
 */
import { performance } from "node:perf_hooks";
import type { TempoSession } from "../session.js";
import { runGeneration } from "../tempo/generate.js";
import type { GenerationConfig, StepEvent, StopReason } from "../types.js";
import { truncateCompletion, type TruncationTarget, type Truncation } from "./completion.js";
import { countPaths, tokensCovering, topPaths } from "./paths.js";

export interface TruncatedPath {
  tokens: number[];
  /** Sum of the chosen members' log-probabilities over the whole path. */
  logprob: number;
  stepLogprobs: number[];
  truncation: Truncation;
  /** Sum of the log-probabilities of the tokens the truncated completion uses. */
  scoredLogprob: number;
}

export interface GeneratedPaths {
  stopReason: StopReason | "function-end";
  steps: number;
  /** Tokens decoded in sets (the width summed over steps). */
  setTokens: number;
  forwardPasses: number;
  evaluatedTokens: number;
  generateMs: number;
  /** Paths through all sets (product of the set sizes). */
  totalPaths: number;
  /** Paths best first (at most the cap); the first is the primary path. */
  paths: TruncatedPath[];
}

/** The `pathCap` most likely paths through `steps`, each truncated for `target`. */
export function truncatedPaths(steps: readonly StepEvent[], target: TruncationTarget, pathCap: number, pathText: (tokens: number[]) => string): TruncatedPath[] {
  return topPaths(steps, pathCap).map((p) => {
    const truncation = truncateCompletion(target, pathText(p.tokens));
    const stepLogprobs = p.choice.map((j, i) => steps[i].candidates[j].logprob);
    const used = tokensCovering(p.tokens, truncation.used, pathText);
    return { tokens: p.tokens, logprob: p.logprob, stepLogprobs, truncation, scoredLogprob: stepLogprobs.slice(0, used).reduce((a, b) => a + b, 0) };
  });
}

/**
 * One generation from `target.prompt`; stops once the primary path has closed the function.
 * Null when aborted through `signal`.
 */
export async function generateCompletionPaths(
  session: TempoSession, target: TruncationTarget, config: GenerationConfig, pathCap: number, signal?: AbortSignal,
): Promise<GeneratedPaths | null> {
  const model = session.model;
  const promptTokens = model.promptTokens(target.prompt);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  if (signal?.aborted) return null;
  signal?.addEventListener("abort", onAbort, { once: true });
  const passes0 = session.decodeCount, tokens0 = session.evaluatedTokens;
  const t0 = performance.now();
  const primary: number[] = [];
  let functionEnded = false;
  let result;
  try {
    result = await runGeneration(session, { promptTokens, config, signal: stop.signal }, (e) => {
      primary.push(e.candidates[0].token);
      if (truncateCompletion(target, model.pathText(primary)).closed) {
        functionEnded = true;
        stop.abort();
      }
    });
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (signal?.aborted) return null;
  return {
    stopReason: functionEnded ? "function-end" : result.stopReason,
    steps: result.steps.length,
    setTokens: result.steps.reduce((a, s) => a + s.candidates.length, 0),
    forwardPasses: session.decodeCount - passes0,
    evaluatedTokens: session.evaluatedTokens - tokens0,
    generateMs: performance.now() - t0,
    totalPaths: countPaths(result.steps),
    paths: truncatedPaths(result.steps, target, pathCap, (t) => model.pathText(t)),
  };
}

export interface CompletionAlternative {
  /** The completion as it goes into the editor: up to the closing brace, without the newline the harness adds. */
  text: string;
  /** Whether the function (block) was seen to end. */
  closed: boolean;
  /** Log-probability of the tokens this text uses (scoredLogprob of its best path). */
  logprob: number;
  /** Index in the path list (0 = the primary path) of the best path giving this text. */
  path: number;
}

/**
 * The distinct completions of a run's paths, in path order (the primary path's first), blank
 * ones left out, at most `max`.
 */
export function distinctAlternatives(paths: readonly TruncatedPath[], max: number): CompletionAlternative[] {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`distinctAlternatives: max must be a positive integer, got ${max}`);
  const seen = new Set<string>();
  const out: CompletionAlternative[] = [];
  for (const [i, p] of paths.entries()) {
    const t = p.truncation;
    const text = t.closed ? t.text.replace(/\n$/, "") : t.text;
    if (text.trim() === "" || seen.has(text)) continue;
    seen.add(text);
    out.push({ text, closed: t.closed, logprob: p.scoredLogprob, path: i });
    if (out.length === max) break;
  }
  return out;
}
