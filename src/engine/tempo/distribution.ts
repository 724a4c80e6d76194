/**
 * Next-token distributions in float64: temperature softmax, the next-step policies, and the
 * head of a distribution. Probabilities, not logits, so that mixtures are exact.
 */
import { NextStepPolicy } from "../types.js";

/** softmax(logits / temperature) in float64, numerically stable. */
export function softmax(logits: Float32Array, temperature: number): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp((logits[i] - max) / temperature);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/**
 * The distribution the step after a set selects from. `mixture`: the members' distributions
 * weighted by their renormalised probabilities; `top`: the most probable member's; `last`:
 * the least probable member's (what the reference implementation effectively did).
 */
export function nextDistribution(policy: NextStepPolicy, memberLogits: Float32Array[], memberProbs: number[], temperature: number): Float64Array {
  if (policy === "top" || memberLogits.length === 1) return softmax(memberLogits[0], temperature);
  if (policy === "last") return softmax(memberLogits[memberLogits.length - 1], temperature);
  const total = memberProbs.reduce((a, b) => a + b, 0);
  const mix = new Float64Array(memberLogits[0].length);
  memberLogits.forEach((logits, j) => {
    const w = memberProbs[j] / total;
    const p = softmax(logits, temperature);
    for (let i = 0; i < mix.length; i++) mix[i] += w * p[i];
  });
  return mix;
}

export function entropy(probs: Float64Array): number {
  let h = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i] > 0) h -= probs[i] * Math.log(probs[i]);
  return h;
}
