/**
 * Experiment files (docs/experiments.md): the schema's refusals, the resolved experiment stored
 * in every folder, --dump-experiment, and the promise that `tempo run <folder>/experiment.json`
 * reproduces the folder byte for byte but for the timing and date fields listed in TIMING (test/support/same-folder.ts).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { seededModelPath, TINY_SHAPE } from "../fixtures/seeded-model.js";
import { assertSameFolder, filesUnder } from "../support/same-folder.js";
import { EXPERIMENT_FILE_NAME, parseExperiment } from "../../src/protocol/experiment-file.js";
import { DEFAULT_CONFIG } from "../../src/protocol/generation.js";

function tempo(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("experiment files: tempo run", function () {
  this.timeout(600_000);
  let dir: string;
  const model = seededModelPath(TINY_SHAPE);
  before(() => { dir = mkdtempSync(join(tmpdir(), "tempo-experiment-")); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, value: unknown) => {
    const file = join(dir, name);
    writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
    return file;
  };

  it("refuses a bad file with one `tempo: <file>: …` line and exit 2, before any run", () => {
    const base = { version: 1, command: "compare", prompt: "the value", model: { path: model }, engine: { threads: 1 } };
    for (const [value, pattern] of [
      [{ ...base, generation: { treshold: 0.1 } }, /: unknown key generation\.treshold$/],
      [{ ...base, generation: { threshold: 1.5 } }, /: generation\.threshold: threshold must be in \(0, 1\]$/],
      [{ ...base, generation: { minSteps: 9, maxSteps: 4 } }, /: min steps \(9\) cannot exceed max steps \(4\)$/],
      [{ ...base, model: { path: model, sha256: "0".repeat(64) } }, /: model .* has SHA-256 [0-9a-f]{64}; the experiment names 0{64}$/],
      [{ ...base, engine: { threads: 1, contextSize: 3 } }, /: context size must be an integer in \[16, /],
      ["{ not json", /: not valid JSON/],
    ] as const) {
      const file = write("bad.json", value);
      const out = join(dir, "never");
      const r = tempo("run", file, "--out", out);
      assert.equal(r.code, 2, `${JSON.stringify(value)}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.ok(r.stderr.startsWith(`tempo: ${file}: `), r.stderr);
      assert.match(r.stderr.trim(), pattern);
      assert.throws(() => statSync(out), "nothing written");
    }
  });

  it("compare: the folder stores the resolved experiment, and rerunning it reproduces every file", () => {
    const first = join(dir, "cmp");
    const flags = ["--model", model, "--threads", "1", "--analysis-workers", "0", "--prompt", "the value of", "--threshold", "0.05", "--max-width", "4", "--max-steps", "6", "--attention-layers", "0,1"];
    const r = tempo("compare", ...flags, "--out", first);
    assert.equal(r.code, 0, r.stderr);
    const stored = JSON.parse(readFileSync(join(first, EXPERIMENT_FILE_NAME), "utf8"));
    assert.ok(parseExperiment(stored).ok, "the stored experiment is a valid experiment file");
    assert.deepEqual(stored.model, { path: model, sha256: stored.model.sha256 });
    assert.match(stored.model.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(stored.engine, { gpu: "auto", contextSize: 4096, threads: 1, flashAttention: "off" });
    assert.equal(stored.prompt, "the value of");
    // Every generation setting is filled in, the given ones and the defaults.
    assert.deepEqual(stored.generation, { ...DEFAULT_CONFIG, threshold: 0.05, thresholdEnd: 0.05, maxWidth: 4, maxSteps: 6 });
    assert.deepEqual(stored.compare, { qMode: "visible", attentionLayers: [0, 1], logits: { kind: "topk", k: 50 }, analysisWorkers: 0 });
    for (const f of ["manifest.json", "steps.jsonl", "logits.safetensors", "attention.safetensors", "report.json", "report.md", "report.html"]) assert.ok(filesUnder(first).includes(f), f);

    const again = join(dir, "cmp-again");
    const rerun = tempo("run", join(first, EXPERIMENT_FILE_NAME), "--out", again);
    assert.equal(rerun.code, 0, rerun.stderr);
    assertSameFolder(first, again);

    // A replay of that capture stores `from` (absolute) and the capture's settings, and reruns the same.
    const replayed = join(dir, "cmp-from");
    assert.equal(tempo("compare", "--model", model, "--threads", "1", "--from", first, "--q-mode", "causal", "--out", replayed).code, 0);
    const fromX = JSON.parse(readFileSync(join(replayed, EXPERIMENT_FILE_NAME), "utf8"));
    assert.equal(fromX.from, first);
    assert.equal(fromX.prompt, undefined);
    assert.deepEqual(fromX.generation, stored.generation);
    const replayedAgain = join(dir, "cmp-from-again");
    assert.equal(tempo("run", join(replayed, EXPERIMENT_FILE_NAME), "--out", replayedAgain).code, 0);
    assertSameFolder(replayed, replayedAgain);
  });

  it("compare --dump-experiment writes the same resolved experiment a run stores, without running", () => {
    const dump = join(dir, "dumped.json");
    const flags = ["--model", model, "--threads", "1", "--prompt", "x", "--max-steps", "3", "--mode", "causal", "--q-mode", "isolated", "--full-logits", "--f16"];
    const r = tempo("compare", ...flags, "--dump-experiment", dump);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    const out = join(dir, "dump-run");
    assert.equal(tempo("compare", ...flags, "--out", out).code, 0);
    assert.equal(readFileSync(dump, "utf8"), readFileSync(join(out, EXPERIMENT_FILE_NAME), "utf8"));
    const x = JSON.parse(readFileSync(dump, "utf8"));
    assert.equal(x.generation.mode, "causal");
    assert.deepEqual(x.compare.logits, { kind: "full", dtype: "F16" });
    const none = tempo("compare", ...flags);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^tempo: give --out <dir> \(or --dump-experiment <file>/);
  });

  it("compare over a prompts file: each prompt's folder and the whole run rerun from their experiment.json", () => {
    const prompts = write("prompts.txt", "the value of\nfunction return\n");
    // Relative paths in an experiment file are relative to the file.
    const file = write("many.json", { version: 1, command: "compare", promptsFile: "prompts.txt", model: { path: model }, engine: { threads: 1 }, generation: { threshold: 0.05, maxWidth: 3, maxSteps: 4 } });
    const out = join(dir, "many");
    const r = tempo("run", file, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    const top = JSON.parse(readFileSync(join(out, EXPERIMENT_FILE_NAME), "utf8"));
    assert.deepEqual(top.prompts, ["the value of", "function return"], "the prompts file's prompts are stored inline");
    assert.equal(top.promptsFile, undefined);
    const second = JSON.parse(readFileSync(join(out, "002", EXPERIMENT_FILE_NAME), "utf8"));
    assert.equal(second.prompt, "function return");
    assert.equal(second.prompts, undefined);
    rmSync(prompts); // the stored experiment needs the file no more
    const one = join(dir, "many-002");
    assert.equal(tempo("run", join(out, "002", EXPERIMENT_FILE_NAME), "--out", one).code, 0);
    assertSameFolder(join(out, "002"), one);
    const all = join(dir, "many-again");
    assert.equal(tempo("run", join(out, EXPERIMENT_FILE_NAME), "--out", all).code, 0);
    assertSameFolder(out, all);
  });

  it("generate --out: generation.json and experiment.json, and tempo run of it gives the same generation", () => {
    const out = join(dir, "gen");
    const r = tempo("generate", "--model", model, "--threads", "1", "--prompt", "the value", "--threshold", "0.05", "--max-steps", "8", "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith("the value"), "the run is shown as tempo generate shows it");
    const stored = JSON.parse(readFileSync(join(out, EXPERIMENT_FILE_NAME), "utf8"));
    assert.equal(stored.command, "generate");
    assert.equal(stored.generation.threshold, 0.05);
    const again = join(dir, "gen-again");
    const rerun = tempo("run", join(out, EXPERIMENT_FILE_NAME), "--out", again);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(rerun.stdout, r.stdout);
    assertSameFolder(out, again);
  });

  it("eval: the folder stores the resolved experiment, and rerunning it reproduces every file but its timings", () => {
    const out = join(dir, "eval");
    const flags = ["--model", model, "--threads", "1", "--limit", "2", "--arms", "standard,isolated", "--max-steps", "16", "--path-cap", "4"];
    const r = tempo("eval", ...flags, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    const dumped = tempo("eval", ...flags, "--dump-experiment", "-");
    assert.equal(dumped.code, 0, dumped.stderr);
    assert.equal(dumped.stdout, readFileSync(join(out, EXPERIMENT_FILE_NAME), "utf8"), "--dump-experiment - prints what the run stored");
    const stored = JSON.parse(readFileSync(join(out, EXPERIMENT_FILE_NAME), "utf8"));
    assert.ok(parseExperiment(stored).ok);
    assert.equal(stored.command, "eval");
    assert.equal(stored.eval.tasks, null, "the built-in suite");
    assert.equal(stored.eval.limit, 2);
    assert.deepEqual(stored.eval.arms, ["standard", "isolated"]);
    for (const k of ["threshold", "maxWidth", "policy", "ks", "concurrency"]) assert.ok(stored.eval[k] !== undefined, k);
    assert.equal(typeof stored.eval.exec.python, "string");
    const md = readFileSync(join(out, "report.md"), "utf8");
    assert.ok(md.indexOf(stored.model.sha256) < md.indexOf("## "), "the report states the model's SHA-256 at the top");
    // A copy elsewhere reruns the same: the experiment holds no path relative to its folder.
    const moved = join(dir, "moved.json");
    copyFileSync(join(out, EXPERIMENT_FILE_NAME), moved);
    const again = join(dir, "eval-again");
    const rerun = tempo("run", moved, "--out", again);
    assert.equal(rerun.code, 0, rerun.stderr);
    assertSameFolder(out, again);
    assert.ok(relative(out, again));
  });
});
