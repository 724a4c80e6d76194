/**
 * A next-token distribution over the full vocabulary, prepared once per vector (one exp or one
 * log per token, entropy, bounded top-K selection) so that it can be compared with several
 * others (src/engine/analysis/divergence.ts) or stored (src/engine/capture/recorder.ts)
 * without redoing it. Everything is in float64 and nats.
 *
 * Speed (docs/benchmarks.md: 1,000 steps x 32k in under a second) decides the representation:
 * a distribution keeps unnormalised log-weights d_i <= 0 and weights e_i = exp(d_i), so that
 * preparing takes two passes and no normalisation pass; logp_i = d_i - logSum and
 * p_i = e_i * scale are formed where they are used, at one operation each.
 */
import { fastExp } from "./fast-exp.js";
import { insertTop, topTokens } from "./top-k.js";

/** How many top entries a Distribution keeps (the largest k ever asked for). */
export const DEFAULT_TOP_K = 50;

/** A prepared distribution: made by fromLogits, fromLogProbs, fromProbs or mixture, not directly. */
export class Distribution {
  /** @param d log-weights, all <= 0 (-Infinity for tokens with zero probability): logp_i = d_i - logSum. */
  constructor(
    readonly d: Float64Array,
    /** Weights exp(d_i): p_i = e_i * scale. */
    readonly e: Float64Array,
    /** ln(sum of the weights), >= ~0 (the largest weight is ~1). */
    readonly logSum: number,
    /** 1 / (sum of the weights). */
    readonly scale: number,
    /** Shannon entropy in nats. */
    readonly entropy: number,
    /** Token ids of the `top.length` most probable tokens, descending; ties go to the lower id. */
    readonly top: Int32Array,
    /** Sum of d_i and of d_i^2 over the finite d_i (for the cosine). */
    readonly sumD: number,
    readonly sumD2: number,
  ) {}

  get size(): number {
    return this.d.length;
  }

  prob(token: number): number {
    return this.e[token] * this.scale;
  }

  logProb(token: number): number {
    return this.d[token] - this.logSum;
  }

  /** Buffers for `reuse`: this distribution's arrays, which it gives up. */
  buffersFor(n: number): { d: Float64Array; e: Float64Array } | undefined {
    return this.size === n ? { d: this.d, e: this.e } : undefined;
  }
}

export interface PrepareOptions {
  /** Divide logits by this before the softmax (the run's sampling temperature). Default 1. */
  temperature?: number;
  /** How many top tokens to keep (default 50; capped by the vocabulary size). */
  topK?: number;
  /**
   * Write into this distribution's arrays instead of allocating (same vocabulary size).
   * Fresh 256 KB arrays per step cost more than the maths (page faults, GC), so a loop over
   * steps should recycle two or three; the distribution passed here must not be used again.
   */
  reuse?: Distribution;
}

function buffers(n: number, reuse: Distribution | undefined) {
  return reuse?.buffersFor(n) ?? { d: new Float64Array(n), e: new Float64Array(n) };
}

/** Softmax of raw logits (their offset is arbitrary). */
export function fromLogits(logits: ArrayLike<number>, opts: PrepareOptions = {}): Distribution {
  const n = logits.length;
  if (n === 0) throw new RangeError("fromLogits: empty logit vector");
  const t = opts.temperature ?? 1;
  if (!(t > 0) || !Number.isFinite(t)) throw new RangeError(`fromLogits: temperature must be a positive finite number, got ${t}`);
  // Copy into float64 first (a fast bulk conversion), so the hot loops below always see one
  // array type; a loop over a mix of number[]/Float32Array inputs would run deoptimised.
  const b = buffers(n, opts.reuse);
  b.d.set(logits);
  if (t !== 1) for (let i = 0; i < n; i++) b.d[i] /= t;
  return exponentiate(b, maxOf(b.d, "fromLogits"), topK(opts.topK, n), "fromLogits");
}

/** At least 1: the top entry is also the maximum, and top-1 agreement is always reported. */
function topK(k: number | undefined, n: number): number {
  return Math.max(1, Math.min(k ?? DEFAULT_TOP_K, n));
}

