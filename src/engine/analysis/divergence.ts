/**
 * Comparing two next-token distributions over the full vocabulary (metrics-and-stats.md).
 *
 * Everything is computed in float64 from a stable log-softmax. A `Distribution` is prepared
 * once per vector (normalise, entropy, bounded top-K selection) so that one distribution can be
 * compared with several others (e.g. the comparison and its null baseline) without redoing it.
 * All quantities are in nats.
 */

/** The k values reported for top-k overlap and Jaccard. */
export const TOP_KS: readonly number[] = [1, 5, 10, 20, 50];
/** How many top entries a Distribution keeps (the largest k ever asked for). */
export const DEFAULT_TOP_K = 50;

export interface Distribution {
  /** Natural log-probabilities, full vocabulary (-Infinity for tokens with zero probability). */
  readonly logp: Float64Array;
  /** Probabilities, exp(logp). */
  readonly p: Float64Array;
  /** Shannon entropy in nats. */
  readonly entropy: number;
  /** Token ids of the `top.length` most probable tokens, descending; ties go to the lower id. */
  readonly top: Int32Array;
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

/** Stable log-softmax of raw logits (the offset of raw logits is arbitrary). */
export function fromLogits(logits: ArrayLike<number>, opts: PrepareOptions = {}): Distribution {
  const n = logits.length;
  if (n === 0) throw new RangeError("fromLogits: empty logit vector");
  const t = opts.temperature ?? 1;
  if (!(t > 0) || !Number.isFinite(t)) throw new RangeError(`fromLogits: temperature must be a positive finite number, got ${t}`);
  // Copy into float64 first (a fast bulk conversion), so the hot loops below always see one
  // array type; a loop over a mix of number[]/Float32Array inputs would run deoptimised.
  const logp = opts.reuse && opts.reuse.logp.length === n ? (opts.reuse.logp as Float64Array) : new Float64Array(n);
  logp.set(logits);
  if (t !== 1) for (let i = 0; i < n; i++) logp[i] /= t;
  return normalise(logp, topK(opts.topK, n), "fromLogits", opts.reuse);
}

function topK(k: number | undefined, n: number): number {
  return Math.min(k ?? DEFAULT_TOP_K, n);
}

// ---- exp for the softmax ---------------------------------------------------------------------
// One exp per token is the floor cost of every metric here, and V8's Math.exp is an
// out-of-line call. This inlinable version (table of 2^(j/64), Cody–Waite reduction with
// fdlibm's split of ln 2, degree-6 polynomial on |r| <= ln2/128) is about twice as fast and
// within a few ulp (max relative error ~1.5e-15, checked against Math.exp in the tests).
const EXP_N = 64;
const EXP_T = Float64Array.from({ length: EXP_N }, (_, j) => 2 ** (j / EXP_N));
const EXP_P2 = Float64Array.from({ length: 2200 }, (_, k) => 2 ** (k - 1100));
const EXP_INV = EXP_N / Math.LN2;
const LN2_HI = 6.93147180369123816490e-1; // fdlibm ln2_hi: low 32 bits zero, n*LN2_HI/64 exact
const LN2_LO = 1.90821492927058770002e-10;
const C_HI = LN2_HI / EXP_N, C_LO = LN2_LO / EXP_N;
const ROUND = 6755399441055744.0; // 1.5 * 2^52: adding and subtracting rounds to an integer

/** exp(x) for x <= ~709 (NaN propagates; x <= -745 gives 0, as Math.exp does). */
export function fastExp(x: number): number {
  if (!(x > -745)) return x !== x ? NaN : 0;
  const n = x * EXP_INV + ROUND - ROUND;
  const r = x - n * C_HI - n * C_LO;
  const k = Math.floor(n / EXP_N);
  const poly = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r / 720)))));
  return EXP_P2[k + 1100] * (EXP_T[n - k * EXP_N] * poly);
}

