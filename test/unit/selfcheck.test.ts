import assert from "node:assert/strict";
import { seededModelPath, SeededModelShape, TINY_GQA_SHAPE, TINY_SHAPE } from "../fixtures/seeded-model.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoSession } from "../../src/engine/session.js";
import { EFFECT_FACTOR, EQUALITY_FACTOR, judgeEffect, judgeEquality, overallVerdict, runSelfCheck, SelfCheckResult } from "../../src/engine/tempo/selfcheck.js";

describe("selfcheck verdicts", () => {
  const floor = 1e-6;
  it("an equality passes within EQUALITY_FACTOR × floor and fails beyond", () => {
    assert.equal(judgeEquality(0, floor).verdict, "pass");
    assert.equal(judgeEquality(EQUALITY_FACTOR * floor, floor).verdict, "pass");
    const fail = judgeEquality(EQUALITY_FACTOR * floor * 1.01, floor);
    assert.equal(fail.verdict, "FAIL");
    assert.match(fail.reason!, /noise floor/);
  });
  it("an effect passes beyond EFFECT_FACTOR × floor, is inconclusive below, fails only when bit-identical", () => {
    assert.equal(judgeEffect(EFFECT_FACTOR * floor * 1.01, floor).verdict, "pass");
    assert.equal(judgeEffect(EFFECT_FACTOR * floor, floor).verdict, "inconclusive");
    assert.equal(judgeEffect(floor / 100, floor).verdict, "inconclusive");
    assert.equal(judgeEffect(0, floor).verdict, "FAIL");
  });
  it("the overall verdict: FAIL over inconclusive over pass", () => {
    const result = (...verdicts: ("pass" | "FAIL" | "inconclusive")[]): SelfCheckResult => ({
      width: 4, noiseFloor: { measured: 0, float32: 0, used: 0, source: "given" },
      rows: verdicts.map((verdict) => ({ check: "x", width: 4, maxAbsDiff: 0, expect: "<=", bound: 0, verdict })),
    });
    assert.equal(overallVerdict([result("pass", "pass")]), "pass");
    assert.equal(overallVerdict([result("pass"), result("inconclusive")]), "inconclusive");
    assert.equal(overallVerdict([result("inconclusive"), result("FAIL", "pass")]), "FAIL");
  });
});

/** The model of the report: valid, GQA 6:2, width 96, logits of moderate scale (a weak model). */
const WEAK_GQA_SHAPE: SeededModelShape = { ...TINY_SHAPE, seed: 12, nLayer: 3, nEmbd: 96, nHead: 6, nHeadKv: 2, nFf: 192, nCtxTrain: 1024, logitScale: 1 };

for (const [name, shape, widths] of [
  ["MHA", TINY_SHAPE, [4, 32, 64]], ["GQA 8:2", TINY_GQA_SHAPE, [4, 32, 64]], ["weak GQA 6:2", WEAK_GQA_SHAPE, [4, 16]],
] as const) {
  describe(`selfcheck on a seeded ${name} model`, () => {
    let model: TempoModel;
    let session: TempoSession;
    before(async () => {
      model = await TempoModel.open(seededModelPath(shape));
      session = new TempoSession(model, { contextSize: 1024, lanes: Math.max(...widths) });
    });
    after(async () => { session.dispose(); await model.dispose(); });

    for (const width of widths) {
      it(`width ${width}: the floor is measured, equalities hold, nothing fails`, () => {
        const result = runSelfCheck(session, { prompt: model.promptTokens("the value of function"), width });
        const { noiseFloor } = result;
        assert.equal(noiseFloor.source, "measured");
        assert.equal(noiseFloor.used, Math.max(noiseFloor.measured, noiseFloor.float32));
        assert.ok(noiseFloor.float32 > 0 && noiseFloor.used < 1e-2, `floor ${noiseFloor.used}: rounding, not a broken layout`);
        for (const row of result.rows) {
          assert.equal(row.width, width);
          if (row.expect === "<=") assert.equal(row.verdict, "pass", `${row.check}: ${row.maxAbsDiff} > ${row.bound}`);
          else assert.notEqual(row.verdict, "FAIL", `${row.check}: ${row.maxAbsDiff}`);
        }
        // On these models the effects are far above rounding: a strong model passes outright.
        if (shape !== WEAK_GQA_SHAPE) assert.equal(overallVerdict([result]), "pass");
      });
    }

    it("a given floor replaces the measured one; an effect under it is inconclusive, not a failure", () => {
      const result = runSelfCheck(session, { prompt: model.promptTokens("the value of function"), width: 4, noiseFloor: 1e9 });
      assert.equal(result.noiseFloor.source, "given");
      assert.equal(result.noiseFloor.used, 1e9);
      assert.equal(overallVerdict([result]), "inconclusive");
      for (const row of result.rows) assert.equal(row.verdict, row.expect === "<=" ? "pass" : "inconclusive");
    });
  });
}
