import assert from "node:assert/strict";
import { ranksOf, selectSet } from "../../src/engine/tempo/selection.js";
import { schedulePreview, thresholdAt } from "../../src/engine/tempo/schedule.js";
import { topTokens } from "../../src/engine/math/top-k.js";
import { DistributionRows, entropy, nextDistribution, softmax, softmaxHead } from "../../src/engine/tempo/distribution.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { topIndices } from "../../src/engine/math/distribution.js";
import { rng } from "../fixtures/seeded-model.js";

const probs = (...p: number[]) => Float64Array.from(p);
const noEog = () => false;

describe("selection rules", () => {
  it("keeps every token with p >= threshold, sorted by probability, with ranks", () => {
    const set = selectSet(probs(0.05, 0.4, 0.1, 0.3, 0.15), 0.1, 0, 8, noEog);
    assert.deepEqual(set.map((m) => m.token), [1, 3, 4, 2]);
    assert.deepEqual(set.map((m) => m.rank), [0, 1, 2, 3]);
  });
  it("caps the set at maxWidth, keeping the most probable", () => {
    assert.deepEqual(selectSet(probs(0.05, 0.4, 0.1, 0.3, 0.15), 0.1, 0, 2, noEog).map((m) => m.token), [1, 3]);
  });
  it("falls back to the top-1 when nothing passes", () => {
    assert.deepEqual(selectSet(probs(0.2, 0.3, 0.25, 0.25), 0.5, 0, 8, noEog).map((m) => m.token), [1]);
  });
  it("never puts an end-of-generation token in a set", () => {
    const set = selectSet(probs(0.5, 0.3, 0.2), 0.1, 0, 8, (t) => t === 1);
    assert.deepEqual(set.map((m) => m.token), [0, 2]);
  });
  it("relative rule: cutoff = max(threshold, alpha * p_max)", () => {
    const p = probs(0.6, 0.25, 0.1, 0.05);
    assert.deepEqual(selectSet(p, 0.01, 0.3, 8, noEog).map((m) => m.token), [0, 1]);
    assert.deepEqual(selectSet(p, 0.01, 0, 8, noEog).map((m) => m.token), [0, 1, 2, 3]);
  });
  it("linear schedule interpolates over maxSteps; constant does not move", () => {
    const lin = resolveConfig({ threshold: 0.3, thresholdEnd: 0.1, schedule: "linear", maxSteps: 3 });
    assert.deepEqual([0, 1, 2, 5].map((i) => +thresholdAt(lin, i).toFixed(6)), [0.3, 0.2, 0.1, 0.1]);
    const c = resolveConfig({ threshold: 0.3, maxSteps: 3 });
    assert.equal(thresholdAt(c, 2), 0.3);
    // cosine: from threshold to thresholdEnd, flat at both ends, half way at the middle step.
    const cos = resolveConfig({ threshold: 0.3, thresholdEnd: 0.1, schedule: "cosine", maxSteps: 5 });
    assert.deepEqual([0, 1, 2, 3, 4, 9].map((i) => +thresholdAt(cos, i).toFixed(6)), [0.3, +(0.1 + 0.2 * (1 + Math.SQRT1_2) / 2).toFixed(6), 0.2, +(0.1 + 0.2 * (1 - Math.SQRT1_2) / 2).toFixed(6), 0.1, 0.1]);
    assert.deepEqual(schedulePreview(cos, 3).map((t) => +t.toFixed(6)), [0.3, 0.2, 0.1]);
    assert.throws(() => resolveConfig({ maxSteps: 4, minSteps: 5 }), /min steps \(5\) cannot exceed max steps \(4\)/);
  });
});

describe("next-step policies", () => {
  const a = Float32Array.from([2, 0, 0]), b = Float32Array.from([0, 0, 2]);
  it("top = the most probable member's distribution, last = the least probable member's", () => {
    assert.deepEqual(nextDistribution("top", [a, b], [0.7, 0.3], 1), softmax(a, 1));
    assert.deepEqual(nextDistribution("last", [a, b], [0.7, 0.3], 1), softmax(b, 1));
  });
  it("mixture weights the members' distributions by renormalised probability", () => {
    const mix = nextDistribution("mixture", [a, b], [0.3, 0.1], 1);
    const pa = softmax(a, 1), pb = softmax(b, 1);
    mix.forEach((v, i) => assert.ok(Math.abs(v - (0.75 * pa[i] + 0.25 * pb[i])) < 1e-15));
    assert.ok(Math.abs(mix.reduce((s, v) => s + v, 0) - 1) < 1e-12);
  });
  it("temperature flattens or sharpens", () => {
    assert.ok(softmax(a, 2)[0] < softmax(a, 1)[0]);
    assert.ok(softmax(a, 0.5)[0] > softmax(a, 1)[0]);
  });
  it("softmaxHead gives the same bits as the softmax row and the single-softmax entropy", () => {
    for (const temperature of [1, 0.7, 2]) {
      const logits = tiedLogits(32000, 7);
      const rows: DistributionRows = { out: new Float64Array(logits.length), scratch: new Float64Array(logits.length) };
      nextDistribution("top", [logits], [1], temperature, rows);
      const tokens = [0, 1, 97, 98, 31999];
      const head = softmaxHead(logits, temperature, tokens);
      assert.deepEqual(head.probs, tokens.map((t) => rows.out[t]));
      assert.equal(head.entropy, rows.entropy);
    }
  });
});

