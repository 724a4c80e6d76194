/**
 * Best-of-n sampling, the first matched-compute baseline of `tempo eval` (docs/eval.md): one
 * token per forward pass in standard mode, drawn from softmax(logits / temperature) cut to its
 * top-p nucleus by a seeded MT19937, so a run is reproducible. The prompt is decoded once;
 * each sample goes back to it (session.truncate) instead of decoding it again. Samples are
 * drawn until the row budget, the sample cap or a stop ends them; a sample the budget cuts is
 * kept as it stands (it is what those rows bought).
 */
import mt19937 from "@stdlib/random-base-mt19937";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { TempoSession } from "../session.js";
import { softmax } from "../tempo/distribution.js";
import { topTokens } from "../math/top-k.js";

export interface SampleOptions {
  temperature: number;
  /** Nucleus: the smallest set of most probable tokens whose probability reaches topP (1: all). */
  topP: number;
  /** Sample i (from 0) draws from MT19937 seeded with seed + i. */
  seed: number;
  /** Tokens per sample. */
  maxSteps: number;
  /** Most samples. */
  maxSamples: number;
  /** Rows the samples may decode after the prompt (Infinity: no limit); each decoded token is one row. */
  rowBudget: number;
  signal?: AbortSignal;
  /** Stop a sample once its text satisfies this (e.g. the function has ended). */
  done?: (text: string) => boolean;
}

export type SampleStop = "eog" | "done" | "max-steps" | "budget" | "context-full" | "aborted";

export interface SampledText {
  seed: number;
  tokens: number[];
  text: string;
  /** Sum of the tokens' log-probabilities under the model (softmax at temperature 1). */
  logprob: number;
  stepLogprobs: number[];
  stop: SampleStop;
}

export interface SampleRun {
  samples: SampledText[];
  /** Rows decoded after the prompt. */
  rows: number;
  /** Why no further sample was drawn. */
  stopReason: "budget" | "sample-cap" | "aborted" | "context-full";
}

const TWO_32 = 4294967296;

/** log softmax(logits)[token] at temperature 1. */
function logProbOf(logits: Float32Array, token: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return logits[token] - max - Math.log(sum);
}

/**
 * One draw from `probs` cut to its top-p nucleus, with u in [0, 1). topP = 1 walks the whole row
 * in token order; otherwise the tokens by probability (ties: lower id first), up to the first
 * whose cumulative probability reaches topP, renormalised.
 */
export function drawToken(probs: Float64Array, topP: number, u: number): number {
  if (topP >= 1) {
    let acc = 0;
    for (let t = 0; t < probs.length; t++) {
      acc += probs[t];
      if (u < acc) return t;
    }
    return lastNonZero(probs);
  }
  const order = nucleus(probs, topP);
  let mass = 0;
  for (const t of order) mass += probs[t];
  const target = u * mass;
  let acc = 0;
  for (const t of order) {
    acc += probs[t];
    if (target < acc) return t;
  }
  return order[order.length - 1];
}

/**
 * The top-p nucleus of `probs`, most probable first (ties: lower id first). The head is found
 * with a bounded top-k, widened until it holds the nucleus (a nucleus is usually a few dozen
 * tokens of a 150k vocabulary); past a few thousand tokens the row is sorted instead.
 */
export function nucleus(probs: Float64Array, topP: number): number[] {
  for (let k = 64; k <= 4096; k *= 4) {
    const top = topTokens(probs, k, Number.MIN_VALUE);
    let acc = 0;
    for (let i = 0; i < top.length; i++) {
      acc += probs[top[i]];
      if (acc >= topP) return top.slice(0, i + 1);
    }
    if (top.length < k) return top; // every token with a probability above 0, short of topP by rounding only
  }
  const ids = Array.from({ length: probs.length }, (_, i) => i).filter((i) => probs[i] > 0);
  ids.sort((a, b) => probs[b] - probs[a] || a - b);
  const out: number[] = [];
  let acc = 0;
  for (const t of ids) {
    out.push(t);
    acc += probs[t];
    if (acc >= topP) break;
  }
  return out;
}

function lastNonZero(probs: Float64Array): number {
  for (let t = probs.length - 1; t >= 0; t--) if (probs[t] > 0) return t;
  return probs.length - 1;
}

/** Draws samples from `promptTokens` until the budget, the cap or an abort ends them. */
export async function sampleCompletions(session: TempoSession, promptTokens: number[], options: SampleOptions): Promise<SampleRun> {
  const model = session.model;
  session.reset();
  const promptLogits = session.decodeSequence(promptTokens);
  const probs = new Float64Array(promptLogits.length); // one row, overwritten token after token
  const p = promptTokens.length;
  const samples: SampledText[] = [];
  let rows = 0;
  let stopReason: SampleRun["stopReason"] = "sample-cap";
  for (let s = 0; s < options.maxSamples; s++) {
    if (options.signal?.aborted) { stopReason = "aborted"; break; }
    // A sample after the first needs at least one row left: its first token is free (the
    // prompt's logits), and samples of free tokens only would never end. The first is always drawn.
    if (s > 0 && rows >= options.rowBudget) { stopReason = "budget"; break; }
    session.truncate(p);
    const seed = options.seed + s;
    const rand = mt19937.factory({ seed });
    const tokens: number[] = [], stepLogprobs: number[] = [];
    let logits = promptLogits;
    let stop: SampleStop = "max-steps";
    for (let step = 0; step < options.maxSteps; step++) {
      const token = drawToken(softmax(logits, options.temperature, probs), options.topP, rand() / TWO_32);
      if (model.isEog(token)) { stop = "eog"; break; }
      tokens.push(token);
      stepLogprobs.push(logProbOf(logits, token));
      if (options.done?.(model.pathText(tokens))) { stop = "done"; break; }
      if (step + 1 === options.maxSteps) break; // the last token's logits are never needed
      if (rows + 1 > options.rowBudget) { stop = "budget"; break; }
      if (session.cellsFree < 1) { stop = "context-full"; break; }
      await yieldToEventLoop(); // an abort can arrive between two tokens
      if (options.signal?.aborted) { stop = "aborted"; break; }
      logits = session.decodeSequence([token]);
      rows++;
    }
    samples.push({ seed, tokens, text: model.pathText(tokens), logprob: stepLogprobs.reduce((a, b) => a + b, 0), stepLogprobs, stop });
    if (stop === "aborted") { stopReason = "aborted"; break; }
    if (stop === "context-full") { stopReason = "context-full"; break; }
  }
  return { samples, rows, stopReason };
}
