import { strict as assert } from "node:assert";
import {
  benjaminiHochberg, bootstrapMean, holm, mcnemarExact, mcnemarPaired, pairedBootstrapMeanDiff, pairedT,
  passAtK, quantile, summarize, wilcoxonSignedRank, wilson,
} from "../../src/engine/analysis/stats.js";

const near = (x: number, y: number, tol: number, what = "") => assert.ok(Math.abs(x - y) <= tol, `${what} ${x} vs ${y} (tol ${tol})`);

// Student's sleep data (Cushny & Peebles 1905), R `datasets::sleep`, extra hours by group.
const sleep1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const sleep2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

describe("stats", () => {
  it("quantiles follow R's type 7", () => {
    // R: quantile(1:10, c(.5, .9, .95, .99)) -> 5.5 9.1 9.55 9.91
    const x = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    near(quantile(x, 0.5), 5.5, 1e-12); near(quantile(x, 0.9), 9.1, 1e-12);
    near(quantile(x, 0.95), 9.55, 1e-12); near(quantile(x, 0.99), 9.91, 1e-12);
    const s = summarize(x);
    // R: mean(1:10) = 5.5, sd(1:10) = 3.02765, sd/sqrt(10) = 0.9574271
    near(s.mean, 5.5, 1e-12); near(s.sd, 3.0276504, 1e-7); near(s.se, 0.9574271, 1e-7);
    assert.equal(s.max, 10); assert.equal(s.min, 1); near(s.p99, 9.91, 1e-12);
    assert.throws(() => summarize([1, NaN]), /NaN/);
  });

  it("paired t matches R's t.test(extra ~ group, data = sleep, paired = TRUE)", () => {
    // R output: t = -4.0621, df = 9, p-value = 0.002833,
    // 95 percent confidence interval: -2.4598858 -0.7001142, mean difference -1.58
    const r = pairedT(sleep1, sleep2);
    near(r.statistic, -4.0621, 5e-5); assert.equal(r.df, 9); near(r.pValue, 0.002833, 5e-7);
    near(r.ci.lo, -2.4598858, 1e-7); near(r.ci.hi, -0.7001142, 1e-7); near(r.meanDiff, -1.58, 1e-12);
  });

  it("Wilcoxon exact matches R's ?wilcox.test depression example", () => {
    // Hollander & Wolfe (1973) p. 29, in R's ?wilcox.test: wilcox.test(x, y, paired = TRUE,
    // alternative = "greater") gives V = 40, p-value = 0.01953 (= 10/512); two-sided is 20/512.
    const x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30];
    const y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
    const r = wilcoxonSignedRank(x, y);
    assert.equal(r.statistic, 40); assert.equal(r.exact, true);
    near(r.pValue, 20 / 512, 1e-12);
  });

  it("Wilcoxon uses the tie-corrected normal approximation with ties or zeros", () => {
    // Independent reference: V, E[V] = n(n+1)/4, Var with the tie term sum(t^3 - t)/48,
    // continuity 0.5, and Phi by Simpson integration of the normal density.
    const d = [1, 2, 2, 3, -1, 4, 5, -2, 6, 7, 0, 3, 3, -4];
    const r = wilcoxonSignedRank(d, d.map(() => 0));
    const nz = d.filter((v) => v !== 0);
    const n = nz.length;
    const abs = nz.map(Math.abs).sort((a, b) => a - b);
    const rank = (v: number) => { const f = abs.indexOf(v), l = abs.lastIndexOf(v); return (f + l) / 2 + 1; };
    const V = nz.filter((v) => v > 0).reduce((s, v) => s + rank(Math.abs(v)), 0);
    const counts = new Map<number, number>(); for (const a of abs) counts.set(a, (counts.get(a) ?? 0) + 1);
    let tie = 0; for (const t of counts.values()) tie += t ** 3 - t;
    const sigma = Math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - tie / 48);
    const z = (V - n * (n + 1) / 4 - 0.5 * Math.sign(V - n * (n + 1) / 4)) / sigma;
    const phiUpper = (t: number) => { const N = 2000, hi = 12, h = (hi - t) / N; let s = 0; for (let i = 0; i <= N; i++) { const w = i === 0 || i === N ? 1 : i % 2 ? 4 : 2; s += w * Math.exp(-((t + i * h) ** 2) / 2); } return (s * h) / 3 / Math.sqrt(2 * Math.PI); };
    assert.equal(r.exact, false); assert.equal(r.zeros, 1); assert.equal(r.statistic, V);
    near(r.pValue, 2 * phiUpper(Math.abs(z)), 1e-9);
    assert.equal(wilcoxonSignedRank([1, 2], [1, 2]).pValue, 1);
  });

  it("exact McNemar is the two-sided binomial sign test on discordant pairs", () => {
    // b = 1, c = 9: p = 2 * P(X <= 1 | 10, 1/2) = 2 * 11/1024
    near(mcnemarExact(1, 9).pValue, 22 / 1024, 1e-12);
    near(mcnemarExact(9, 1).pValue, 22 / 1024, 1e-12);
    assert.equal(mcnemarExact(5, 5).pValue, 1);
    assert.equal(mcnemarExact(0, 0).pValue, 1);
    const r = mcnemarPaired([true, true, false, false, true], [true, false, false, true, false]);
    assert.deepEqual([r.b, r.c], [2, 1]);
  });

  it("Wilson intervals match Newcombe (1998) Table I", () => {
    // Newcombe, Statistics in Medicine 17:857-872, method 3 (score without continuity correction).
    const cases: [number, number, number, number][] = [[81, 263, 0.2553, 0.3662], [15, 148, 0.0624, 0.1605], [0, 20, 0, 0.1611], [1, 29, 0.0061, 0.1718]];
    for (const [x, n, lo, hi] of cases) {
      const w = wilson(x, n);
      near(w.lo, lo, 6e-5, `${x}/${n} lo`); near(w.hi, hi, 6e-5, `${x}/${n} hi`);
    }
    assert.throws(() => wilson(3, 2), /successes/);
  });

  it("Holm and Benjamini-Hochberg follow p.adjust", () => {
    // By hand from the definitions (R's p.adjust gives the same):
    // sorted 0.005, 0.01, 0.03, 0.04 -> Holm 4*0.005, 3*0.01, max(2*0.03, .), max(1*0.04, 0.06)
    const p = [0.01, 0.04, 0.03, 0.005];
    holm(p).forEach((v, i) => near(v, [0.03, 0.06, 0.06, 0.02][i], 1e-15));
    // BH: 0.04*4/4, min(0.03*4/3, .), min(0.01*4/2, .), min(0.005*4/1, .)
    benjaminiHochberg(p).forEach((v, i) => near(v, [0.02, 0.04, 0.04, 0.02][i], 1e-15));
    assert.deepEqual(holm([0.5, 0.9]), [1, 1]);
    assert.throws(() => holm([1.5]), /p-value 0/);
  });

  it("pass@k equals 1 - C(n-c,k)/C(n,k)", () => {
    const C = (n: number, k: number) => { let r = 1; for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i; return r; };
    near(passAtK(10, 3, 5), 1 - 21 / 252, 1e-15);
    for (const [n, c, k] of [[20, 4, 1], [20, 4, 10], [50, 7, 3], [8, 1, 2]]) near(passAtK(n, c, k), 1 - C(n - c, k) / C(n, k), 1e-12);
    near(passAtK(10, 3, 1), 0.3, 1e-15);
    assert.equal(passAtK(5, 3, 3), 1);
    assert.equal(passAtK(5, 0, 2), 0);
    assert.throws(() => passAtK(2, 1, 3), /need n >= k/);
  });

  it("bootstrap is seeded, item-level and paired", () => {
    const x = Array.from({ length: 200 }, (_, i) => Math.sin(i * 1.7) * 3 + (i % 7));
    const a = bootstrapMean(x, { seed: 7 }), b = bootstrapMean(x, { seed: 7 }), c = bootstrapMean(x, { seed: 8 });
    assert.deepEqual(a, b);
    assert.notEqual(a.lo, c.lo);
    const s = summarize(x);
    near(a.estimate, s.mean, 1e-12);
    // Percentile interval of the mean ~ mean ± 1.96 se for this well-behaved sample.
    near(a.hi - a.lo, 2 * 1.96 * s.se, 0.15 * 2 * 1.96 * s.se);
    // Pairing: a constant shift gives a zero-width interval on the difference.
    const d = pairedBootstrapMeanDiff(x.map((v) => v + 2), x, { seed: 3 });
    near(d.lo, 2, 1e-9); near(d.hi, 2, 1e-9);
  });
});