/**
 * In place: x (shifted log-probabilities or logits) -> normalised log-probabilities, plus p,
 * entropy and top-K, in three passes: (1) max + top-K selection (the order of x is the order
 * of p), (2) exp, sum and the entropy accumulator, (3) normalisation.
 * Entropy as ln(sum) - sum(e_i (x_i - max)) / sum: both parts are >= 0, so no cancellation.
 */
function normalise(x: Float64Array, k: number, who: string, reuse?: Distribution): Distribution {
  const n = x.length;
  const top = new Int32Array(k);
  const topVal = new Float64Array(k);
  let filled = 0;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v > max) max = v;
    else if (v !== v) throw new RangeError(`${who}: entry ${i} is NaN`);
    if (filled === k && !(v > topVal[k - 1])) continue;
    filled = insertTop(top, topVal, filled, k, v, i);
  }
  if (max === Infinity) throw new RangeError(`${who}: +Infinity in the input`);
  if (max === -Infinity) throw new RangeError(`${who}: every entry is -Infinity`);
  const p = reuse && reuse.p.length === n ? reuse.p : new Float64Array(n);
  let sum = 0, ex = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - max;
    const e = fastExp(d);
    p[i] = e;
    sum += e;
    if (e > 0) ex += e * d;
  }
  const logSum = Math.log(sum);
  const lse = max + logSum;
  const inv = 1 / sum;
  for (let i = 0; i < n; i++) {
    x[i] -= lse;
    p[i] *= inv;
  }
  return { logp: x, p, entropy: logSum - ex * inv, top };
}

/** Insert (v, i) into the descending buffer; strict compares keep ties in index order. */
function insertTop(idx: Int32Array, val: Float64Array, filled: number, k: number, v: number, i: number): number {
  let j = filled < k ? filled++ : k - 1;
  while (j > 0 && v > val[j - 1]) {
    val[j] = val[j - 1];
    idx[j] = idx[j - 1];
    j--;
  }
  val[j] = v;
  idx[j] = i;
  return filled;
}

/**
 * From log-probabilities that should already be normalised (e.g. read back from a capture).
 * They are renormalised in log space so that tiny rounding (float32/float16 storage) does not
 * leak into the metrics; a vector whose mass is far from 1 is refused, as that is a caller bug.
 */
export function fromLogProbs(logprobs: ArrayLike<number>, opts: { topK?: number; tolerance?: number; reuse?: Distribution } = {}): Distribution {
  const n = logprobs.length;
  if (n === 0) throw new RangeError("fromLogProbs: empty vector");
  const logp = opts.reuse && opts.reuse.logp.length === n ? opts.reuse.logp : new Float64Array(n);
  logp.set(logprobs);
  let max = -Infinity, total = 0;
  for (let i = 0; i < n; i++) {
    const x = logp[i];
    if (x !== x || x > 0) throw new RangeError(`fromLogProbs: entry ${i} is ${x}, not a log-probability`);
    if (x > max) max = x;
  }
  for (let i = 0; i < n; i++) total += Math.exp(logp[i] - max);
  total *= Math.exp(max);
  const tol = opts.tolerance ?? 1e-2;
  if (Math.abs(total - 1) > tol) throw new RangeError(`fromLogProbs: probabilities sum to ${total}, not 1 (tolerance ${tol})`);
  return normalise(logp, topK(opts.topK, n), "fromLogProbs", opts.reuse);
}

/**
 * Indices of the k largest values, descending, ties to the lower index. Bounded selection: a
 * sorted buffer of k entries and a threshold test, so almost every element costs one compare.
 */
export function topIndices(values: ArrayLike<number>, k: number): Int32Array {
  return selectTop(Float64Array.from(values), k);
}

function selectTop(values: Float64Array, k: number): Int32Array {
  const n = values.length;
  k = Math.max(0, Math.min(k, n));
  const idx = new Int32Array(k);
  const val = new Float64Array(k);
  let filled = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (filled === k && !(v > val[k - 1])) continue;
    filled = insertTop(idx, val, filled, k, v, i);
  }
  return idx;
}

export interface TopKAgreement {
  k: number;
  /** |A ∩ B| / k, where A and B are the top-k token sets of P and Q. */
  overlap: number;
  /** |A ∩ B| / |A ∪ B|. */
  jaccard: number;
}