/** First pass: the maximum, for the shift (+Infinity and all -Infinity refused; NaN is skipped here and caught later). */
function maxOf(x: Float64Array, who: string): number {
  const max = maxLoop(x);
  if (max === Infinity) throw new RangeError(`${who}: +Infinity in the input`);
  if (max === -Infinity) throw new RangeError(`${who}: every entry is -Infinity`);
  return max;
}

// The hot loops (maxLoop, shiftAndExp, compareLoop) are leaf functions with little after the
// loop, and warmUp (end of this module) runs them before any long call: see warmUp.
function maxLoop(x: Float64Array): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  return max;
}

/**
 * Second pass, in place: d_i = x_i - max, e_i = exp(d_i), the top-k tokens, and the sums behind
 * the entropy and the cosine. Entropy as logSum - sum(e_i d_i) / sum: both parts are >= 0 (d_i <= 0,
 * sum >= 1), so no cancellation.
 */
function exponentiate(b: { d: Float64Array; e: Float64Array }, max: number, k: number, who: string): Distribution {
  const { d, e } = b;
  const top = new Int32Array(k);
  shiftAndExp(d, e, max, top, new Float64Array(k), SUMS);
  const [sum, ex, sd, sd2] = SUMS;
  // A NaN entry makes the sum NaN; checking once here keeps a compare out of both loops.
  if (sum !== sum) throw new RangeError(`${who}: entry ${d.findIndex((v) => v !== v)} is NaN`);
  const logSum = Math.log(sum);
  const scale = 1 / sum;
  return new Distribution(d, e, logSum, scale, logSum - ex * scale, top, sd, sd2);
}

/** Sums filled by the leaf loops (one module-level buffer: the loops never run concurrently). */
const SUMS = new Float64Array(10);

/**
 * d_i -= max, e_i = exp(d_i), the k largest d_i into ids/vals (descending, ties to the lower
 * index, as topTokens); out = [sum e, sum e d, sum d, sum d^2] (the last three over finite d).
 * Selecting here rather than in a pass of its own saves ~10% of a step: after the first k
 * tokens, almost every token costs one compare in a loop that is busy with the exp anyway.
 */
function shiftAndExp(d: Float64Array, e: Float64Array, max: number, ids: Int32Array, vals: Float64Array, out: Float64Array): void {
  const n = d.length, k = ids.length;
  let sum = 0, ex = 0, sd = 0, sd2 = 0;
  let filled = 0, threshold = Infinity;
  for (let i = 0; i < n; i++) {
    const v = d[i] - max;
    const w = fastExp(v);
    d[i] = v;
    e[i] = w;
    sum += w;
    if (v !== -Infinity) {
      ex += w * v;
      sd += v;
      sd2 += v * v;
    }
    if (filled < k) {
      filled = insertTop(ids, vals, filled, k, v, i);
      if (filled === k) threshold = vals[k - 1];
    } else if (v > threshold) {
      insertTop(ids, vals, k, k, v, i);
      threshold = vals[k - 1];
    }
  }
  out[0] = sum;
  out[1] = ex;
  out[2] = sd;
  out[3] = sd2;
}

/**
 * From log-probabilities that should already be normalised (e.g. read back from a capture).
 * They are renormalised so that tiny rounding (float32/float16 storage) does not leak into
 * the metrics; a vector whose mass is far from 1 is refused, as that is a caller bug.
 */
export function fromLogProbs(logprobs: ArrayLike<number>, opts: { topK?: number; tolerance?: number; reuse?: Distribution } = {}): Distribution {
  const n = logprobs.length;
  if (n === 0) throw new RangeError("fromLogProbs: empty vector");
  const b = buffers(n, opts.reuse);
  b.d.set(logprobs);
  const max = maxOf(b.d, "fromLogProbs");
  if (max > 0) {
    const i = b.d.findIndex((x) => x > 0);
    throw new RangeError(`fromLogProbs: entry ${i} is ${b.d[i]}, not a log-probability`);
  }
  const dist = exponentiate(b, max, topK(opts.topK, n), "fromLogProbs");
  checkMass(Math.exp(max + dist.logSum), opts.tolerance, "fromLogProbs");
  return dist;
}

