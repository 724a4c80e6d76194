// The comparison view's derivations: highlight and bar scale from the engine's null band, where
// the free runs part, the progress line, and the phase clock's rate and time left.
import * as assert from "node:assert/strict";
import type { ReplayRow, StepEventMessage } from "../../src/protocol/engine.js";
import { aboveNullBand, nullBandOf, type NullBand } from "../../src/protocol/null-band.js";
import { barFraction, barScale, firstParting, formatJs, highlightedRows, progressText, scaleText } from "../../webview/comparison-model.js";
import { PhaseClock, MIN_RATE_WINDOW_MS } from "../../src/extension/compare-progress.js";
import { summarize } from "../../src/engine/analysis/stats.js";

const candidate = (token: number) => ({ token, text: `t${token}`, prob: 0.5, logprob: Math.log(0.5), rank: 0, cell: token });
const row = (step: number, js: number | null): ReplayRow => ({ step, set: [candidate(1)], next: { p: { token: 1, text: "a", prob: 0.6 }, q: { token: 2, text: "b", prob: 0.5 } }, js, nullJs: 1e-9 });
const band = (p99: number, min = 0): NullBand => ({ min, p99, steps: 10 });

function freeStep(index: number, tokens: number[]): StepEventMessage {
  return {
    index, position: index, mode: "isolated", policy: "mixture", threshold: 0.1, candidates: tokens.map(candidate), top: [],
    entropy: 1, setMass: 0.5, timings: { decodeMs: 1, selectMs: 0 },
  };
}

describe("comparison view: null band, highlight and bar scale", () => {
  it("takes the band from a null summary, and nothing from an empty one", () => {
    const s = summarize([1e-9, 2e-9, 3e-9, 4e-9]);
    assert.deepEqual(nullBandOf(s), { min: 1e-9, p99: s.p99, steps: 4 });
    assert.equal(nullBandOf(summarize([])), null);
    assert.equal(nullBandOf(undefined), null);
  });

  it("highlights only the steps whose JS is above the band's top", () => {
    const rows = [row(0, 1e-9), row(1, 2e-6), row(2, null), row(3, 1e-6), row(4, 0)];
    assert.deepEqual(highlightedRows(rows, band(1e-6)), [false, true, false, false, false]);
    assert.deepEqual(highlightedRows(rows, null), [false, false, false, false, false], "no band, no highlight");
    assert.equal(aboveNullBand(1e-6, band(1e-6)), false, "at the top is inside the band");
  });

  it("scales bars to multiples of the null p99, the largest step at full width and the band's top at the tick", () => {
    const p99 = 2 ** -20; // powers of two: the multiples are exact
    const rows = [row(0, p99), row(1, 64 * p99), row(2, null)];
    const scale = barScale(rows, band(p99))!;
    assert.deepEqual(scale, { unit: p99, unitIsNullP99: true, maxMultiple: 64 });
    assert.equal(barFraction(64 * p99, scale), 1);
    assert.equal(barFraction(null, scale), 0);
    assert.ok(Math.abs(barFraction(p99, scale) - Math.log(2) / Math.log(65)) < 1e-12, "the tick");
    assert.ok(barFraction(8 * p99, scale) > barFraction(p99, scale) && barFraction(8 * p99, scale) < 1);
    assert.match(scaleText(scale, band(p99), true), /multiples of the null's 99th percentile \(9\.5e-7 nats over 10 steps\).*full width ×64/);
  });

  it("keeps the full width at the tick when no step is above the null", () => {
    const scale = barScale([row(0, 1e-7)], band(1e-6))!;
    assert.equal(scale.maxMultiple, 1);
    assert.equal(barFraction(1e-6, scale), 1);
  });

  it("falls back to the smallest JS when the null is exactly 0, and says so", () => {
    const scale = barScale([row(0, 2 ** -15), row(1, 2 ** -16)], band(0))!;
    assert.deepEqual(scale, { unit: 2 ** -16, unitIsNullP99: false, maxMultiple: 2 });
    assert.match(scaleText(scale, band(0), false), /smallest JS .*null is 0 at every step so far \(10 steps\)/);
    assert.equal(barScale([row(0, 0)], band(0)), null);
    assert.match(scaleText(null, null, true), /No null baseline/);
  });

  it("prints JS with two significant digits, zero as 0", () => {
    assert.equal(formatJs(0.000123456), "1.2e-4");
    assert.equal(formatJs(0), "0");
  });
});

describe("comparison view: where the free runs part", () => {
  it("is the first step whose choices differ, sets or single tokens", () => {
    const same = [freeStep(0, [5]), freeStep(1, [6])];
    assert.equal(firstParting({ isolated: same, visible: same, standard: same }), null);
    assert.equal(firstParting({ isolated: [freeStep(0, [5]), freeStep(1, [6, 7])], visible: [freeStep(0, [5]), freeStep(1, [6])], standard: same }), 1);
    assert.equal(firstParting({ isolated: [freeStep(0, [9])], visible: same, standard: same }), 0);
  });

  it("counts a run that ended as parting", () => {
    const same = [freeStep(0, [5]), freeStep(1, [6])];
    assert.equal(firstParting({ isolated: same, visible: same, standard: same.slice(0, 1) }), 1);
  });
});

describe("comparison progress", () => {
  it("measures the rate from the phase's first report and states the time left", () => {
    let now = 0;
    const clock = new PhaseClock(() => now);
    const first = clock.update("generate", 0, 64, true);
    assert.equal(first.rate, undefined, "no rate before anything was measured");
    now = 5_000; // setup before the first step: not part of the rate
    assert.equal(clock.update("replay", 1, 64, false).rate, undefined);
    now = 5_000 + MIN_RATE_WINDOW_MS / 2;
    assert.equal(clock.update("replay", 2, 64, false).rate, undefined, "too short a window");
    now = 5_000 + 10_000;
    const p = clock.update("replay", 21, 64, false);
    assert.equal(p.rate, 2);
    assert.equal(p.etaS, 21.5);
    assert.equal(progressText(p), "replaying isolated, visible and null 21/64 · 2.0 steps/s · ~22 s left (phase 2 of 4)");
  });

  it("says 'at most' for a generation, whose step count is an upper bound", () => {
    let now = 0;
    const clock = new PhaseClock(() => now);
    clock.update("visible", 0, 64, true);
    now = 4_000;
    assert.equal(progressText(clock.update("visible", 16, 64, true)), "free visible run 16/≤64 · 4.0 steps/s · at most 12 s left (phase 3 of 4)");
    assert.equal(progressText(new PhaseClock(() => 0).update("standard", 0, 64, true)), "free standard run 0/≤64 · measuring rate (phase 4 of 4)");
  });
});