export interface DivergenceMetrics {
  /** KL(P || Q) = sum p ln(p/q), nats. +Infinity when Q gives zero mass where P does not. */
  klPQ: number;
  /** KL(Q || P), nats. */
  klQP: number;
  /** Jensen–Shannon divergence in nats (natural log), in [0, ln 2]. */
  js: number;
  /** Total variation, 0.5 * sum |p - q|, in [0, 1]. */
  tv: number;
  /**
   * Cosine similarity of the two LOG-PROBABILITY vectors (not raw logits, whose offset is
   * arbitrary), over the tokens where both are finite.
   */
  cosineLogp: number;
  /** Whether the most probable tokens agree. */
  top1Agree: boolean;
  topK: TopKAgreement[];
  entropyP: number;
  entropyQ: number;
  /** Mass each distribution puts on `opts.tokens` (e.g. the parallel set), when given. */
  massP?: number;
  massQ?: number;
  /** Probability of `opts.referenceToken` under each, when given. */
  refProbP?: number;
  refProbQ?: number;
}

export interface CompareOptions {
  /** k values for top-k agreement (default TOP_KS); each must be <= both distributions' top length. */
  ks?: readonly number[];
  /** Token set whose covered mass to report (duplicates count once). */
  tokens?: readonly number[];
  referenceToken?: number;
}

/** All divergence metrics between P and Q, in one pass over the vocabulary plus the top-k. */
export function compare(P: Distribution, Q: Distribution, opts: CompareOptions = {}): DivergenceMetrics {
  const n = P.logp.length;
  if (Q.logp.length !== n) throw new RangeError(`compare: vocabulary sizes differ (${n} vs ${Q.logp.length})`);
  const lp = P.logp, lq = Q.logp, pp = P.p, qq = Q.p;
  let klPQ = 0, klQP = 0, js = 0, tv = 0, dot = 0, nP = 0, nQ = 0;
  for (let i = 0; i < n; i++) {
    const p = pp[i], q = qq[i], a = lp[i], b = lq[i];
    const s = p + q;
    if (s > 0) {
      // Per token, with m = s/2 and u = (p-q)/s (so p = m(1+u), q = m(1-u)):
      //   KL terms in Bregman form p ln(p/q) - p + q (they sum to KL, as sum(p-q) = 0, and
      //   are second order, so no first-order cancellation) = s(u atanh u +- (atanh u - u));
      //   JS term 0.5[p ln(p/m) + q ln(q/m)] = (s/4) sum_k u^2k / (k(2k-1)).
      // Near-identical distributions (|u| < 0.1: the null-baseline regime) use these series,
      // accurate to ~1e-17 relative and free of log calls; other tokens use logs directly.
      const u = (p - q) / s;
      const w = u * u;
      if (w < 0.01) {
        // T = sum_{j>=0} w^j / (2j+3), so u atanh u = w + w^2 T and atanh u - u = u w T;
        // H = h(u)/w = sum_{k>=1} w^(k-1) / (k(2k-1)). Estrin's scheme keeps the dependency
        // chains short (this loop is latency-bound with Horner).
        const w2 = w * w, w4 = w2 * w2;
        const T = 1 / 3 + w / 5 + w2 * (1 / 7 + w / 9) + w4 * (1 / 11 + w / 13 + w2 * (1 / 15 + w / 17));
        const H = 1 + w / 6 + w2 * (1 / 15 + w / 28) + w4 * (1 / 45 + w / 66 + w2 * (1 / 91 + w / 120));
        const s1 = w + w2 * T;
        const at = u * w * T;
        klPQ += s * (s1 + at);
        klQP += s * (s1 - at);
        js += 0.5 * s * w * H;
      } else {
        // p(a - b) is +Infinity when q == 0 (and q(b - a) when p == 0).
        klPQ += (p > 0 ? p * (a - b) : 0) - p + q;
        klQP += (q > 0 ? q * (b - a) : 0) - q + p;
        const lm = Math.log(0.5 * s);
        if (p > 0) js += p * (a - lm);
        if (q > 0) js += q * (b - lm);
      }
      tv += Math.abs(p - q);
    }
    if (a !== -Infinity && b !== -Infinity) {
      dot += a * b;
      nP += a * a;
      nQ += b * b;
    }
  }
  // Rounding can push tiny divergences below zero; they are non-negative by definition.
  js = Math.min(Math.max(0.5 * js, 0), Math.LN2);
  const ks = opts.ks ?? TOP_KS;
  const topK: TopKAgreement[] = [];
  for (const k0 of ks) {
    const k = Math.min(k0, n);
    if (k > P.top.length || k > Q.top.length) throw new RangeError(`compare: k=${k0} exceeds the kept top (${Math.min(P.top.length, Q.top.length)})`);
    const inter = intersectionSize(P.top, Q.top, k);
    topK.push({ k: k0, overlap: inter / k, jaccard: inter / (2 * k - inter) });
  }
  const out: DivergenceMetrics = {
    klPQ: Math.max(klPQ, 0),
    klQP: Math.max(klQP, 0),
    js,
    tv: Math.min(0.5 * tv, 1),
    cosineLogp: nP > 0 && nQ > 0 ? dot / Math.sqrt(nP * nQ) : NaN,
    top1Agree: P.top[0] === Q.top[0],
    topK,
    entropyP: P.entropy,
    entropyQ: Q.entropy,
  };
  if (opts.tokens) {
    out.massP = massOf(P, opts.tokens);
    out.massQ = massOf(Q, opts.tokens);
  }
  if (opts.referenceToken !== undefined) {
    out.refProbP = probOf(P, opts.referenceToken);
    out.refProbQ = probOf(Q, opts.referenceToken);
  }
  return out;
}

