import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { seededModelPath, TINY_SHAPE, TINY_GQA_SHAPE } from "../fixtures/seeded-model.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoSession } from "../../src/engine/session.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { runGeneration } from "../../src/engine/tempo/generate.js";
import { GenerationResult } from "../../src/engine/types.js";
import { EFFECT_FACTOR, EQUALITY_FACTOR, maxAbsDiff, runSelfCheck, SelfCheckResult } from "../../src/engine/tempo/selfcheck.js";
import { softmax } from "../../src/engine/tempo/distribution.js";
import { topIndices } from "../../src/engine/math/distribution.js";


for (const [name, shape] of [["MHA", TINY_SHAPE], ["GQA 8:2", TINY_GQA_SHAPE]] as const) {
  describe(`engine on a seeded ${name} model`, () => {
    let model: TempoModel;
    let session: TempoSession;
    let prompt: number[];
    let check: SelfCheckResult;
    // Bounds from this model's measured noise floor (docs/tolerances.md): equal within
    // EQUALITY_FACTOR × floor, a real effect beyond EFFECT_FACTOR × floor.
    let exact: number, effect: number;
    before(async () => {
      model = await TempoModel.open(seededModelPath(shape));
      session = new TempoSession(model, { contextSize: 512, lanes: 8 });
      prompt = model.promptTokens("the value of function");
      check = runSelfCheck(session, { prompt, width: 4 });
      exact = EQUALITY_FACTOR * check.noiseFloor.used;
      effect = EFFECT_FACTOR * check.noiseFloor.used;
    });
    after(async () => { session.dispose(); await model.dispose(); });

    const afterPrompt = () => { session.reset(); return session.decodeSequence(prompt); };
    const topSet = (m: number) => Array.from(topIndices(softmax(afterPrompt(), 1), m));

    it("decodes a set of M members in ONE decode at ONE position, one KV cell each, nothing fed twice", () => {
      const set = topSet(5);
      afterPrompt();
      const decodesBefore = session.decodeCount;
      const evaluatedBefore = session.evaluatedTokens;
      session.decodeSet(set, "isolated", 0);
      assert.equal(session.decodeCount - decodesBefore, 1);
      assert.equal(session.evaluatedTokens - evaluatedBefore, 5, "llama.cpp's own counter: 5 tokens evaluated");
      const rows = session.indexTable.slice(-5);
      assert.deepEqual(rows.map((r) => r.position), Array(5).fill(prompt.length));
      assert.deepEqual(rows.map((r) => r.token), set);
      assert.deepEqual(rows.map((r) => r.cell), [0, 1, 2, 3, 4].map((i) => prompt.length + i));
      assert.equal(session.cellsUsed, prompt.length + 5);
      assert.equal(session.indexTable.length, session.cellsUsed, "KV cells used = tokens fed");
    });

    it("KV capacity counts cells: a context of N cells holds exactly N tokens", async () => {
      const small = new TempoSession(model, { contextSize: 256, lanes: 8 });
      try {
        assert.equal(small.contextSize, 256);
        small.reset();
        small.decodeSequence(Array(256 - 8).fill(300));
        small.decodeSet([300, 301, 302, 303, 304, 305, 306, 307], "isolated", 0); // fills the last 8 cells at one position
        assert.equal(small.cellsFree, 0);
        assert.throws(() => small.decodeSet([300], "isolated", 1), /cells|free/);
      } finally { small.dispose(); }
    });

    it("isolated: each member's logits equal a separate prefix+member run, independent of member order", () => {
      const set = topSet(4);
      afterPrompt();
      const iso = session.decodeSet(set, "isolated", 0);
      set.forEach((t, j) => {
        afterPrompt(); // the same batch shape and row as in the set: only visibility differs
        const alone = session.decodeSet([t], "isolated", 0, { scratch: { before: j, after: 3 - j } })[0];
        assert.ok(maxAbsDiff(iso[j], alone) <= exact, `member ${j}: ${maxAbsDiff(iso[j], alone)} > ${exact}`);
      });
      afterPrompt();
      const shuffled = [set[2], set[0], set[3], set[1]];
      const iso2 = session.decodeSet(shuffled, "isolated", 0);
      shuffled.forEach((t, j) => assert.ok(maxAbsDiff(iso2[j], iso[set.indexOf(t)]) <= exact));
    });

    it("reused logits rows: the same logits as fresh copies, overwritten only after whileDecoding has run", () => {
      const set = topSet(3);
      afterPrompt();
      const fresh = session.decodeSet(set, "isolated", 0);
      afterPrompt();
      const reused = session.decodeSet(set, "isolated", 0, { reuseRows: true });
      assert.deepEqual(reused, fresh);
      const kept = reused.map((r) => Float32Array.from(r));
      afterPrompt();
      let during: { tableLength: number; rowsUnchanged: boolean } | undefined;
      const next = session.decodeSet([set[0]], "isolated", 0, {
        reuseRows: true,
        whileDecoding: () => { during = { tableLength: session.indexTable.length, rowsUnchanged: maxAbsDiff(reused[0], kept[0]) === 0 }; },
      });
      assert.deepEqual(during, { tableLength: prompt.length + 1, rowsUnchanged: true }, "runs with the set in the table, before its logits are read");
      assert.equal(next[0], reused[0], "the session's row, overwritten");
      afterPrompt();
      assert.deepEqual(next[0], session.decodeSet([set[0]], "isolated", 0)[0]);
    });

    it("visible members see each other: logits differ from isolated", () => {
      const set = topSet(4);
      afterPrompt();
      const iso = session.decodeSet(set, "isolated", 0);
      afterPrompt();
      const vis = session.decodeSet(set, "visible", 0);
      for (let j = 0; j < 4; j++) assert.ok(maxAbsDiff(iso[j], vis[j]) > effect, `member ${j} unchanged by siblings`);
    });

    it("causal: member j sees members before it only", () => {
      const set = topSet(4);
      afterPrompt();
      const iso = session.decodeSet(set, "isolated", 0);
      afterPrompt();
      const causal = session.decodeSet(set, "causal", 0);
      afterPrompt();
      const causal3 = session.decodeSet(set.slice(0, 3), "causal", 0);
      assert.ok(maxAbsDiff(causal[0], iso[0]) <= exact);
      for (let j = 1; j < 4; j++) assert.ok(maxAbsDiff(causal[j], iso[j]) > effect, `member ${j} should see earlier members`);
      for (let j = 0; j < 3; j++) assert.ok(maxAbsDiff(causal3[j], causal[j]) <= exact, `member ${j} must not see later members`);
    });

    it("later tokens depend on every member of earlier sets", () => {
      const set = topSet(4);
      const next = (members: number[]) => { afterPrompt(); session.decodeSet(members, "isolated", 0); return session.decodeSet([300], "isolated", 1)[0]; };
      const full = next(set);
      for (let k = 0; k < set.length; k++) {
        const without = next(set.filter((_, j) => j !== k));
        assert.ok(maxAbsDiff(full, without) > effect, `dropping member ${k} changed nothing`);
      }
    });

    it("selfcheck passes on this model", () => {
      assert.equal(check.rows.length, 6);
      for (const r of check.rows) assert.equal(r.verdict, "pass", `${r.check}: ${r.maxAbsDiff} vs ${r.bound}`);
    });
  });
}