import { pairedPromptStats } from "../../src/engine/analysis/paired.js";

describe("paired statistics over prompts", () => {
  it("pairs each prompt with its null baseline and adjusts across metrics", () => {
    const items = Array.from({ length: 12 }, (_, i) => ({
      id: `p${i}`,
      comparison: { js: 0.01 + 0.001 * i, tv: 0.1 + (i % 3) * 0.01, same: i },
      nullBaseline: { js: 1e-9 * (i + 1), tv: 0.1 + (i % 3) * 0.01 + (i % 2 ? 1e-3 : -1e-3), same: i },
    }));
    const r = pairedPromptStats(items, ["js", "tv", "same", "missing"]);
    assert.deepEqual(r.metrics.map((m) => m.metric), ["js", "tv", "same"]);
    const js = r.metrics[0];
    assert.equal(js.n, 12);
    near(js.meanDiff, items.reduce((s, it) => s + it.comparison.js - it.nullBaseline.js, 0) / 12, 1e-15);
    // All 12 differences positive and distinct: exact two-sided p = 2 / 2^12.
    near(js.wilcoxonPValue, 2 / 4096, 1e-15);
    assert.ok(js.tInterval.lo > 0 && js.bootstrap.lo > 0);
    // Holm over 3 p-values: the smallest is multiplied by 3.
    near(js.holm, Math.min(1, 3 * js.wilcoxonPValue), 1e-15);
    assert.equal(r.metrics[2].wilcoxonPValue, 1); // identical arms
  });
});
