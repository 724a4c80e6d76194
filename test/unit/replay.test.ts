import assert from "node:assert/strict";
import { seededModelPath, TINY_SHAPE } from "../fixtures/seeded-model.js";
import { TempoModel } from "../../src/engine/model.js";
import { SCRATCH_STEP, TempoSession } from "../../src/engine/session.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { runGeneration } from "../../src/engine/tempo/generate.js";
import { primaryPathOf, replay, ReplayStep, setsOf } from "../../src/engine/tempo/replay.js";
import { GenerationResult, TempoMode } from "../../src/engine/types.js";
import { EFFECT_FACTOR, FLOAT32_EPSILON } from "../../src/engine/tempo/selfcheck.js";

const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe("teacher-forced replay", () => {
  let model: TempoModel;
  let session: TempoSession;
  let run: GenerationResult;
  const promptTokens = () => model.promptTokens("the value of");
  before(async () => {
    model = await TempoModel.open(seededModelPath(TINY_SHAPE));
    session = new TempoSession(model, { contextSize: 512, lanes: 8 });
    run = await runGeneration(session, { promptTokens: promptTokens(), config: resolveConfig({ threshold: 0.05, maxWidth: 4, maxSteps: 10 }) });
    assert.ok(run.steps.some((s) => s.candidates.length > 1));
  });
  after(async () => { session.dispose(); await model.dispose(); });

  const collect = async (mode: TempoMode, sets: number[][], scratchRow = false) => {
    const out: ReplayStep[] = [];
    const it = replay(session, { promptTokens: promptTokens(), sets, mode, policy: "mixture", temperature: 1, scratchRow });
    for await (const s of it) out.push({ ...s, next: Float64Array.from(s.next) });
    return out;
  };

  it("replaying a run's sets in its own mode reproduces its probabilities exactly", async () => {
    const steps = await collect("isolated", setsOf(run));
    assert.equal(steps.length, run.steps.length);
    steps.forEach((s, i) => {
      assert.deepEqual(s.event.candidates.map((c) => c.token), run.steps[i].candidates.map((c) => c.token));
      assert.deepEqual(s.event.candidates.map((c) => c.prob), run.steps[i].candidates.map((c) => c.prob));
      assert.equal(s.memberLogits.length, run.steps[i].candidates.length);
    });
  });

  it("the same sets under visible mode give different next distributions after a set", async () => {
    const iso = await collect("isolated", setsOf(run));
    const vis = await collect("visible", setsOf(run));
    const nullRun = await collect("isolated", setsOf(run), true);
    // The floor: the same run in another batch layout (never below one float32 ulp of 1).
    const floor = Math.max(FLOAT32_EPSILON, ...iso.map((s, i) => maxDiff(s.next, nullRun[i].next)));
    const setSteps = run.steps.map((s, i) => (s.candidates.length > 1 ? i : -1)).filter((i) => i >= 0);
    for (const i of setSteps) assert.ok(maxDiff(iso[i].next, vis[i].next) > EFFECT_FACTOR * floor, `step ${i}`);
  });

  it("null baseline: an unrelated scratch row changes nothing beyond float noise, and is invisible", async () => {
    const a = await collect("isolated", setsOf(run));
    const b = await collect("isolated", setsOf(run), true);
    const vis = await collect("visible", setsOf(run));
    // Another batch shape may round differently (matrix kernels), never more than noise:
    // far below what changing the mode does to the same sets.
    const noise = Math.max(...a.map((s, i) => maxDiff(s.next, b[i].next)));
    const effect = Math.max(...a.map((s, i) => maxDiff(s.next, vis[i].next)));
    assert.ok(effect > EFFECT_FACTOR * Math.max(noise, FLOAT32_EPSILON), `mode effect ${effect} vs layout noise ${noise}`);
    await collect("isolated", setsOf(run), true); // leave the scratch run in the index table
    const scratch = session.indexTable.filter((r) => r.step === SCRATCH_STEP);
    assert.equal(scratch.length, run.steps.length, "one scratch cell per step");
    assert.ok(scratch.every((r) => r.seqIds.length === 1 && r.seqIds[0] === session.lanes + 1));
  });

  it("standard mode replays the primary path, and refuses wider sets", async () => {
    const steps = await collect("standard", primaryPathOf(run));
    assert.equal(steps.length, run.steps.length);
    await assert.rejects(collect("standard", setsOf(run)), /width-1/);
  });
});