let scratch: [Distribution | undefined, Distribution | undefined] = [undefined, undefined];

/** Convenience: both vectors are raw logits (prepared in recycled scratch arrays). */
export function compareLogits(a: ArrayLike<number>, b: ArrayLike<number>, opts: Omit<CompareOptions & PrepareOptions, "reuse"> = {}): DivergenceMetrics {
  const P = fromLogits(a, { ...opts, reuse: scratch[0] });
  const Q = fromLogits(b, { ...opts, reuse: scratch[1] });
  scratch = [P, Q];
  return compare(P, Q, opts);
}

function intersectionSize(a: Int32Array, b: Int32Array, k: number): number {
  // k <= 50: a quadratic scan beats building a set.
  let c = 0;
  for (let i = 0; i < k; i++) {
    const t = a[i];
    for (let j = 0; j < k; j++) if (b[j] === t) { c++; break; }
  }
  return c;
}

function probOf(d: Distribution, token: number): number {
  if (!Number.isInteger(token) || token < 0 || token >= d.p.length) throw new RangeError(`token ${token} is outside the vocabulary (size ${d.p.length})`);
  return d.p[token];
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
  const n = components[0].logp.length;
  let wsum = 0;
  for (const w of weights) {
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`mixture: weight ${w} is not a non-negative finite number`);
    wsum += w;
  }
  if (!(wsum > 0)) throw new RangeError("mixture: weights sum to zero");
  const used: { logp: Float64Array; lw: number }[] = [];
  components.forEach((c, i) => {
    if (c.logp.length !== n) throw new RangeError(`mixture: component ${i} has vocabulary ${c.logp.length}, expected ${n}`);
    if (weights[i] > 0) used.push({ logp: c.logp, lw: Math.log(weights[i] / wsum) });
  });
  const logp = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (const u of used) {
      const v = u.lw + u.logp[i];
      if (v > max) max = v;
    }
    if (max === -Infinity) { logp[i] = -Infinity; continue; }
    let s = 0;
    for (const u of used) s += Math.exp(u.lw + u.logp[i] - max);
    logp[i] = max + Math.log(s);
  }
  // Components are normalised, so normalising again only removes rounding.
  return normalise(logp, topK(opts.topK, n), "mixture");
}
