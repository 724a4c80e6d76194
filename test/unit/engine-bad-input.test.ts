import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededModelPath, TINY_SHAPE } from "../fixtures/seeded-model.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoInputError } from "../../src/engine/errors.js";
import { TempoSession } from "../../src/engine/session.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { runGeneration } from "../../src/engine/tempo/generate.js";

const dir = mkdtempSync(join(tmpdir(), "tempo-bad-"));

describe("bad input: clear errors or stop reasons, never an abort, next run works", () => {
  let model: TempoModel;
  let session: TempoSession;
  before(async () => {
    model = await TempoModel.open(seededModelPath(TINY_SHAPE));
    session = new TempoSession(model, { contextSize: 256, lanes: 8 });
  });
  after(async () => { session.dispose(); await model.dispose(); });

  const works = async () => {
    const r = await runGeneration(session, { promptTokens: model.promptTokens("the value"), config: resolveConfig({ maxSteps: 3 }) });
    assert.equal(r.stopReason, "max-steps");
    assert.equal(r.steps.length, 3);
  };

  it("logits that are all NaN (a broken model file) end a greedy run in one line, and the next run works", async () => {
    const nanSession = new TempoSession(model, { contextSize: 256, lanes: 1 });
    try {
      // What llama.cpp hands back for a model whose weights hold NaN.
      nanSession.decodeSequence = () => new Float32Array(model.info.nVocab).fill(NaN);
      await assert.rejects(runGeneration(nanSession, { promptTokens: model.promptTokens("the value"), config: resolveConfig({ mode: "standard", maxSteps: 3 }) }),
        /^Error: llama.cpp gave no usable logits before step 0 \(every one is NaN\)$/);
    } finally {
      nanSession.dispose();
    }
    await works();
  });

  it("missing file", async () => {
    await assert.rejects(TempoModel.open(join(dir, "nope.gguf")), (e: Error) => e instanceof TempoInputError && /not found/.test(e.message));
  });
  it("a directory", async () => {
    await assert.rejects(TempoModel.open(dir), (e: Error) => e instanceof TempoInputError && /directory/.test(e.message));
  });
  it("a non-GGUF file", async () => {
    const p = join(dir, "text.gguf");
    writeFileSync(p, "this is not a model, just some text padding padding");
    await assert.rejects(TempoModel.open(p), (e: Error) => e instanceof TempoInputError && /not a GGUF/.test(e.message));
  });
  it("a truncated GGUF", async () => {
    const p = join(dir, "truncated.gguf");
    const full = readFileSync(seededModelPath(TINY_SHAPE));
    writeFileSync(p, full.subarray(0, Math.floor(full.length / 2)));
    await assert.rejects(TempoModel.open(p), (e: Error) => e instanceof TempoInputError && /could not load/.test(e.message));
    await works();
  });
  it("a GGUF cut inside its header", async () => {
    const p = join(dir, "header.gguf");
    writeFileSync(p, readFileSync(seededModelPath(TINY_SHAPE)).subarray(0, 4096));
    await assert.rejects(TempoModel.open(p), TempoInputError);
    await works();
  });
  it("an empty prompt", () => {
    assert.throws(() => model.promptTokens(""), /prompt is empty/);
  });
  for (const threshold of [0, -0.1, 1.5, Number.NaN]) {
    it(`threshold ${threshold} is outside (0, 1]`, () => {
      assert.throws(() => resolveConfig({ threshold }), (e: Error) => e instanceof TempoInputError && /threshold/.test(e.message));
    });
  }
  it("a bad threshold is reported once, not again as a bad end threshold", () => {
    assert.throws(() => resolveConfig({ threshold: 2 }), (e: Error) => /threshold must be in/.test(e.message) && !/end/.test(e.message));
    assert.throws(() => resolveConfig({ threshold: 0.5, thresholdEnd: 2 }), /threshold end must be in/);
  });
  it("threads outside [1, 512] are refused", () => {
    assert.throws(() => new TempoSession(model, { threads: 0 }), /threads must be/);
  });
  it("threshold 1 is allowed (top-1 fallback)", async () => {
    const r = await runGeneration(session, { promptTokens: model.promptTokens("the value"), config: resolveConfig({ threshold: 1, maxSteps: 3 }) });
    assert.ok(r.steps.every((s) => s.candidates.length === 1));
  });
  it("width beyond the lane limit", async () => {
    assert.throws(() => resolveConfig({ maxWidth: 256 }), /lane limit/);
    assert.throws(() => new TempoSession(model, { lanes: 300 }), /lanes/);
    await assert.rejects(runGeneration(session, { promptTokens: model.promptTokens("x"), config: resolveConfig({ maxWidth: 9 }) }), /exceeds the session's 8 lanes/);
  });
  it("unknown settings are rejected", () => {
    assert.throws(() => resolveConfig({ bogus: 1 } as never), /unknown setting/);
  });
  it("a prompt longer than the context", async () => {
    const long = Array(300).fill(300);
    await assert.rejects(runGeneration(session, { promptTokens: long, config: resolveConfig({}) }), /prompt is 300 tokens; the context holds 256/);
    await works();
  });
  it("context exhausted mid-run is a stop reason", async () => {
    const r = await runGeneration(session, { promptTokens: model.promptTokens("the value"), config: resolveConfig({ threshold: 0.02, maxWidth: 8, maxSteps: 1000 }) });
    assert.equal(r.stopReason, "context-full");
    assert.ok(session.cellsFree < 8);
    await works();
  });
  it("cancel mid-run stops with 'aborted' and leaves the session clean", async () => {
    const controller = new AbortController();
    let seen = 0;
    const r = await runGeneration(session, { promptTokens: model.promptTokens("the value"), config: resolveConfig({ maxSteps: 200 }), signal: controller.signal }, () => {
      if (++seen === 3) controller.abort();
    });
    assert.equal(r.stopReason, "aborted");
    assert.equal(r.steps.length, 3);
    await works();
  });
  it("cancel from a timer while decoding", async () => {
    // The timer is armed at the first step (so the run is under way) and fires between steps:
    // the loop yields to the event loop after every set. Unaborted, this run ends by EOG at
    // step 75, so "aborted" with fewer steps can only come from the timer.
    const controller = new AbortController();
    let armed = false;
    const r = await runGeneration(session, { promptTokens: model.promptTokens("the value"), config: resolveConfig({ maxSteps: 100000, threshold: 1 }), signal: controller.signal }, () => {
      if (!armed) { armed = true; setTimeout(() => controller.abort(), 1); }
    });
    assert.equal(r.stopReason, "aborted");
    assert.ok(r.steps.length >= 1 && r.steps.length < 75, `${r.steps.length} steps`);
    await works();
  });
  it("token ids outside the vocabulary never reach llama.cpp", () => {
    session.reset();
    assert.throws(() => session.decodeSequence([model.info.nVocab]), /outside the vocabulary/);
    assert.throws(() => session.decodeSequence([-1]), /outside the vocabulary/);
  });
  it("a model copied under another name still loads (sanity for the error tests)", async () => {
    const p = join(dir, "copy.gguf");
    copyFileSync(seededModelPath(TINY_SHAPE), p);
    const m = await TempoModel.open(p);
    assert.equal(m.info.nVocab, TINY_SHAPE.nVocab);
    await m.dispose();
  });
});
