/**
 * Which tokens form a parallel set: every token with p >= cutoff, sorted by probability,
 * capped at maxWidth; the top-1 when none passes. End-of-generation tokens never join a set
 * (if the top token is EOG the run stops instead: the caller checks that first).
 */
import { GenerationConfig } from "../types.js";
import { topIndices } from "../analysis/divergence.js";

export interface SelectedMember { token: number; prob: number; rank: number }

/** Threshold in force at `step` under the configured schedule. */
export function thresholdAt(config: GenerationConfig, step: number): number {
  if (config.schedule === "constant" || config.maxSteps <= 1) return config.threshold;
  const f = Math.min(1, step / (config.maxSteps - 1));
  return config.threshold + (config.thresholdEnd - config.threshold) * f;
}

export function selectSet(probs: Float64Array, threshold: number, relativeAlpha: number, maxWidth: number, isEog: (t: number) => boolean): SelectedMember[] {
  const [top] = topIndices(probs, 1);
  const cutoff = Math.max(threshold, relativeAlpha * probs[top]);
  const passing: number[] = [];
  for (let i = 0; i < probs.length; i++) if (probs[i] >= cutoff && !isEog(i)) passing.push(i);
  passing.sort((a, b) => probs[b] - probs[a] || a - b);
  const chosen = passing.length ? passing.slice(0, maxWidth) : [top];
  // Ranks in the full distribution: members are the head of it, minus any EOG tokens above them.
  return chosen.map((token) => ({ token, prob: probs[token], rank: rankOf(probs, token) }));
}

export function rankOf(probs: Float64Array, token: number): number {
  const p = probs[token];
  let rank = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i] > p || (probs[i] === p && i < token)) rank++;
  return rank;
}
