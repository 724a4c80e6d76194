/**
 * Summary statistics and paired tests for the reports (docs/design/metrics-and-stats.md, "Statistics").
 *
 * Distribution functions and the Wilcoxon / t / binomial tests come from stdlib
 * (@stdlib/*, pinned); this module adapts them to typed, documented results and adds the
 * small pieces stdlib lacks (type-7 quantiles, Wilson, Holm/BH, pass@k, the bootstrap).
 */
import wilcoxon from "@stdlib/stats-wilcoxon";
import ttest from "@stdlib/stats-ttest";
import binomialTest from "@stdlib/stats-binomial-test";
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import mt19937 from "@stdlib/random-base-mt19937";

export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
}

export interface Summary {
  n: number;
  mean: number;
  /** Standard error of the mean, sd / sqrt(n) (NaN when n < 2). */
  se: number;
  /** Sample standard deviation (n - 1 denominator). */
  sd: number;
  min: number;
  median: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

function finiteValues(xs: ArrayLike<number>, who: string): Float64Array {
  const a = Float64Array.from(xs);
  for (let i = 0; i < a.length; i++) if (Number.isNaN(a[i])) throw new RangeError(`${who}: value ${i} is NaN`);
  return a;
}

/**
 * Quantile of SORTED data by linear interpolation between order statistics: R's default
 * `quantile(type = 7)` (Hyndman & Fan 1996), also numpy's default.
 */
export function quantileSorted(sorted: ArrayLike<number>, prob: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (!(prob >= 0 && prob <= 1)) throw new RangeError(`quantile: probability ${prob} is outside [0, 1]`);
  const h = (n - 1) * prob;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function quantile(xs: ArrayLike<number>, prob: number): number {
  return quantileSorted(finiteValues(xs, "quantile").sort(), prob);
}

/** Mean ± standard error, median, tail percentiles and max (the llama-perplexity KL layout). */
export function summarize(xs: ArrayLike<number>): Summary {
  const a = finiteValues(xs, "summarize").sort();
  const n = a.length;
  if (n === 0) return { n: 0, mean: NaN, se: NaN, sd: NaN, min: NaN, median: NaN, p90: NaN, p95: NaN, p99: NaN, max: NaN };
  let mean = 0;
  for (let i = 0; i < n; i++) mean += (a[i] - mean) / (i + 1); // running mean: no overflow on +Infinity-free data
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (a[i] - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : NaN;
  return {
    n, mean, sd, se: sd / Math.sqrt(n),
    min: a[0], median: quantileSorted(a, 0.5), p90: quantileSorted(a, 0.9), p95: quantileSorted(a, 0.95), p99: quantileSorted(a, 0.99), max: a[n - 1],
  };
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
}

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /** Seed of the MT19937 generator (default 1), so reports are reproducible. */
  seed?: number;
}

/**
 * Percentile bootstrap over ITEMS: each resample draws n item indices with replacement and
 * passes them to `statistic`, which computes the metric on those items. Because the indices
 * address items, any paired structure (several arms of the same item) is kept together.
 */
export function bootstrap(n: number, statistic: (idx: Int32Array) => number, opts: BootstrapOptions = {}): Interval {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`bootstrap: need at least one item, got ${n}`);
  const B = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrap: level ${level} is outside (0, 1)`);
  const rand = mt19937.factory({ seed: opts.seed ?? 1 });
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const estimate = statistic(all);
  const stats = new Float64Array(B);
  const idx = new Int32Array(n);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor((rand() / 4294967296) * n);
    stats[b] = statistic(idx);
  }
  stats.sort();
  const tail = (1 - level) / 2;
  return { estimate, lo: quantileSorted(stats, tail), hi: quantileSorted(stats, 1 - tail), level };
}

/** Bootstrap interval of the mean of one metric over items. */
export function bootstrapMean(xs: ArrayLike<number>, opts?: BootstrapOptions): Interval {
  const a = finiteValues(xs, "bootstrapMean");
  return bootstrap(a.length, (idx) => { let s = 0; for (const i of idx) s += a[i]; return s / idx.length; }, opts);
}

/** Paired bootstrap interval of mean(a) - mean(b), resampling items (a[i], b[i]) together. */
export function pairedBootstrapMeanDiff(a: ArrayLike<number>, b: ArrayLike<number>, opts?: BootstrapOptions): Interval {
  const x = finiteValues(a, "pairedBootstrapMeanDiff"), y = finiteValues(b, "pairedBootstrapMeanDiff");
  if (x.length !== y.length) throw new RangeError(`pairedBootstrapMeanDiff: ${x.length} vs ${y.length} items`);
  return bootstrap(x.length, (idx) => { let s = 0; for (const i of idx) s += x[i] - y[i]; return s / idx.length; }, opts);
}

/** Wilson score interval for a proportion (Wilson 1927; Newcombe 1998, method 3). */
export function wilson(successes: number, n: number, level = 0.95): Interval {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`wilson: need integers 0 <= successes <= n, n >= 1; got ${successes}/${n}`);
  }
  const z = normalQuantile(1 - (1 - level) / 2, 0, 1);
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { estimate: p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half), level };
}

export interface TestResult {
  statistic: number;
  pValue: number;
  /** What was computed, e.g. "exact McNemar (two-sided binomial on discordant pairs)". */
  method: string;
}

/**
 * Exact McNemar test: under H0 the discordant pairs split Binomial(b + c, 1/2); two-sided
 * p-value from the binomial test. b = pairs where only arm A passed, c = only arm B passed.
 */
export function mcnemarExact(b: number, c: number): TestResult & { b: number; c: number } {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0) throw new RangeError(`mcnemarExact: counts must be non-negative integers, got ${b}, ${c}`);
  const method = "exact McNemar (two-sided binomial test on discordant pairs)";
  if (b + c === 0) return { b, c, statistic: 0, pValue: 1, method };
  const r = binomialTest(b, b + c, { p: 0.5 });
  return { b, c, statistic: b, pValue: Math.min(1, r.pValue), method };
}

/** McNemar from paired pass/fail outcomes. */
export function mcnemarPaired(a: readonly boolean[], bArm: readonly boolean[]): TestResult & { b: number; c: number } {
  if (a.length !== bArm.length) throw new RangeError(`mcnemarPaired: ${a.length} vs ${bArm.length} items`);
  let b = 0, c = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && !bArm[i]) b++;
    else if (!a[i] && bArm[i]) c++;
  }
  return mcnemarExact(b, c);
}

/**
 * Wilcoxon signed-rank test on paired values (two-sided, H0: differences symmetric about 0),
 * by stdlib, which follows R's wilcox.test(paired = TRUE): zero differences are dropped
 * ("wilcox" method); the p-value is EXACT (signed-rank distribution) when at most 50 non-zero
 * differences remain and there are neither ties nor zeros, otherwise the normal approximation
 * with tie-corrected variance and a continuity correction. (R's exact cut-off is n < 50, so the
 * two differ only at exactly 50.) `statistic` is V, the sum of the ranks of positive differences.
 */
export function wilcoxonSignedRank(a: ArrayLike<number>, b: ArrayLike<number>): TestResult & { n: number; zeros: number; exact: boolean } {
  const x = finiteValues(a, "wilcoxonSignedRank"), y = finiteValues(b, "wilcoxonSignedRank");
  if (x.length !== y.length) throw new RangeError(`wilcoxonSignedRank: ${x.length} vs ${y.length} items`);
  const d = x.map((v, i) => v - y[i]);
  const nonZero = d.filter((v) => v !== 0);
  const zeros = d.length - nonZero.length;
  if (nonZero.length === 0) return { statistic: 0, pValue: 1, method: "Wilcoxon signed-rank: every difference is zero", n: 0, zeros, exact: true };
  if (d.length < 2) return { statistic: d[0] > 0 ? 1 : 0, pValue: 1, method: "Wilcoxon signed-rank, exact (a single pair)", n: 1, zeros, exact: true };
  const ties = new Set(nonZero.map(Math.abs)).size !== nonZero.length;
  const exact = nonZero.length <= 50 && !ties && zeros === 0;
  // The zeros stay in the input: stdlib drops them itself and then, like R, avoids the exact path.
  const r = wilcoxon(d, { zeroMethod: "wilcox", correction: true });
  return {
    statistic: r.statistic,
    pValue: Math.min(1, r.pValue),
    method: `Wilcoxon signed-rank, ${exact ? "exact" : "normal approximation with tie correction and continuity correction"}, zeros dropped`,
    n: nonZero.length, zeros, exact,
  };
}

export interface PairedTResult extends TestResult {
  /** mean(a - b). */
  meanDiff: number;
  se: number;
  df: number;
  ci: Interval;
}

/** Paired t test of mean(a - b) = 0 with a t interval on the mean difference (stdlib ttest). */
export function pairedT(a: ArrayLike<number>, b: ArrayLike<number>, level = 0.95): PairedTResult {
  const x = finiteValues(a, "pairedT"), y = finiteValues(b, "pairedT");
  if (x.length !== y.length) throw new RangeError(`pairedT: ${x.length} vs ${y.length} items`);
  if (x.length < 2) throw new RangeError("pairedT: need at least two pairs");
  const r = ttest(x, y, { alpha: 1 - level });
  return {
    statistic: r.statistic, pValue: r.pValue, method: "paired t test (two-sided)",
    meanDiff: r.mean, se: r.sd, df: r.df,
    ci: { estimate: r.mean, lo: r.ci[0], hi: r.ci[1], level },
  };
}

function checkP(ps: readonly number[], who: string): void {
  ps.forEach((p, i) => { if (!(p >= 0 && p <= 1)) throw new RangeError(`${who}: p-value ${i} is ${p}`); });
}

/** Holm (1979) step-down adjusted p-values, in the input order (as R's p.adjust "holm"). */
export function holm(ps: readonly number[]): number[] {
  checkP(ps, "holm");
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((u, v) => u[0] - v[0]);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}

/** Benjamini–Hochberg (1995) step-up adjusted p-values, in the input order (R's "BH"). */
export function benjaminiHochberg(ps: readonly number[]): number[] {
  checkP(ps, "benjaminiHochberg");
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((u, v) => u[0] - v[0]);
  const out = new Array<number>(m);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    const [p, i] = order[k];
    running = Math.min(running, (m * p) / (k + 1));
    out[i] = running;
  }
  return out;
}

/**
 * Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k), computed as the stable product
 * 1 - prod_{i=n-c+1..n} (1 - k/i). Equals 1 when n - c < k.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (![n, c, k].every(Number.isInteger) || c < 0 || c > n || k < 1) throw new RangeError(`passAtK: need integers 0 <= c <= n, k >= 1; got n=${n} c=${c} k=${k}`);
  if (n < k) throw new RangeError(`passAtK: n=${n} samples cannot estimate pass@${k} (need n >= k)`);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}
