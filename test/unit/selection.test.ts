import assert from "node:assert/strict";
import { selectSet, thresholdAt } from "../../src/engine/tempo/selection.js";
import { nextDistribution, softmax } from "../../src/engine/tempo/distribution.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";

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
});
