/**
 * Comparing two next-token distributions over the full vocabulary (docs/design/metrics-and-stats.md).
 *
 * Everything is computed in float64. A `Distribution` is prepared once per vector (one exp or
 * one log per token, entropy, bounded top-K selection) so that one distribution can be compared
 * with several others (e.g. the comparison and its null baseline) without redoing it. All
 * quantities are in nats.
 *
 * Speed (the goal in docs/benchmarks.md: 1,000 steps x 32k in under a second) decides the representation: a
 * distribution keeps unnormalised log-weights d_i <= 0 and weights e_i = exp(d_i), so that
 * preparing takes two passes and no normalisation pass; logp_i = d_i - logSum and
 * p_i = e_i * scale are formed inside the comparison loop, where they cost one operation each.
 */
import { log1pTable } from "../math/log1p-table.js";
import { Distribution, fromLogits, fromLogProbs, fromProbs, massOf, probOf, type PrepareOptions } from "../math/distribution.js";

/** Scratch for the comparison loop's sums (one comparison at a time). */
const SUMS = new Float64Array(10);

/** The k values reported for top-k overlap and Jaccard. */
export const TOP_KS: readonly number[] = [1, 5, 10, 20, 50];

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
  const n = P.size;
  if (Q.size !== n) throw new RangeError(`compare: vocabulary sizes differ (${n} vs ${Q.size})`);
  compareLoop(P, Q, SUMS);
  const [klPQ, klQP, jsSum, tv, dot, dropped, dropP, dropP2, dropQ, dropQ2] = SUMS;
  // Rounding can push tiny divergences below zero; they are non-negative by definition.
  const js = Math.min(Math.max(0.5 * jsSum, 0), Math.LN2);
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
    cosineLogp: cosineOfLogProbs(P, Q, dot, { dropped, dropP, dropP2, dropQ, dropQ2 }),
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

/**
 * The per-token pass of `compare`; out = [KL(P||Q), KL(Q||P), 2 JS, 2 TV, sum dp dq over tokens
 * finite on both sides, then the dropped tokens' count, sum dp, sum dp^2, sum dq, sum dq^2].
 */
function compareLoop(P: Distribution, Q: Distribution, out: Float64Array): void {
  // Series coefficients (as multiplications: V8 keeps `w / 5` a division), local rather than
  // module-level for the reason in fast-exp.ts.
  // T(w) = sum_{j>=0} w^j / (2j+3);  H(w) = sum_{k>=1} w^(k-1) / (k(2k-1)).
  const T0 = 1 / 3, T1 = 1 / 5, T2 = 1 / 7, T3 = 1 / 9, T4 = 1 / 11, T5 = 1 / 13, T6 = 1 / 15;
  const H1 = 1 / 6, H2 = 1 / 15, H3 = 1 / 28, H4 = 1 / 45, H5 = 1 / 66, H6 = 1 / 91;
  // |lr| < 0.2 gives |u| = tanh(|lr|/2) < 0.0997 (w < 0.00994): H truncated after 7 terms is
  // within w^7/120 < 1e-16 relative; T enters the KL terms multiplied by w, so its 7 terms
  // leave them within ~1e-17 relative.
  const SERIES_LR = 0.2;
  const BLOCK = 16;
  const dp = P.d, dq = Q.d, ep = P.e, eq = Q.e, sP = P.scale, sQ = Q.scale, lP = P.logSum, lQ = Q.logSum;
  const c = lP - lQ; // ln p_i - ln q_i = dp_i - dq_i - c
  const n = dp.length;
  let klPQ = 0, klQP = 0, js = 0, tv = 0, dot = 0;
  // Tokens left out of the cosine (zero probability on either side) and their log-weights.
  let dropped = 0, dropP = 0, dropP2 = 0, dropQ = 0, dropQ2 = 0;
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    const i1 = Math.min(i0 + BLOCK, n);
    // The regime is chosen per block of tokens, not per token: a per-token series-or-log
    // branch mispredicts whenever about half the tokens differ by more than 10%.
    let far = false;
    for (let i = i0; i < i1; i++) {
      const a = dp[i], b = dq[i];
      if (a !== -Infinity && b !== -Infinity) dot += a * b;
      else {
        dropped++;
        if (a !== -Infinity) { dropP += a; dropP2 += a * a; }
        if (b !== -Infinity) { dropQ += b; dropQ2 += b * b; }
      }
      const lr = a - b - c;
      far = far || !(lr < SERIES_LR && lr > -SERIES_LR);
    }
    if (!far) {
      // Per token, with m = s/2 and u = (p-q)/s (so p = m(1+u), q = m(1-u)):
      //   KL terms in Bregman form p ln(p/q) - p + q (they sum to KL, as sum(p-q) = 0, and
      //   are second order, so no first-order cancellation) = s(u atanh u +- (atanh u - u));
      //   JS term 0.5[p ln(p/m) + q ln(q/m)] = (s/4) sum_k u^2k / (k(2k-1)).
      // A block of near-identical tokens (the null-baseline regime) uses these series.
      for (let i = i0; i < i1; i++) {
        const p = ep[i] * sP, q = eq[i] * sQ;
        const s = p + q, diff = p - q;
        tv += Math.abs(diff);
        if (!(s > 0)) continue; // both underflowed
        const u = diff / s;
        const w = u * u;
        // u atanh u = w + w^2 T, atanh u - u = u w T. Estrin's scheme: short dependency chains
        // let consecutive tokens' series overlap in the CPU.
        const w2 = w * w, w4 = w2 * w2;
        const T = T0 + w * T1 + w2 * (T2 + w * T3) + w4 * (T4 + w * T5 + w2 * T6);
        const H = 1 + w * H1 + w2 * (H2 + w * H3) + w4 * (H4 + w * H5 + w2 * H6);
        const s1 = w + w * w * T;
        const at = u * w * T;
        klPQ += s * (s1 + at);
        klQP += s * (s1 - at);
        js += 0.5 * s * w * H;
      }
    } else {
      // Direct formulas; a near-identical token in such a block loses ~1/|u| ulps of its own
      // (tiny) terms to cancellation, which the block's other terms dwarf.
      for (let i = i0; i < i1; i++) {
        const p = ep[i] * sP, q = eq[i] * sQ;
        const s = p + q, diff = p - q;
        tv += Math.abs(diff);
        if (!(s > 0)) continue;
        // ln(p/q) is +Infinity when q == 0 (and -Infinity when p == 0); p == 0 contributes 0.
        const lr = dp[i] - dq[i] - c;
        klPQ += (p > 0 ? p * lr : 0) - diff;
        klQP += (q > 0 ? -q * lr : 0) + diff;
        // JS term p ln(p/m) + q ln(q/m), with ln(p/m) = ln(1 + u), ln(q/m) = ln(1 - u) and
        // their difference lr: s log1p(|u|) - min(p, q) |lr|, the larger side's log from a table
        // (no log call, and no branch on the sign of u, which is a coin toss).
        // min(p, q) == 0 with an infinite lr is 0 * Infinity: that side contributes 0.
        const t = Math.min(p, q) * Math.abs(lr);
        js += s * log1pTable(Math.abs(diff / s)) - (t === t ? t : 0);
      }
    }
  }
  out[0] = klPQ;
  out[1] = klQP;
  out[2] = js;
  out[3] = tv;
  out[4] = dot;
  out[5] = dropped;
  out[6] = dropP;
  out[7] = dropP2;
  out[8] = dropQ;
  out[9] = dropQ2;
}

