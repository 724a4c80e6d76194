import { strict as assert } from "node:assert";
import { compare, compareLogits, TOP_KS, type DivergenceMetrics } from "../../src/engine/analysis/divergence.js";
import { fromLogits, fromLogProbs, fromProbs, massOf, mixture, topIndices } from "../../src/engine/math/distribution.js";
import { fastExp } from "../../src/engine/math/fast-exp.js";
import { log1pTable } from "../../src/engine/math/log1p-table.js";
import { logProbs, probs } from "../support/distributions.js";

/** Small deterministic PRNG so the random cases are reproducible. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
function randomLogits(n: number, rnd: () => number, scale = 4): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rnd() - 0.5) * 2 * scale + 17; // arbitrary offset
  return a;
}
/** Naive reference: probabilities via a plain softmax, metrics straight from the definitions. */
function naive(a: ArrayLike<number>, b: ArrayLike<number>) {
  const sm = (x: ArrayLike<number>) => {
    const m = Math.max(...Array.from(x));
    const e = Array.from(x, (v) => Math.exp(v - m));
    const s = e.reduce((u, v) => u + v, 0);
    return e.map((v) => v / s);
  };
  const p = sm(a), q = sm(b);
  let kl = 0, klr = 0, js = 0, tv = 0, hp = 0, hq = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    kl += p[i] * Math.log(p[i] / q[i]);
    klr += q[i] * Math.log(q[i] / p[i]);
    js += 0.5 * p[i] * Math.log(p[i] / m) + 0.5 * q[i] * Math.log(q[i] / m);
    tv += 0.5 * Math.abs(p[i] - q[i]);
    hp -= p[i] * Math.log(p[i]);
    hq -= q[i] * Math.log(q[i]);
  }
  const lp = p.map(Math.log), lq = q.map(Math.log);
  const dot = lp.reduce((s, v, i) => s + v * lq[i], 0);
  const cos = dot / Math.sqrt(lp.reduce((s, v) => s + v * v, 0) * lq.reduce((s, v) => s + v * v, 0));
  const top = (x: number[], k: number) => new Set(x.map((v, i) => [v, i] as const).sort((u, w) => w[0] - u[0] || u[1] - w[1]).slice(0, k).map((e) => e[1]));
  const overlap = (k: number) => { const A = top(p, k), B = top(q, k); let c = 0; for (const t of A) if (B.has(t)) c++; return c; };
  return { p, q, kl, klr, js, tv, hp, hq, cos, overlap };
}