describe("generation loop", () => {
  let model: TempoModel;
  let session: TempoSession;
  before(async () => {
    model = await TempoModel.open(seededModelPath(TINY_SHAPE));
    session = new TempoSession(model, { contextSize: 512, lanes: 8 });
  });
  after(async () => { session.dispose(); await model.dispose(); });

  it("builds sets by threshold, sorted, capped, with probabilities from the selecting distribution", async () => {
    const config = resolveConfig({ threshold: 0.05, maxWidth: 4, maxSteps: 12 });
    const result = await runGeneration(session, { promptTokens: model.promptTokens("the value"), config });
    assert.equal(result.stopReason, "max-steps");
    assert.equal(result.steps.length, 12);
    assert.ok(result.steps.some((s) => s.candidates.length > 1), "the seeded model should produce some sets");
    for (const s of result.steps) {
      assert.ok(s.candidates.length >= 1 && s.candidates.length <= 4);
      const probs = s.candidates.map((c) => c.prob);
      assert.deepEqual(probs, [...probs].sort((a, b) => b - a));
      if (s.candidates.length > 1) assert.ok(probs.every((p) => p >= 0.05));
      assert.equal(s.candidates[0].token, s.top[0].token, "top candidate = head of the distribution");
      assert.ok(Math.abs(s.setMass - probs.reduce((a, b) => a + b, 0)) < 1e-12);
      assert.equal(new Set(s.candidates.map((c) => c.cell)).size, s.candidates.length);
    }
    // Positions advance by one per step whatever the set size.
    result.steps.forEach((s, i) => assert.equal(s.position, result.promptTokens.length + i));
  });

  it("the policy decides the next distribution: top, last and mixture differ", async () => {
    const run = (policy: "top" | "last" | "mixture") => runGeneration(session, {
      promptTokens: model.promptTokens("the value"), config: resolveConfig({ threshold: 0.05, maxWidth: 4, maxSteps: 6, policy }),
    });
    const [top, last, mix] = [await run("top"), await run("last"), await run("mixture")];
    const firstSet = top.steps.findIndex((s) => s.candidates.length > 1);
    assert.ok(firstSet >= 0 && firstSet < 5);
    const after = (r: typeof top) => r.steps[firstSet + 1].top.map((t) => t.prob);
    assert.notDeepEqual(after(top), after(last));
    assert.notDeepEqual(after(top), after(mix));
  });

  it("linear threshold schedule moves from threshold to thresholdEnd", async () => {
    const config = resolveConfig({ threshold: 0.5, thresholdEnd: 0.02, schedule: "linear", maxSteps: 5 });
    const result = await runGeneration(session, { promptTokens: model.promptTokens("the value"), config });
    assert.deepEqual(result.steps.map((s) => +s.threshold.toFixed(3)), [0.5, 0.38, 0.26, 0.14, 0.02]);
  });

  it("greedy steps read their event's head from the logits: the same events as from the full distribution", async () => {
    // onDistributions makes every step's distribution row, so that run takes the full path.
    const request = { promptTokens: model.promptTokens("the value"), config: resolveConfig({ mode: "standard", maxSteps: 12 }) };
    const strip = (r: GenerationResult) => r.steps.map((s) => ({ ...s, timings: undefined }));
    const fast = await runGeneration(session, request);
    const full = await runGeneration(session, { ...request, onDistributions: () => undefined });
    assert.deepEqual(strip(fast), strip(full));
  });

  it("a session whose decode leaves a core free overlaps it on a worker thread, with identical steps", async function () {
    // One decode thread leaves a core for JavaScript wherever there are two (see TempoSession).
    if (availableParallelism() < 2) this.skip();
    const single = new TempoSession(model, { contextSize: 512, lanes: 8, threads: 1 });
    try {
      for (const config of [resolveConfig({ mode: "standard", maxSteps: 8 }), resolveConfig({ threshold: 0.05, maxWidth: 4, maxSteps: 8 })]) {
        const request = { promptTokens: model.promptTokens("the value"), config };
        const strip = (r: GenerationResult) => r.steps.map((s) => ({ ...s, timings: undefined }));
        const [a, b] = [await runGeneration(session, request), await runGeneration(single, request)];
        assert.deepEqual(strip(b), strip(a));
        const cells = (t: TempoSession) => t.indexTable.map((r) => ({ ...r, decodeCall: 0 })); // decodeCall counts per session
        assert.deepEqual(cells(single), cells(session));
      }
      single.reset();
      single.decodeSequence(model.promptTokens("the value"));
      const pending = single.decodeSetAsync([300, 301], "isolated", 0);
      assert.throws(() => single.reset(), /busy/);
      single.dispose(); // frees the context only once the decode on the worker is over
      await assert.rejects(pending, /disposed while a set was decoding/);
    } finally {
      single.dispose();
    }
  });

  it("stops on a stop string", async () => {
    const free = await runGeneration(session, { promptTokens: model.promptTokens("the value"), config: resolveConfig({ mode: "standard", maxSteps: 10 }) });
    const stop = free.text.slice(2, 4);
    assert.ok(stop.length === 2);
    const r = await runGeneration(session, { promptTokens: model.promptTokens("the value"), config: resolveConfig({ mode: "standard", maxSteps: 10, stopStrings: [stop] }) });
    assert.equal(r.stopReason, "stop-string");
    assert.ok(r.text.includes(stop) && r.steps.length < 10);
  });
});