/** Logits with many exact ties (values on a coarse grid) and some adjacent float32 values. */
function tiedLogits(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(r() * 40) / 8;
  for (let i = 0; i + 1 < n; i += 97) out[i + 1] = Math.fround(out[i] * (1 + 2 ** -23)); // one float32 ulp apart
  return out;
}

/** Reference: every index sorted by value (descending), ties to the lower index. */
const sortedIndices = (v: ArrayLike<number>) => Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[b] - v[a] || a - b);

describe("selection helpers against plain sorts (the generation loop uses them on every step)", () => {
  it("topTokens = the head of a full sort, ties to the lower index, for float64 and float32 rows", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const logits = tiedLogits(3000, seed);
      const probs = softmax(logits, 1);
      for (const k of [1, 2, 10, 50]) {
        assert.deepEqual(topTokens(probs, k), sortedIndices(probs).slice(0, k), `seed ${seed} k ${k}`);
        assert.deepEqual(topTokens(probs, k), Array.from(topIndices(probs, k)));
        assert.deepEqual(topTokens(logits, k), sortedIndices(logits).slice(0, k));
      }
    }
    assert.deepEqual(topTokens(probs(0.2, 0.5), 5), [1, 0], "k beyond the row");
  });
  it("topTokens with a floor and a filter = filter, sort, cap; the filter is asked only about contenders", () => {
    const p = softmax(tiedLogits(3000, 7), 1);
    const floor = sortedIndices(p).map((i) => p[i])[40];
    const accept = (t: number) => t % 3 !== 0;
    const asked: number[] = [];
    const got = topTokens(p, 8, floor, (t) => { asked.push(t); return accept(t); });
    assert.deepEqual(got, sortedIndices(p).filter((i) => p[i] >= floor && accept(i)).slice(0, 8));
    assert.ok(asked.every((t) => p[t] >= floor), "never asked about a token below the floor");
  });
  it("ranksOf = each token's position in the full sort, in the order asked", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const p = softmax(tiedLogits(2000, seed), 1);
      const position = new Map(sortedIndices(p).map((t, r) => [t, r]));
      const r = rng(seed);
      const tokens = [...new Set(Array.from({ length: 8 }, () => Math.floor(r() * p.length)))];
      tokens.push(sortedIndices(p)[0], sortedIndices(p)[1]); // the head too
      const distinct = [...new Set(tokens)];
      assert.deepEqual(ranksOf(p, distinct), distinct.map((t) => position.get(t)), `seed ${seed}`);
    }
  });
  it("the largest logit is the most probable token at any temperature (the greedy step reads it from the logits)", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const logits = tiedLogits(3000, seed);
      logits[seed * 31] = logits[seed * 37] = 5.5; // a tie at the top
      logits[seed * 41] = Math.fround(5.5 * (1 - 2 ** -24)); // and a float32 ulp below it
      for (const t of [0.05, 0.7, 1, 3, 100]) assert.deepEqual(topTokens(logits, 1), topTokens(softmax(logits, t), 1), `seed ${seed} T ${t}`);
    }
  });
});

describe("reused distribution rows", () => {
  const members = [tiedLogits(500, 1), tiedLogits(500, 2), tiedLogits(500, 3)];
  it("nextDistribution into reused rows equals the allocating call bit for bit, for every policy", () => {
    const rows = { out: new Float64Array(500).fill(7), scratch: new Float64Array(500).fill(-1) };
    for (const policy of ["mixture", "top", "last"] as const) {
      for (const t of [1, 0.6]) {
        const fresh = nextDistribution(policy, members, [0.5, 0.3, 0.2], t);
        assert.equal(nextDistribution(policy, members, [0.5, 0.3, 0.2], t, rows), rows.out);
        assert.deepEqual(rows.out, fresh, `${policy} T ${t}`);
      }
    }
    assert.deepEqual(nextDistribution("mixture", members.slice(0, 1), [0.4], 1, rows), softmax(members[0], 1), "one member: its softmax");
  });
  it("a single softmax's entropy comes with the pass; a mixture leaves it to entropy(out)", () => {
    const rows: DistributionRows = { out: new Float64Array(500), scratch: new Float64Array(500) };
    const masked = Float32Array.from(members[0]);
    masked[3] = -Infinity; // a token that can never come: p = 0 adds nothing to the entropy
    for (const logits of [members[0], masked]) {
      for (const t of [1, 0.6, 2.5]) {
        nextDistribution("top", [logits, members[1]], [0.5, 0.3], t, rows);
        const want = entropy(rows.out);
        assert.ok(Math.abs(rows.entropy! - want) < 1e-13 * want, `T ${t}: ${rows.entropy} vs ${want}`);
      }
    }
    nextDistribution("mixture", members, [0.5, 0.3, 0.2], 1, rows);
    assert.equal(rows.entropy, undefined);
  });
});
