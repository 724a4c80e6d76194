// The experiment files VS Code's Compare and Run Completion Experiment offer to save are files
// `tempo run` accepts and resolves to the settings the UI said it would use.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareExperimentFile, evalExperimentFile } from "../../src/extension/experiment-files.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { defaultModelPath } from "../../src/engine/default-model.js";
import type { EngineOptions } from "../../src/protocol/engine.js";

describe("experiment files from VS Code", function () {
  this.timeout(300_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), "tempo-ext-exp-")); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const engine: EngineOptions = { modelPath: defaultModelPath(), gpu: "cpu", contextSize: 0, flashAttention: "off", threads: 1 };

  const resolved = (file: object): Record<string, unknown> => {
    const path = join(dir, `x-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(file));
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "run", path, "--dump-experiment", "-"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  it("Compare's file runs the settings the modal showed", () => {
    const generation = resolveConfig({ mode: "isolated", threshold: 0.05, maxWidth: 4, maxSteps: 12 });
    const out = resolved(compareExperimentFile(engine, "function add(a, b) {", generation, "all"));
    assert.equal(out.command, "compare");
    assert.deepEqual(out.generation, generation);
    const compare = out.compare as { qMode: string; attentionLayers: unknown };
    assert.deepEqual([compare.qMode, compare.attentionLayers], ["visible", "all"]);
    const off = resolved(compareExperimentFile(engine, "function add(a, b) {", generation, undefined)).compare as { attentionLayers: unknown };
    assert.equal(off.attentionLayers, null, "tempo.compare.attention off: no capture");
    assert.equal(out.prompt, "function add(a, b) {");
    // Compare runs without flash attention whatever tempo.flashAttention says, and its file says so (tempo run refuses it on).
    const withFlash = resolved(compareExperimentFile({ ...engine, flashAttention: "on" }, "function add(a, b) {", generation, undefined, 2));
    assert.equal((withFlash.engine as { flashAttention: string }).flashAttention, "off");
    assert.equal((withFlash.compare as { analysisWorkers: number }).analysisWorkers, 2);
  });

  it("Run Completion Experiment's file runs its arms, tasks and limit", () => {
    const out = resolved(evalExperimentFile(engine, { arms: ["standard", "isolated"], limit: 2 }));
    const e = out.eval as { arms: string[]; limit: number; tasks: unknown };
    assert.deepEqual([e.arms, e.limit, e.tasks], [["standard", "isolated"], 2, null]);
    assert.equal("baselines" in e, false, "no baselines chosen: none in the file");
  });

  it("Run Completion Experiment's file runs its baselines, the boxes left empty resolving to tempo eval's defaults", () => {
    const out = resolved(evalExperimentFile(engine, { arms: ["standard", "isolated"], baselines: { arms: ["sample", "beam"], match: "isolated", topP: 0.9 } }));
    assert.deepEqual((out.eval as { baselines: unknown }).baselines, { arms: ["sample", "beam"], match: "isolated", temperature: 0.8, topP: 0.9, seed: 1, beamWidth: 4 });
  });
});
