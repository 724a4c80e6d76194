/**
 * Repeated standard sampling, the baseline for pass@k at matched compute: one token per
 * forward pass, drawn from the softmax at a temperature by a seeded MT19937, so a run is
 * reproducible. The engine's generator is greedy or set-based, so this drives the session
 * directly with the same calls generate() makes for a one-member set.
 */
import mt19937 from "@stdlib/random-base-mt19937";
import type { TempoSession } from "../session.js";
import { softmax } from "../tempo/distribution.js";

export interface SampleOptions {
  temperature: number;
  maxSteps: number;
  seed: number;
  signal?: AbortSignal;
  /** Stop once the text so far satisfies this (e.g. the function has ended). */
  done?: (text: string) => boolean;
}

export interface SampledText {
  tokens: number[];
  text: string;
  logprob: number;
}

/** Draws `count` samples; sample i uses seed `seed + i`. */
export function sampleCompletions(session: TempoSession, promptTokens: number[], count: number, options: SampleOptions): SampledText[] {
  const out: SampledText[] = [];
  for (let s = 0; s < count && !options.signal?.aborted; s++) out.push(sampleOne(session, promptTokens, { ...options, seed: options.seed + s }));
  return out;
}

function sampleOne(session: TempoSession, promptTokens: number[], options: SampleOptions): SampledText {
  const model = session.model;
  const rand = mt19937.factory({ seed: options.seed });
  session.reset();
  let probs = softmax(session.decodeSequence(promptTokens), options.temperature);
  const tokens: number[] = [];
  let logprob = 0;
  for (let step = 0; step < options.maxSteps && !options.signal?.aborted; step++) {
    const u = rand() / 4294967296;
    let token = probs.length - 1;
    let acc = 0;
    for (let t = 0; t < probs.length; t++) {
      acc += probs[t];
      if (u < acc) { token = t; break; }
    }
    if (model.isEog(token) || session.cellsFree < 1) break;
    tokens.push(token);
    logprob += Math.log(probs[token]);
    if (options.done?.(model.pathText(tokens))) break;
    probs = softmax(session.decodeSet([token], "standard", step)[0], options.temperature);
  }
  return { tokens, text: model.pathText(tokens), logprob };
}
