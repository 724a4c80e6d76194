/**
 * Next-token distributions in float64: temperature softmax, the next-step policies, and the
 * head of a distribution. Probabilities, not logits, so that mixtures are exact.
 */
import { NextStepPolicy } from "../types.js";
import { fastExp } from "../math/fast-exp.js";
import { SoftmaxSums, softmaxSums } from "../math/head-kernel.js";

/**
 * e_i = exp(x_i), x_i = (logits_i - max) / temperature, into `out`. The step loop passes reused
 * rows: a fresh 32k-entry row is 256 KB, which glibc maps and unmaps per allocation (~0.6 ms).
 * fastExp instead of Math.exp and a multiplication by 1 / temperature: this loop runs once per
 * set member every step, and it was most of a TEMPO step's JavaScript (results move in the
 * last bits only). `weighted` gives the entropy without a log per token (see softmaxEntropy).
 */
function shiftedExp(logits: Float32Array, temperature: number, out: Float64Array): SoftmaxSums {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const scale = 1 / temperature;
  let sum = 0, weighted = 0;
  for (let i = 0; i < logits.length; i++) {
    const x = (logits[i] - max) * scale;
    const e = fastExp(x);
    out[i] = e;
    sum += e;
    if (e > 0) weighted += e * x; // a -Infinity logit: 0 * -Infinity would be NaN
  }
  return { sum, weighted, max, scale };
}

/** H = -sum p_i log p_i with p_i = e_i / S, log p_i = x_i - log S: H = log S - sum(e_i x_i) / S. */
function softmaxEntropy({ sum, weighted }: SoftmaxSums): number {
  return Math.log(sum) - weighted / sum;
}

/** Normalises a shiftedExp row in place. */
function normalise(out: Float64Array, { sum }: SoftmaxSums): Float64Array {
  const inv = 1 / sum;
  for (let i = 0; i < out.length; i++) out[i] *= inv;
  return out;
}

/** softmax(logits / temperature) in float64, numerically stable; written into `out` when given. */
export function softmax(logits: Float32Array, temperature: number, out: Float64Array = new Float64Array(logits.length)): Float64Array {
  return normalise(out, shiftedExp(logits, temperature, out));
}

/**
 * The probabilities of `tokens` under softmax(logits / temperature), and its entropy, without
 * writing the row: greedy steps need only the head of the distribution for their event, and
 * storing, normalising and rescanning 32k entries was most of a standard step's JavaScript.
 * The sums come from the head kernel (math/head-kernel.ts), whose arithmetic is shiftedExp's:
 * the same bits as reading `softmax`'s row.
 */
export function softmaxHead(logits: Float32Array, temperature: number, tokens: readonly number[]): { probs: number[]; entropy: number } {
  const sums = softmaxSums(logits, temperature);
  const inv = 1 / sums.sum;
  return { probs: tokens.map((t) => fastExp((logits[t] - sums.max) * sums.scale) * inv), entropy: softmaxEntropy(sums) };
}

/**
 * Reused rows for `nextDistribution`: the result and one member's exponentials. Each call
 * also sets `entropy` to the result's entropy when its pass gave it for free (one member's
 * softmax); after a mixture it is undefined, and `entropy(out)` computes it.
 */
export interface DistributionRows { out: Float64Array; scratch: Float64Array; entropy?: number }

/**
 * The distribution the step after a set selects from. `mixture`: the members' distributions
 * weighted by their renormalised probabilities; `top`: the most probable member's; `last`:
 * the least probable member's (what the reference implementation effectively did). With
 * `rows`, the result is `rows.out` (overwritten) and nothing is allocated.
 */
export function nextDistribution(policy: NextStepPolicy, memberLogits: readonly Float32Array[], memberProbs: readonly number[], temperature: number, rows?: DistributionRows): Float64Array {
  const n = memberLogits[0].length;
  const out = rows?.out ?? new Float64Array(n);
  if (policy !== "mixture" || memberLogits.length === 1) {
    const sums = shiftedExp(memberLogits[policy === "last" ? memberLogits.length - 1 : 0], temperature, out);
    if (rows) rows.entropy = softmaxEntropy(sums);
    return normalise(out, sums);
  }
  if (rows) rows.entropy = undefined;
  const total = memberProbs.reduce((a, b) => a + b, 0);
  const e = rows?.scratch ?? new Float64Array(n);
  for (let j = 0; j < memberLogits.length; j++) {
    const { sum } = shiftedExp(memberLogits[j], temperature, j === 0 ? out : e);
    const scale = memberProbs[j] / total / sum; // w_j * softmax(member j)[i] = scale * e[i]
    if (j === 0) for (let i = 0; i < n; i++) out[i] *= scale;
    else for (let i = 0; i < n; i++) out[i] += scale * e[i];
  }
  return out;
}

/**
 * -sum p log p, one Math.log per token: a mixture's entropy has no shortcut like a single
 * softmax's (softmaxEntropy). The step loop computes it while the set decodes; an inlined log
 * (bit tricks through a typed-array alias) measured 3x slower than V8's Math.log here.
 */
export function entropy(probs: Float64Array): number {
  let h = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i] > 0) h -= probs[i] * Math.log(probs[i]);
  return h;
}
