/**
 * Experiment files (docs/experiments.md): the schema's refusals, the resolved experiment stored
 * in every folder, --dump-experiment, and the promise that `tempo run <folder>/experiment.json`
 * reproduces the folder byte for byte but for the timing and date fields listed in TIMING (test/support/same-folder.ts).
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { seededModelPath, TINY_SHAPE } from "../fixtures/seeded-model.js";
import { assertSameFolder, filesUnder } from "../support/same-folder.js";
import { EXPERIMENT_FILE_NAME, parseExperiment } from "../../src/protocol/experiment-file.js";
import { experimentText, parseExperimentText } from "../../src/protocol/experiment-text.js";
import { DEFAULT_CONFIG } from "../../src/protocol/generation.js";
import { tempo } from "../support/tempo-cli.js";

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
    assert.deepEqual(stored.compare, { qMode: "visible", attentionLayers: [0, 1], logits: { kind: "topk", k: 50 }, analysisWorkers: 0, batchPrompts: 1 });
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
    // One prompt per decode: a prompt's folder then reruns to the same bits (batched, it reruns
    // alone, without its batch neighbours: the same within layout rounding, compare.test.ts).
    const file = write("many.json", { version: 1, command: "compare", promptsFile: "prompts.txt", model: { path: model }, engine: { threads: 1 }, generation: { threshold: 0.05, maxWidth: 3, maxSteps: 4 }, compare: { batchPrompts: 1 } });
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

  it("tempo run x.yaml: the YAML form of an experiment runs as its JSON form does; bad YAML is one line with its line", () => {
    const asJson = write("gen.json", { version: 1, command: "generate", model: { path: model }, engine: { threads: 1 }, prompt: "the value", generation: { threshold: 0.05, maxSteps: 6 } });
    const asYaml = write("gen.yaml", ["version: 1", "command: generate", "model:", `  path: ${JSON.stringify(model)}`, "engine: { threads: 1 }", "prompt: the value", "generation:", "  threshold: 0.05", "  maxSteps: 6", ""].join("\n"));
    const fromJson = join(dir, "gen-json"), fromYaml = join(dir, "gen-yaml");
    const a = tempo("run", asJson, "--out", fromJson);
    assert.equal(a.code, 0, a.stderr);
    const b = tempo("run", asYaml, "--out", fromYaml);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout, a.stdout);
    // The folder stores the resolved experiment as JSON whichever form it came from.
    assertSameFolder(fromJson, fromYaml);
    // --dump-experiment to a .yaml name writes the resolved experiment as YAML, and it reruns the same.
    const dumped = join(dir, "gen-dumped.yml");
    assert.equal(tempo("run", asYaml, "--dump-experiment", dumped).code, 0);
    assert.match(readFileSync(dumped, "utf8"), /^version: 1\ncommand: generate\n/);
    const fromDump = join(dir, "gen-dumped");
    assert.equal(tempo("run", dumped, "--out", fromDump).code, 0);
    assertSameFolder(fromJson, fromDump);

    for (const [text, pattern] of [
      ["version: 1\ncommand: generate\nprompt: [the value\n", /:4:1: not valid YAML: /],
      ["version: 1\ncommand: generate\nprompt: x\ngeneration:\n  treshold: 0.1\n", /:5: unknown key generation\.treshold$/],
    ] as const) {
      const bad = write("bad.yaml", text);
      const r = tempo("run", bad, "--out", join(dir, "never"));
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.ok(r.stderr.startsWith(`tempo: ${bad}:`), r.stderr);
      assert.match(r.stderr.trim(), pattern);
    }
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

describe("experiment files: YAML", () => {
  const json = {
    version: 1, command: "compare", description: "isolated vs visible: two prompts",
    engine: { threads: 1 }, prompts: ["function add(a, b) {", "const xs = [1, 2, 3].map("],
    generation: { threshold: 0.05, maxWidth: 4, maxSteps: 24, stopStrings: ["\n\n"] },
    compare: { qMode: "visible", attentionLayers: [0], logits: { kind: "topk", k: 50 } },
  };
  const yaml = [
    "# the same experiment, written by hand",
    "version: 1",
    "command: compare",
    "description: \"isolated vs visible: two prompts\"",
    "engine: { threads: 1 }",
    "prompts:",
    "  - \"function add(a, b) {\"",
    "  - \"const xs = [1, 2, 3].map(\"",
    "generation:",
    "  threshold: 0.05",
    "  maxWidth: 4",
    "  maxSteps: 24",
    "  stopStrings: [\"\\n\\n\"]",
    "compare:",
    "  qMode: visible",
    "  attentionLayers: [0]",
    "  logits: { kind: topk, k: 50 }",
    "",
  ].join("\n");

  it("the YAML and JSON forms of one experiment resolve to the same object", () => {
    const fromJson = parseExperimentText(JSON.stringify(json), "x.json");
    const fromYaml = parseExperimentText(yaml, "x.yaml");
    assert.ok(fromJson.ok && fromYaml.ok, JSON.stringify([fromJson, fromYaml]));
    assert.deepEqual(fromYaml.experiment, fromJson.experiment);
    assert.deepEqual(parseExperimentText(yaml, "X.YML"), fromYaml, ".yml (any case) is YAML too");
    // What VS Code's Save Experiment File… and --dump-experiment x.yaml write reads back the same.
    const written = experimentText(fromJson.experiment, "saved.yaml");
    assert.ok(!written.trimStart().startsWith("{"), written);
    assert.deepEqual(parseExperimentText(written, "saved.yaml"), fromJson);
    assert.equal(experimentText(fromJson.experiment, "saved.json"), JSON.stringify(fromJson.experiment, null, 2) + "\n");
  });

  it("malformed YAML is one line with its line and column; a schema problem names the line it is on", () => {
    const lines = yaml.split("\n");
    const edit = (i: number, line: string) => lines.map((l, j) => (j === i ? line : l)).join("\n");
    for (const [text, message] of [
      [edit(10, " maxWidth: 4"), /^11:\d+: not valid YAML: All mapping items must start at the same column$/],
      [edit(10, "  threshold: 0.1"), /^11:3: not valid YAML: Map keys must be unique$/],
      [edit(10, "\tmaxWidth: 4"), /^11:1: not valid YAML: Tabs are not allowed as indentation$/],
      [edit(6, "  - [unclosed"), /^8:3: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a \]$/],
      [edit(1, "version: !int 1"), /^2:10: not valid YAML: Unresolved tag: !int$/],
      [yaml + "---\nversion: 1\n", /^18:1: not valid YAML: Source contains multiple documents/],
      [edit(4, "engine: *base"), /^5:9: not valid YAML: .*alias/i],
      ["", /^the file holds no experiment/],
      [edit(10, "  maxWidht: 4"), /^11: unknown key generation\.maxWidht$/],
      [edit(9, "  threshold: 1.5"), /^10: generation\.threshold: threshold must be in \(0, 1\]$/],
      [edit(14, "  qMode: sideways"), /^15: compare\.qMode: qMode must be visible, causal or isolated$/],
      [edit(7, "  - \"\""), /^8: prompts\.1: prompts cannot be empty$/],
    ] as const) {
      const r = parseExperimentText(text, "bad.yaml");
      assert.equal(r.ok, false, text);
      if (r.ok) continue;
      assert.equal(r.message.split("\n").length, 1, r.message);
      assert.match(r.message, message);
    }
  });

  it("docs/experiments.md: every example file is valid, and its YAML compare is its JSON compare", () => {
    const doc = readFileSync("docs/experiments.md", "utf8");
    const blocks = [...doc.matchAll(/^```(json|yaml)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], text: m[2] }));
    assert.ok(blocks.length >= 3, "the examples are found");
    const parsed = blocks.map((b) => parseExperimentText(b.text, `example.${b.lang}`));
    for (const [i, r] of parsed.entries()) assert.ok(r.ok, `${blocks[i].lang} example ${i}: ${r.ok ? "" : r.message}`);
    const compare = (lang: string) => parsed.find((r, i) => blocks[i].lang === lang && r.ok && r.experiment.command === "compare");
    assert.deepEqual(compare("yaml"), compare("json"));
  });
});
