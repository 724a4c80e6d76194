import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import koffi from "koffi";
import { seededModelPath, TINY_SHAPE, writeSeededModel } from "../fixtures/seeded-model.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoSession } from "../../src/engine/session.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { runGeneration } from "../../src/engine/tempo/generate.js";
import { LibraryMismatchError, ModelParams, verifyLayouts } from "../../src/engine/llama/c-api.js";

describe("end of generation", () => {
  it("stops with 'eog' when the top candidate is the end-of-generation token", async () => {
    // Find the greedy first token X of the plain model, then give EOS twice X's output row:
    // wherever X wins with a positive logit, EOS now wins.
    const plain = await TempoModel.open(seededModelPath(TINY_SHAPE));
    const session = new TempoSession(plain, { contextSize: 256, lanes: 4 });
    const prompt = plain.promptTokens("the value");
    const first = (await runGeneration(session, { promptTokens: prompt, config: resolveConfig({ mode: "standard", maxSteps: 1 }) })).steps[0].candidates[0].token;
    session.dispose();
    await plain.dispose();

    const path = join(mkdtempSync(join(tmpdir(), "tempo-eog-")), "eos.gguf");
    writeSeededModel(path, TINY_SHAPE, (w, vocab) => {
      const n = TINY_SHAPE.nEmbd;
      for (let i = 0; i < n; i++) w.output![vocab.eosId * n + i] = 2 * w.output![first * n + i];
    });
    const model = await TempoModel.open(path);
    const s = new TempoSession(model, { contextSize: 256, lanes: 4 });
    try {
      assert.ok(model.isEog(2));
      for (const mode of ["standard", "isolated"] as const) {
        const r = await runGeneration(s, { promptTokens: model.promptTokens("the value"), config: resolveConfig({ mode, maxSteps: 10, threshold: 0.01, maxWidth: 4 }) });
        assert.equal(r.stopReason, "eog", mode);
        assert.equal(r.steps.length, 0);
        // --min-steps: EOG cannot end the run (nor join a set) before step 3; the step's event
        // still shows EOG's probability in the distribution, and the token taken ranks below it.
        const delayed = await runGeneration(s, { promptTokens: model.promptTokens("the value"), config: resolveConfig({ mode, maxSteps: 10, minSteps: 3, threshold: 0.01, maxWidth: 4 }) });
        assert.ok(delayed.steps.length >= 3, `${mode}: ${delayed.steps.length} steps`);
        for (const step of delayed.steps.slice(0, 3)) assert.ok(step.candidates.every((c) => !model.isEog(c.token)), mode);
        assert.equal(delayed.steps[0].top[0].token, 2, `${mode}: EOG stays the most probable token`);
        assert.ok(delayed.steps[0].candidates[0].rank >= 1, `${mode}: the member's true rank`);
        if (delayed.steps.length < 10) assert.equal(delayed.stopReason, "eog");
      }
    } finally {
      s.dispose();
      await model.dispose();
    }
  });
});

describe("start-up self-check of the C API layouts", () => {
  it("refuses another node-llama-cpp version with a message naming expected and found", async () => {
    const model = await TempoModel.open(seededModelPath(TINY_SHAPE));
    try {
      assert.doesNotThrow(() => verifyLayouts(model.runtime.api, "3.21.1"));
      assert.throws(() => verifyLayouts(model.runtime.api, "3.22.0"), (e: Error) =>
        e instanceof LibraryMismatchError && /built for node-llama-cpp 3\.21\.1/.test(e.message) && /found node-llama-cpp 3\.22\.0/.test(e.message));
      assert.equal(koffi.sizeof(ModelParams), 80);
    } finally { await model.dispose(); }
  });
});
