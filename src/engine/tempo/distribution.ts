/**
 * Next-token distributions in float64: temperature softmax, the next-step policies, and the
 * head of a distribution. Probabilities, not logits, so that mixtures are exact.
 */
import { NextStepPolicy } from "../types.js";

/**
 * exp((logits - max) / temperature) into `out`; returns the sum. The step loop passes reused
 * rows: a fresh 32k-entry row is 256 KB, which glibc maps and unmaps per allocation (~0.6 ms).
 */
function shiftedExp(logits: Float32Array, temperature: number, out: Float64Array): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp((logits[i] - max) / temperature);
    out[i] = e;
    sum += e;
  }
  return sum;
}

/** softmax(logits / temperature) in float64, numerically stable; written into `out` when given. */
export function softmax(logits: Float32Array, temperature: number, out: Float64Array = new Float64Array(logits.length)): Float64Array {
  const sum = shiftedExp(logits, temperature, out);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** Reused rows for `nextDistribution`: the result and one member's exponentials. */
export interface DistributionRows { out: Float64Array; scratch: Float64Array }

/**
 * The distribution the step after a set selects from. `mixture`: the members' distributions
 * weighted by their renormalised probabilities; `top`: the most probable member's; `last`:
 * the least probable member's (what the reference implementation effectively did). With
 * `rows`, the result is `rows.out` (overwritten) and nothing is allocated.
 */
export function nextDistribution(policy: NextStepPolicy, memberLogits: readonly Float32Array[], memberProbs: readonly number[], temperature: number, rows?: DistributionRows): Float64Array {
  const n = memberLogits[0].length;
  const out = rows?.out ?? new Float64Array(n);
  if (policy === "top" || memberLogits.length === 1) return softmax(memberLogits[0], temperature, out);
  if (policy === "last") return softmax(memberLogits[memberLogits.length - 1], temperature, out);
  const total = memberProbs.reduce((a, b) => a + b, 0);
  const e = rows?.scratch ?? new Float64Array(n);
  out.fill(0);
  for (let j = 0; j < memberLogits.length; j++) {
    const w = memberProbs[j] / total;
    const sum = shiftedExp(memberLogits[j], temperature, e);
    for (let i = 0; i < n; i++) out[i] += w * (e[i] / sum); // = w * softmax(member)[i], bit for bit
  }
  return out;
}

export function entropy(probs: Float64Array): number {
  let h = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i] > 0) h -= probs[i] * Math.log(probs[i]);
  return h;
}