/**
 * Cosine of logp = d - logSum over the tokens finite on both sides, from sum(dp*dq) and each
 * side's sums: sum (a - lP)(b - lQ) = sum ab - lQ sum a - lP sum b + n lP lQ. With d <= 0 and
 * logSum >= 0 every term is >= 0, so the expansion loses nothing to cancellation.
 */
function cosineOfLogProbs(P: Distribution, Q: Distribution, dot: number, x: { dropped: number; dropP: number; dropP2: number; dropQ: number; dropQ2: number }): number {
  const both = P.size - x.dropped;
  const lP = P.logSum, lQ = Q.logSum;
  const sa = P.sumD - x.dropP, sa2 = P.sumD2 - x.dropP2, sb = Q.sumD - x.dropQ, sb2 = Q.sumD2 - x.dropQ2;
  const num = dot - lQ * sa - lP * sb + both * lP * lQ;
  const nP = sa2 - 2 * lP * sa + both * lP * lP;
  const nQ = sb2 - 2 * lQ * sb + both * lQ * lQ;
  return both > 0 && nP > 0 && nQ > 0 ? num / Math.sqrt(nP * nQ) : NaN;
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


/**
 * Run every hot loop once, at load, on vectors a few tokens long that take each branch (a zero
 * probability, near and far tokens). A first long call otherwise has V8 compile the loop
 * on-stack before the code after it has any type feedback; that code then deoptimises softly
 * at the end of every later call (measured: 1,200 deopts and 1.5-2x the time per token).
 */
function warmUp(): void {
  const a = [0, 1, -Infinity, 2, 3, -Infinity], b = [0.001, 1, 0, 5, 3, -Infinity];
  // Several calls: V8 only starts collecting feedback once a function has run a few times.
  for (let i = 0; i < 16; i++) {
    compare(fromLogits(a, { topK: 2 }), fromLogits(b, { topK: 2 }), { ks: [1, 2], tokens: [1] });
    compare(fromProbs([0.5, 0.25, 0, 0.25]), fromLogProbs([0, 0, -Infinity, 0].map((x) => x - Math.log(3))), { ks: [1] });
  }
}
warmUp();