describe("divergence", () => {
  it("matches hand-computed values on a two-token example", () => {
    // P = (0.5, 0.5), Q = (0.9, 0.1), given as logits log p.
    const m = compareLogits([Math.log(0.5), Math.log(0.5)], [Math.log(0.9), Math.log(0.1)], { ks: [1] });
    // KL(P||Q) = 0.5 ln(0.5/0.9) + 0.5 ln(0.5/0.1) = 0.5 ln(25/9)
    assert.ok(Math.abs(m.klPQ - 0.5 * Math.log(25 / 9)) < 1e-12);
    // KL(Q||P) = 0.9 ln(1.8) + 0.1 ln(0.2)
    assert.ok(Math.abs(m.klQP - (0.9 * Math.log(1.8) + 0.1 * Math.log(0.2))) < 1e-12);
    // M = (0.7, 0.3): JS = 0.5[0.5 ln(0.5/0.7) + 0.5 ln(0.5/0.3)] + 0.5[0.9 ln(0.9/0.7) + 0.1 ln(0.1/0.3)]
    const js = 0.5 * (0.5 * Math.log(0.5 / 0.7) + 0.5 * Math.log(0.5 / 0.3)) + 0.5 * (0.9 * Math.log(0.9 / 0.7) + 0.1 * Math.log(0.1 / 0.3));
    assert.ok(Math.abs(m.js - js) < 1e-12);
    assert.ok(Math.abs(m.tv - 0.4) < 1e-12);
    assert.ok(Math.abs(m.entropyP - Math.LN2) < 1e-12);
    assert.equal(m.top1Agree, true); // tie in P goes to token 0, Q's top is token 0
  });

  it("stays accurate for tiny (null-baseline sized) divergences", () => {
    // Q = P perturbed by 1e-6 in logit space: JS ~ Var(delta)/8 must keep its relative accuracy.
    const rnd = lcg(5);
    const a = Float64Array.from(randomLogits(5000, rnd));
    const d = a.map(() => (rnd() - 0.5) * 2e-6);
    const b = a.map((v, i) => v + d[i]);
    const m = compareLogits(a, b, { ks: [1] });
    // Second-order expansion: JS ≈ KL/4 ≈ Var_P(delta)/8, with agreement to O(delta^3).
    const P = fromLogits(a);
    let mean = 0, sq = 0;
    for (let i = 0; i < a.length; i++) { mean += P.prob(i) * d[i]; sq += P.prob(i) * d[i] * d[i]; }
    const varP = sq - mean * mean;
    assert.ok(Math.abs(m.js / (varP / 8) - 1) < 1e-4, `${m.js} vs ${varP / 8}`);
    assert.ok(Math.abs(m.klPQ / (varP / 2) - 1) < 1e-4, `${m.klPQ} vs ${varP / 2}`);
  });

  it("JS reaches ln 2 and TV reaches 1 for disjoint supports; KL is infinite", () => {
    const m = compareLogits([0, -Infinity], [-Infinity, 0], { ks: [1] });
    assert.ok(Math.abs(m.js - Math.LN2) < 1e-15);
    assert.equal(m.tv, 1);
    assert.equal(m.klPQ, Infinity);
    assert.equal(m.top1Agree, false);
    assert.equal(m.topK[0].overlap, 0);
  });

  it("is invariant to the logit offset and zero for identical inputs", () => {
    const rnd = lcg(1);
    const a = Float64Array.from(randomLogits(1000, rnd));
    const b = a.map((v) => v + 123.5); // float64: the offset is exact enough to cancel
    const m = compareLogits(a, b);
    assert.ok(m.js < 1e-12 && m.klPQ < 1e-10 && m.tv < 1e-12);
    assert.ok(Math.abs(m.cosineLogp - 1) < 1e-12);
    for (const t of m.topK) assert.equal(t.overlap, 1);
  });

  it("agrees with a naive implementation on random vectors", () => {
    const rnd = lcg(42);
    for (let trial = 0; trial < 5; trial++) {
      const a = randomLogits(3000, rnd), b = randomLogits(3000, rnd, 3);
      for (let i = 0; i < 3000; i += 7) b[i] = a[i]; // share some structure so overlaps are not all 0
      const m = compareLogits(a, b, { tokens: [0, 1, 1, 2], referenceToken: 5 });
      const r = naive(a, b);
      const close = (x: number, y: number) => assert.ok(Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y)), `${x} vs ${y}`);
      close(m.klPQ, r.kl); close(m.klQP, r.klr); close(m.js, r.js); close(m.tv, r.tv);
      close(m.entropyP, r.hp); close(m.entropyQ, r.hq); close(m.cosineLogp, r.cos);
      close(m.massP!, r.p[0] + r.p[1] + r.p[2]);
      close(m.refProbQ!, r.q[5]);
      for (const t of m.topK) {
        const c = r.overlap(t.k);
        close(t.overlap, c / t.k);
        close(t.jaccard, c / (2 * t.k - c));
      }
      assert.deepEqual(m.topK.map((t) => t.k), [...TOP_KS]);
    }
  });

  it("fastExp is within a few ulp of Math.exp", () => {
    const rnd = lcg(4);
    let worst = 0;
    for (let i = 0; i < 200000; i++) {
      const x = i < 100000 ? -rnd() * 40 : -rnd() * 708; // normal range (below, results are subnormal)
      const want = Math.exp(x);
      worst = Math.max(worst, Math.abs(fastExp(x) - want) / want);
    }
    assert.ok(worst < 3e-15, `max relative error ${worst}`);
    assert.ok(Math.abs(fastExp(-740) - Math.exp(-740)) < 1e-320);
    assert.equal(fastExp(0), 1);
    assert.equal(fastExp(-Infinity), 0);
    assert.ok(Number.isNaN(fastExp(NaN)));
    assert.ok(Math.abs(fastExp(5) / Math.exp(5) - 1) < 3e-15);
  });

  it("log1pTable is within a few ulp of Math.log1p on [1e-3, 1], and within 1e-17 absolute below", () => {
    const rnd = lcg(5);
    let worstRel = 0, worstAbs = 0;
    for (let i = 0; i < 200000; i++) {
      const x = i % 2 === 0 ? 1e-3 + (1 - 1e-3) * rnd() : 1e-3 * rnd();
      const want = Math.log1p(x), err = Math.abs(log1pTable(x) - want);
      if (x >= 1e-3) worstRel = Math.max(worstRel, err / want);
      else worstAbs = Math.max(worstAbs, err);
    }
    assert.ok(worstRel < 1e-15, `max relative error ${worstRel}`);
    assert.ok(worstAbs < 1e-17, `max absolute error ${worstAbs}`);
    assert.ok(Math.abs(log1pTable(1) - Math.LN2) < 2e-16 && Math.abs(log1pTable(0)) < 1e-18);
  });

  it("topIndices selects like a full sort, ties to the lower index", () => {
    const rnd = lcg(7);
    const v = Array.from({ length: 500 }, () => Math.floor(rnd() * 40)); // many ties
    const ref = v.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 50).map((e) => e[1]);
    assert.deepEqual(Array.from(topIndices(v, 50)), ref);
    assert.deepEqual(Array.from(topIndices([1, 2], 5)), [1, 0]);
  });

  it("fromLogProbs renormalises float32 rounding and refuses non-distributions", () => {
    const d = fromLogits([1, 2, 3, 4]);
    const f32 = Float32Array.from(logProbs(d));
    const e = fromLogProbs(f32);
    assert.ok(Math.abs(probs(e).reduce((s, x) => s + x, 0) - 1) < 1e-15);
    assert.throws(() => fromLogProbs([Math.log(0.2), Math.log(0.2)]), /sum to/);
    assert.throws(() => fromLogProbs([0.5, -1]), /not a log-probability/);
    assert.throws(() => fromLogits([1, NaN]), /entry 1 is NaN/);
  });

  it("mixture equals the weighted sum of probabilities", () => {
    const rnd = lcg(3);
    const comps = [fromLogits(randomLogits(200, rnd)), fromLogits(randomLogits(200, rnd)), fromLogits(randomLogits(200, rnd))];
    const w = [2, 1, 1];
    const mix = mixture(comps, w);
    for (let i = 0; i < 200; i++) {
      const ref = (2 * comps[0].prob(i) + comps[1].prob(i) + comps[2].prob(i)) / 4;
      assert.ok(Math.abs(mix.prob(i) - ref) < 1e-15 && Math.abs(mix.logProb(i) - Math.log(ref)) < 1e-12);
    }
    assert.equal(massOf(mix, [0, 0]), mix.prob(0));
    assert.throws(() => mixture(comps, [1, -1, 0]), /weight -1/);
    assert.throws(() => mixture(comps, [0, 0, 0]), /sum to zero/);
  });

  it("costs a small multiple of one exp per token (no sort, few passes)", function () {
    // Issue 4's budget (1,000 steps x 32k in under 1 s) is measured by bench/analysis.bench.ts.
    // This machine's cores are shared with other suites, so here the cost is taken RELATIVE to
    // a plain Math.exp pass over the same tokens, timed interleaved: a full sort per step or a
    // few extra passes would push the ratio far past the bound, load or no load.
    const rnd = lcg(9);
    const V = 32000, steps = 40;
    const pool = Array.from({ length: 4 }, () => randomLogits(V, rnd, 6));
    const pert = pool.map((a) => a.map((v) => v + (rnd() - 0.5) * 0.2));
    const flat = Float64Array.from(pool[0]);
    const ratios: number[] = [];
    let sink = 0;
    for (let rep = 0; rep < 5; rep++) {
      let t0 = performance.now();
      for (let s = 0; s < steps; s++) sink += compareLogits(pool[s % 4], pert[(s + 1) % 4]).js;
      const ours = performance.now() - t0;
      t0 = performance.now();
      for (let s = 0; s < 2 * steps; s++) for (let i = 0; i < V; i++) sink += Math.exp(flat[i]);
      ratios.push(ours / (performance.now() - t0));
    }
    ratios.sort((x, y) => x - y);
    const ratio = ratios[2];
    console.log(`      divergence: ${ratio.toFixed(2)} x the cost of exp over both distributions`);
    assert.ok(sink > 0);
    assert.ok(ratio < 8, `metrics cost ${ratio.toFixed(1)}x an exp pass`);
  });
});

