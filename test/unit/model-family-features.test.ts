/**
 * The family matrix, continued: on every test family × {F16, Q8_0, Q4_K_M}, attention capture
 * finds every layer's softmax and maps its cells to tokens (sliding-window layers included:
 * exactly the keys the index table puts outside the window are masked), `compare` with
 * attention runs, `perplexity` runs over several windows, and each family's own chat template
 * renders, and `eval` generates and executes a built-in task under standard and isolated arms.
 * The checks themselves live in test/fixtures/family-checks.ts, which
 * scripts/models-matrix.ts also runs to write docs/models.md.
 */
import assert from "node:assert/strict";
import { FAMILIES, FAMILY_QUANTS, familyModelPath } from "../fixtures/family-models.js";
import { CHECK_THREADS, familyAttentionCheck, familyChatCheck, slidingLayers } from "../fixtures/family-checks.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoSession } from "../../src/engine/session.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { compareModes } from "../../src/engine/analysis/compare-run.js";
import { teacherForcedPerplexity } from "../../src/engine/tempo/perplexity.js";
import { runEval } from "../../src/engine/eval/runner.js";
import { loadTasks } from "../../src/engine/eval/tasks.js";

const PPL_TEXT = "the value of function return const let var if else while new class import export default async await";

describe("model families × quantisations: attention, compare, perplexity, chat", function () {
  it("the fixtures have sliding-window layers where llama.cpp puts them (gemma2, gemma3: layer 0 of 2)", () => {
    for (const spec of FAMILIES) {
      assert.deepEqual(slidingLayers(spec), spec.hp.slidingWindow === undefined ? [false, false] : [true, false], spec.name);
    }
  });

  for (const spec of FAMILIES) {
    for (const quant of FAMILY_QUANTS) {
      describe(`${spec.name} ${quant}`, () => {
        let model: TempoModel;
        before(async () => { model = await TempoModel.open(await familyModelPath(spec.name, quant)); });
        after(async () => { await model?.dispose(); });

        it("attention capture: every layer, no sibling or unmapped cell, rows sum to 1, the window masks exactly the keys outside it", () => {
          const layers = familyAttentionCheck(model, spec);
          assert.deepEqual(layers.map((l) => l.layer), Array.from({ length: spec.hp.nLayer }, (_, i) => i));
          for (const l of layers) {
            const where = `layer ${l.layer}${l.sliding ? " (sliding)" : ""}`;
            assert.equal(l.rows, 4 * spec.hp.nHead, `${where}: one row per member and head`);
            assert.equal(l.maxSiblings, 0, `${where}: isolated siblings`);
            assert.equal(l.maxUnmapped, 0, `${where}: cells the index table does not know`);
            assert.ok(l.maxRowSumError <= l.rowSumBound, `${where}: row sum off by ${l.maxRowSumError} > ${l.rowSumBound}`);
            assert.equal(l.rowsWithoutSelf, 0, `${where}: a member that does not see itself`);
            if (spec.hp.slidingWindow === undefined) continue;
            // Prompt of 17+ tokens before the set, window 8: the first positions are outside it.
            assert.ok(l.keysOutsideWindow >= 8, `${where}: ${l.keysOutsideWindow} keys outside the window`);
            if (l.sliding) assert.equal(l.maxOutsideWindow, 0, `${where}: a key outside the window is seen`);
            else assert.ok(l.minOutsideWindowTotal > 0, `${where}: a full-attention layer must see the early keys`);
          }
        });

        it("compare (isolated vs visible) with attention of every layer runs; isolated siblings exactly 0 in the report", async () => {
          const attentionLayers = Array.from({ length: spec.hp.nLayer }, (_, i) => i);
          // Temperature 10: the gemma fixtures' next-token distributions are near one-hot (top
          // probability 1.0 even at temperature 4), and a compare needs sets of more than one.
          const { generation, report } = await compareModes(model, {
            prompt: "the value of function", config: resolveConfig({ threshold: 0.001, maxWidth: 4, maxSteps: 4, temperature: 10 }), attentionLayers, contextSize: 256, analysisWorkers: 0, threads: CHECK_THREADS,
          });
          assert.equal(report.steps.length, generation.steps.length);
          const sets = generation.steps.filter((s) => s.candidates.length > 1);
          assert.ok(sets.length > 0, "at least one parallel set");
          assert.ok(report.attention && report.attention.length === sets.length * spec.hp.nLayer, "one summary per set and layer");
          const siblings = report.attention[0].targets.indexOf("siblings");
          for (const a of report.attention) for (const m of a.p[siblings]) for (const h of m) assert.equal(h, 0);
          for (const s of [...report.steps, ...report.nullBaseline.steps]) assert.ok(Number.isFinite(s.js) && s.js >= 0);
        });

        it("perplexity runs in standard and isolated mode over several windows", async () => {
          const session = new TempoSession(model, { contextSize: 256, lanes: 4, threads: CHECK_THREADS });
          try {
            const tokens = model.promptTokens(PPL_TEXT).length - 1;
            for (const mode of ["standard", "isolated"] as const) {
              const r = await teacherForcedPerplexity(session, PPL_TEXT, resolveConfig({ mode, threshold: 0.001, maxWidth: 4 }), { window: 12, stride: 6 });
              assert.equal(r.tokens, tokens, `${mode}: every token scored once`);
              assert.ok(r.windows.count > 1, `${mode}: ${r.windows.count} windows`);
              assert.ok(Number.isFinite(r.perplexity) && r.perplexity > 1, `${mode}: perplexity ${r.perplexity}`);
            }
          } finally { session.dispose(); }
        });

        it("eval runs: a built-in JavaScript task generated and executed under standard and isolated", async () => {
          const task = loadTasks().find((t) => t.language === "javascript")!;
          const session = new TempoSession(model, { contextSize: 256, lanes: 4, threads: CHECK_THREADS });
          try {
            const run = await runEval({ session, tasks: [task], settings: { arms: ["standard", "isolated"], maxSteps: 8, threshold: 0.001, maxWidth: 4, pathCap: 4, ks: [1] } });
            assert.equal(run.aborted, false);
            assert.deepEqual(run.items.map((i) => i.arm), ["standard", "isolated"]);
            for (const it of run.items) {
              assert.equal(it.skipped, false, `${it.arm}: ${it.error ?? "skipped"}`);
              assert.ok(it.steps > 0 && it.completions.length >= 1, `${it.arm}: ${it.steps} steps`);
              // A random-weight model's code fails its test; what matters is that it was executed.
              for (const c of it.completions) assert.ok(["pass", "fail", "timeout"].includes(c.status), `${it.arm}: status ${c.status}`);
            }
          } finally { session.dispose(); }
        });

        if (quant === "F16") {
          it("the model's own chat template renders, its markers as single special tokens", async () => {
            const chat = await familyChatCheck(model, spec);
            assert.equal(chat.fromTemplate, true);
            assert.equal(chat.text, chat.expected);
            assert.ok(chat.specialTokensWhole, "every marker is one special token");
          });
        }
      });
    }
  }
});