function checkMass(total: number, tolerance = 1e-2, who: string): void {
  if (!(Math.abs(total - 1) <= tolerance)) throw new RangeError(`${who}: probabilities sum to ${total}, not 1 (tolerance ${tolerance})`);
}

/**
 * From probabilities (e.g. the replay's next-token distribution, already a softmax): one log
 * per token instead of a log and a second softmax. Entries must be finite and >= 0, with a
 * sum within `tolerance` of 1; the sum is normalised away.
 */
export function fromProbs(probs: ArrayLike<number>, opts: { topK?: number; tolerance?: number; reuse?: Distribution } = {}): Distribution {
  const n = probs.length;
  if (n === 0) throw new RangeError("fromProbs: empty vector");
  const b = buffers(n, opts.reuse);
  const { d, e } = b;
  e.set(probs);
  let sum = 0, ex = 0, sd = 0, sd2 = 0;
  for (let i = 0; i < n; i++) {
    const w = e[i];
    if (!(w >= 0 && w < Infinity)) throw new RangeError(`fromProbs: entry ${i} is ${w}, not a probability`);
    const v = Math.log(w);
    d[i] = v;
    sum += w;
    if (w > 0) {
      ex += w * v;
      sd += v;
      sd2 += v * v;
    }
  }
  checkMass(sum, opts.tolerance, "fromProbs");
  const top = Int32Array.from(topTokens(e, topK(opts.topK, n)));
  const logSum = Math.log(sum);
  const scale = 1 / sum;
  return new Distribution(d, e, logSum, scale, logSum - ex * scale, top, sd, sd2);
}

/** Indices of the k largest values, descending, ties to the lower index. */
export function topIndices(values: ArrayLike<number>, k: number): Int32Array {
  return Int32Array.from(topTokens(Float64Array.from(values), k));
}

export function probOf(d: Distribution, token: number): number {
  if (!Number.isInteger(token) || token < 0 || token >= d.size) throw new RangeError(`token ${token} is outside the vocabulary (size ${d.size})`);
  return d.prob(token);
}

/** Probability mass of a set of tokens (each counted once). */
export function massOf(d: Distribution, tokens: readonly number[]): number {
  let m = 0;
  for (const t of new Set(tokens)) m += probOf(d, t);
  return Math.min(m, 1);
}

/**
 * The mixture sum_i w_i * P_i, formed in log space (log-sum-exp per token) so that tokens with
 * tiny probability under every component keep their exact log-probability. Weights are
 * normalised; they must be non-negative with a positive sum.
 */
export function mixture(components: readonly Distribution[], weights: readonly number[], opts: { topK?: number } = {}): Distribution {
  if (components.length === 0) throw new RangeError("mixture: no components");
  if (weights.length !== components.length) throw new RangeError(`mixture: ${components.length} components but ${weights.length} weights`);
  const n = components[0].size;
  let wsum = 0;
  for (const w of weights) {
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`mixture: weight ${w} is not a non-negative finite number`);
    wsum += w;
  }
  if (!(wsum > 0)) throw new RangeError("mixture: weights sum to zero");
  // log(w_i p_i(t)) = lw + d(t), with the component's normalisation folded into lw.
  const used: { d: Float64Array; lw: number }[] = [];
  components.forEach((c, i) => {
    if (c.size !== n) throw new RangeError(`mixture: component ${i} has vocabulary ${c.size}, expected ${n}`);
    if (weights[i] > 0) used.push({ d: c.d, lw: Math.log(weights[i] / wsum) - c.logSum });
  });
  const logp = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (const u of used) {
      const v = u.lw + u.d[i];
      if (v > max) max = v;
    }
    if (max === -Infinity) { logp[i] = -Infinity; continue; }
    let s = 0;
    for (const u of used) s += Math.exp(u.lw + u.d[i] - max);
    logp[i] = max + Math.log(s);
  }
  // Components are normalised, so normalising again only removes rounding.
  return exponentiate({ d: logp, e: new Float64Array(n) }, maxOf(logp, "mixture"), topK(opts.topK, n), "mixture");
}