describe("divergence fast path vs a straightforward reference", () => {
  /** Log-softmax with Math.exp/Math.log and every metric from its definition; no series, no shortcuts. */
  function reference(a: ArrayLike<number>, b: ArrayLike<number>, tokens: number[]) {
    const logSoftmax = (x: ArrayLike<number>) => {
      const m = Math.max(...Array.from(x));
      const logSum = Math.log(Array.from(x).reduce((s, v) => s + Math.exp(v - m), 0));
      return Array.from(x, (v) => v - m - logSum); // shift first: logits of ~1000 would cost ~1e-13
    };
    const lp = logSoftmax(a), lq = logSoftmax(b);
    const p = lp.map(Math.exp), q = lq.map(Math.exp);
    let klPQ = 0, klQP = 0, js = 0, tv = 0, hP = 0, hQ = 0, dot = 0, nP = 0, nQ = 0;
    for (let i = 0; i < p.length; i++) {
      const lm = Math.log(p[i] + q[i]) - Math.LN2;
      // 0 log 0 = 0; a token with p > 0 and ln q = -Infinity makes KL(P||Q) infinite.
      if (p[i] > 0) { klPQ += p[i] * (lp[i] - lq[i]); js += 0.5 * p[i] * (lp[i] - lm); hP -= p[i] * lp[i]; }
      if (q[i] > 0) { klQP += q[i] * (lq[i] - lp[i]); js += 0.5 * q[i] * (lq[i] - lm); hQ -= q[i] * lq[i]; }
      tv += 0.5 * Math.abs(p[i] - q[i]);
      if (lp[i] !== -Infinity && lq[i] !== -Infinity) {
        dot += lp[i] * lq[i];
        nP += lp[i] ** 2;
        nQ += lq[i] ** 2;
      }
    }
    const order = (x: number[]) => x.map((v, i) => [v, i]).sort((u, w) => w[0] - u[0] || u[1] - w[1]).map((e) => e[1]);
    const [byP, byQ] = [order(p), order(q)];
    const overlap = (k: number) => byP.slice(0, k).filter((t) => byQ.slice(0, k).includes(t)).length;
    const mass = (x: number[]) => [...new Set(tokens)].reduce((s, t) => s + x[t], 0);
    return { p, q, klPQ, klQP, js, tv, hP, hQ, cos: dot / Math.sqrt(nP * nQ), overlap, massP: mass(p), massQ: mass(q) };
  }

  function assertMatches(m: DivergenceMetrics, r: ReturnType<typeof reference>, label: string) {
    // ~1e-9 relative; the 1e-15 floor is the reference's own rounding on values near zero.
    const close = (x: number, y: number, what: string) =>
      assert.ok(x === y || Math.abs(x - y) <= 1e-9 * Math.abs(y) + 1e-15, `${label}: ${what} ${x} vs reference ${y}`);
    close(m.klPQ, r.klPQ, "KL(P||Q)");
    close(m.klQP, r.klQP, "KL(Q||P)");
    close(m.js, r.js, "JS");
    close(m.tv, r.tv, "TV");
    close(m.cosineLogp, r.cos, "cosine");
    close(m.entropyP, r.hP, "H(P)");
    close(m.entropyQ, r.hQ, "H(Q)");
    close(m.massP!, r.massP, "mass P");
    close(m.massQ!, r.massQ, "mass Q");
    for (const t of m.topK) assert.equal(Math.round(t.overlap * t.k), r.overlap(t.k), `${label}: top-${t.k} overlap`);
  }

  const V = 4000;
  const rnd = lcg(2024);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const base = () => Float64Array.from({ length: V }, () => 3 * gauss());
  const withZeros = (x: Float64Array, every: number, phase: number) => x.map((v, i) => (i % every === phase ? -Infinity : v));
  const cases: [string, () => [Float64Array, Float64Array]][] = [
    ["near-identical (series regime)", () => { const a = base(); return [a, a.map((v) => v + 0.05 * gauss())]; }],
    ["unrelated (log regime)", () => [base(), base()]],
    ["mixed regimes", () => { const a = base(); return [a, a.map((v, i) => v + (i % 2 ? 0.01 : 2) * gauss())]; }],
    ["zero-probability tokens on both sides", () => { const a = base(); return [withZeros(a, 7, 0), withZeros(a.map((v) => v + 0.3 * gauss()), 5, 1)]; }],
    ["zeros in P only (KL(P||Q) finite, KL(Q||P) infinite)", () => { const a = base(); return [withZeros(a, 3, 2), a.map((v) => v + gauss())]; }],
    ["very peaked", () => { const a = base(), b = a.map((v) => v + 0.2 * gauss()); a[17] = 60; b[17] = 58; b[99] = 55; return [a, b]; }],
    ["underflowing tails", () => { const a = base().map((v) => v * 120), b = a.map((v) => v + gauss()); return [a, b]; }],
  ];
  for (const [label, make] of cases) {
    it(`fromLogits: ${label}`, () => {
      for (let trial = 0; trial < 3; trial++) {
        const [a, b] = make();
        const tokens = [0, 17, 99, 99, 1234];
        assertMatches(compare(fromLogits(a), fromLogits(b), { tokens }), reference(a, b, tokens), `${label} #${trial}`);
      }
    });
  }

  it("fromProbs and fromLogProbs give the metrics fromLogits gives", () => {
    const [a, b] = cases[3][1]();
    const tokens = [3, 4];
    const r = reference(a, b, tokens);
    assertMatches(compare(fromProbs(r.p), fromProbs(r.q), { tokens }), r, "fromProbs");
    assertMatches(compare(fromLogProbs(r.p.map(Math.log)), fromLogProbs(r.q.map(Math.log)), { tokens }), r, "fromLogProbs");
    assert.throws(() => fromProbs([0.5, -0.1, 0.6]), /entry 1 is -0.1, not a probability/);
    assert.throws(() => fromProbs([0.5, NaN]), /entry 1 is NaN/);
    assert.throws(() => fromProbs([0.2, 0.2]), /sum to 0.4/);
  });

  it("a recycled distribution reports the new vector, not the old one", () => {
    const a = base(), b = base();
    const first = fromLogits(a);
    const firstP = probs(first);
    const second = fromLogits(b, { reuse: first });
    const fresh = fromLogits(b);
    assert.deepEqual(probs(second), probs(fresh));
    assert.deepEqual(logProbs(second), logProbs(fresh));
    assert.notDeepEqual(probs(second), firstP);
    assert.equal(second.entropy, fresh.entropy);
  });
});
