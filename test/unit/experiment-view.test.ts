// The completion experiment between engine host, extension and results page: request and event
// validation, the view built from a run, and the page's message checks.
import assert from "node:assert/strict";
import { parseHostEvent, parseHostRequest } from "../../src/protocol/engine.js";
import { countText, experimentSpecSchema, experimentViewSchema, parseLimit, progressText } from "../../src/protocol/experiment.js";
import type { EvalRun, ItemResult } from "../../src/engine/eval/runner.js";
import { summarizeEval } from "../../src/engine/eval/summary.js";
import { parseTasks } from "../../src/engine/eval/tasks.js";
import { experimentView } from "../../src/engine/eval/view.js";
import type { TempoMode } from "../../src/engine/types.js";
import { baselinesSummary, parseBaselineNumber } from "../../src/protocol/baselines.js";
import { outcomeLabel, parseExperimentExtensionMessage, parseExperimentWebviewMessage } from "../../webview/experiment-protocol.js";

const ENGINE = { modelPath: "/m.gguf", gpu: "cpu", contextSize: 0, flashAttention: "off", threads: 1 } as const;
const EVIL = "<img src=x onerror=alert(1)>";

function item(taskId: string, arm: TempoMode, pass: boolean, over: Partial<ItemResult> = {}): ItemResult {
  return {
    taskId, language: "javascript", arm, stopReason: "function-end", steps: 2, setTokens: 2, forwardPasses: 3, evaluatedTokens: 9, generateMs: 10, executeMs: 5,
    primary: { completion: 0, pass, exact: false, editSimilarity: 0.5 },
    best: { completion: 0, pass, exact: false, editSimilarity: 0.5, path: 0, logprob: -1 },
    paths: { total: 1, n: 1, passed: pass ? 1 : 0, list: [{ logprob: -1, completion: 0 }] },
    completions: [{ text: `  return ${EVIL};\n}\n`, closed: true, status: pass ? "pass" : "fail", exact: false, editSimilarity: 0.5, durationMs: 5, output: pass ? "" : `AssertionError: ${EVIL}` }],
    passAtK: { 1: pass ? 1 : 0 }, skipped: false, ...over,
  };
}

const tasks = parseTasks([
  { task_id: "t/a", prompt: "function a() {\n", canonical_solution: "  return 1;\n}\n", test: "function check(c) {}\n", entry_point: "a" },
  { task_id: "t/b", prompt: "function b() {\n", canonical_solution: "  return 2;\n}\n", test: "function check(c) {}\n", entry_point: "b" },
  { task_id: "t/py", prompt: "def p():\n", canonical_solution: "    return 3\n", test: "def check(c):\n    pass\n", entry_point: "p" },
].map((t) => JSON.stringify(t)).join("\n"));

function fakeRun(): EvalRun {
  const skippedPy = (arm: TempoMode): ItemResult => ({
    ...item("t/py", arm, false), language: "python", forwardPasses: 0, completions: [], primary: { completion: -1, pass: false, exact: false, editSimilarity: 0 },
    paths: { total: 0, n: 0, passed: 0, list: [] }, skipped: true, error: "Python tasks are turned off (--no-python)",
  });
  const items = [
    item("t/a", "standard", false), item("t/a", "isolated", true, { paths: { total: Infinity, n: 1, passed: 1, list: [{ logprob: -1, completion: 0 }] } }),
    item("t/b", "standard", true), item("t/b", "isolated", true),
    skippedPy("standard"), skippedPy("isolated"),
  ];
  return {
    settings: { arms: ["standard", "isolated"], ks: [1], exec: { timeoutMs: 1, memoryMb: 16 }, concurrency: 1, threshold: 0.1, maxWidth: 4, maxSteps: 8, policy: "mixture", pathCap: 4 },
    configs: {}, sandbox: { node: "node", permissionFlag: "--permission", networkNamespace: true, python: null }, items, aborted: false, wallMs: 1234,
  } as unknown as EvalRun;
}

describe("completion experiment protocol", () => {
  it("validates the experiment spec", () => {
    assert.ok(experimentSpecSchema.safeParse({ arms: ["standard"] }).success);
    assert.ok(experimentSpecSchema.safeParse({ tasksPath: "/x.jsonl", arms: ["standard", "isolated", "visible", "causal"], limit: 3 }).success);
    assert.ok(experimentSpecSchema.safeParse({ arms: ["isolated"], baselines: { arms: ["sample", "beam"], match: "isolated", topP: 0.9 } }).success);
    for (const bad of [{ arms: ["isolated"], baselines: { arms: ["greedy"] } }, { arms: ["isolated"], baselines: { arms: [] } }, { arms: ["isolated"], baselines: { arms: ["sample"], topK: 3 } }, { arms: [] }, { arms: ["fast"] }, { arms: ["standard", "standard"] }, { arms: ["standard"], limit: 0 }, { arms: ["standard"], limit: 1.5 }, { arms: ["standard"], extra: 1 }, { arms: ["standard"], tasksPath: "" }]) {
      assert.equal(experimentSpecSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });

  it("the engine host accepts an experiment request and the client its progress and result events", () => {
    const req = parseHostRequest({ type: "experiment", id: 3, engine: ENGINE, spec: { arms: ["standard"], limit: 2 }, outRoot: "/tmp/x" });
    assert.ok(req.ok, req.ok ? "" : req.error);
    assert.equal(parseHostRequest({ type: "experiment", id: 3, engine: ENGINE, spec: { arms: ["standard"] } }).ok, false, "outRoot is required");
    assert.ok(parseHostEvent({ type: "experimentProgress", id: 3, progress: { done: 1, total: 4, taskId: "t/a", arm: "isolated" } }).ok);
    assert.ok(parseHostEvent({ type: "experimentProgress", id: 3, progress: { done: 2, total: 4, taskId: "t/a", arm: "sample" } }).ok, "a baseline's progress");
    assert.equal(parseHostEvent({ type: "experimentProgress", id: 3, progress: { done: -1, total: 4, taskId: "t/a", arm: "isolated" } }).ok, false);
    const run = fakeRun();
    const view = experimentView(run, summarizeEval(run), tasks, { dir: "/tmp/x/eval-1", source: "built-in suite", model: "m.gguf" });
    // Through the IPC channel's JSON, as the child sends it.
    const done = parseHostEvent(JSON.parse(JSON.stringify({ type: "experimentDone", id: 3, view })));
    assert.ok(done.ok, done.ok ? "" : done.error);
    assert.equal(parseHostEvent({ type: "experimentDone", id: 3, view: { ...view, tasks: "x" } }).ok, false);
  });

  it("the limit box takes empty (all) or a positive whole number", () => {
    assert.deepEqual(parseLimit(""), {});
    assert.deepEqual(parseLimit(" 12 "), { limit: 12 });
    for (const bad of ["0", "-1", "1.5", "abc", "1e3", "99999999999999999999"]) assert.ok(parseLimit(bad).error, bad);
  });

  it("the baseline boxes take empty (the CLI's default) or a number in the CLI's range, with its message", () => {
    assert.deepEqual(parseBaselineNumber("temperature", ""), {});
    assert.deepEqual(parseBaselineNumber("topP", " 0.9 "), { value: 0.9 });
    assert.deepEqual(parseBaselineNumber("seed", "7"), { value: 7 });
    assert.deepEqual(parseBaselineNumber("topP", "1.5"), { error: "top-p must be in (0, 1], got 1.5" });
    assert.deepEqual(parseBaselineNumber("temperature", "0"), { error: "the sampling temperature must be in (0, 100], got 0" });
    assert.deepEqual(parseBaselineNumber("seed", "1.5"), { error: "the seed must be an integer in [1, 2147483648], got 1.5" });
    assert.deepEqual(parseBaselineNumber("beamWidth", "257"), { error: "the beam width must be an integer in [1, 256], got 257" });
    assert.match(parseBaselineNumber("beamWidth", "wide").error ?? "", /a number, or empty for the default/);
  });

  it("the settings summary states the baselines with tempo eval's defaults filled in", () => {
    assert.equal(baselinesSummary(undefined), "baselines none");
    assert.equal(baselinesSummary({ arms: ["sample", "beam"], match: "visible", seed: 7 }),
      "baselines at the rows visible decoded per task: sample: best-of-n sampling, temperature 0.8, top-p 0.95, seed 7; beam: beam search, width the max width");
    assert.equal(baselinesSummary({ arms: ["beam"], beamWidth: 3 }), "baselines at the rows the first TEMPO arm decoded per task: beam: beam search, width 3");
  });

  it("progress text counts units and extrapolates an ETA from the finished ones", () => {
    assert.equal(progressText({ done: 0, total: 10 }, 5000), "0/10 task×arm");
    assert.equal(progressText({ done: 2, total: 10 }, 10_000), "2/10 task×arm · ETA 40 s");
    assert.equal(progressText({ done: 1, total: 10 }, 60_000), "1/10 task×arm · ETA 9 min");
    assert.equal(progressText({ done: 10, total: 10 }, 60_000), "10/10 task×arm");
  });

  it("path counts read as a power of ten when huge, exactly when small, and ∞ when unbounded", () => {
    assert.equal(countText(9.814425580665536e23), "9.81 × 10^23");
    assert.equal(countText(1e6), "1.00 × 10^6");
    assert.equal(countText(999_999), "999999");
    assert.equal(countText(12), "12");
    assert.equal(countText(null), "∞");
  });
});

describe("completion experiment results view", () => {
  const run = fakeRun();
  const summary = summarizeEval(run);
  const view = experimentView(run, summary, tasks, { dir: "/tmp/x/eval-1", source: "built-in suite", model: "m.gguf" });

  it("is valid against the schema the extension and the page check", () => {
    const parsed = experimentViewSchema.safeParse(view);
    assert.ok(parsed.success, parsed.success ? "" : parsed.error.message);
  });

  it("carries the report's tables: per-arm quality with intervals, paired tests, cost, outcomes", () => {
    assert.deepEqual(view.tables.map((t) => t.title), ["Quality per arm", "Paired comparisons against standard", "Cost per task", "Outcomes"]);
    const quality = view.tables[0];
    assert.deepEqual(quality.rows.map((r) => r[0]), ["standard", "isolated"]);
    assert.equal(quality.head[1], "pass@1 (primary)");
    // 2 analysed tasks: standard 1/2, isolated 2/2, each with its Wilson interval.
    assert.match(quality.rows[0][1], /^1\/2 = 50\.0% \[\d+\.\d%, \d+\.\d%\]$/);
    assert.match(quality.rows[1][1], /^2\/2 = 100\.0% \[\d+\.\d%, 100\.0%\]$/);
    const paired = view.tables[1];
    assert.equal(paired.rows.length, 4, "pass@1, best-of-set, exact match (McNemar) and edit similarity (Wilcoxon) for isolated vs standard");
    assert.equal(paired.rows[0][1], "pass@1 (primary path) (primary)", "markdown bold is stripped");
    assert.match(paired.rows[0][3], /McNemar.*arm only 1, standard only 0/);
    assert.match(paired.rows[3][3], /Wilcoxon/);
    assert.ok(view.tables.flatMap((t) => t.rows.flat()).every((c) => !c.includes("**")));
  });

  it("counts skipped tasks apart from failures, with the reason", () => {
    assert.equal(view.analysed, 2);
    assert.equal(view.skipped.count, 1);
    assert.match(view.skipped.summary, /^1 task skipped, not counted as failures \(Python tasks are turned off \(--no-python\): 1\)$/);
    const py = view.tasks.find((t) => t.taskId === "t/py")!;
    assert.ok(py.arms.every((u) => u.skipped && outcomeLabel(u) === "skipped" && u.completion === ""));
  });

  it("gives each task every arm's primary completion and test output, in task order, text kept literal", () => {
    assert.deepEqual(view.tasks.map((t) => t.taskId), ["t/a", "t/b", "t/py"]);
    const a = view.tasks[0];
    assert.equal(a.prompt, "function a() {\n");
    assert.equal(a.reference, "  return 1;\n}\n");
    assert.deepEqual(a.arms.map((u) => [u.arm, outcomeLabel(u)]), [["standard", "fail"], ["isolated", "pass"]]);
    assert.ok(a.arms[0].completion.includes(EVIL));
    assert.ok(a.arms[0].output.includes(EVIL));
    assert.equal(a.arms[1].paths.total, null, "an overflowing path count is null, not Infinity (JSON has no Infinity)");
  });

  it("shows a baseline beside the modes: its units with the rows it was given and spent, and the matched-compute table", () => {
    const withBaseline = fakeRun();
    withBaseline.settings.baselines = { arms: ["sample"], match: "isolated", temperature: 0.8, topP: 0.95, seed: 1, beamWidth: 4 };
    const budget = { matchedTo: "isolated" as const, rows: 9, samples: 2 };
    withBaseline.items.push(
      { ...item("t/a", "isolated", true), arm: "sample", evaluatedTokens: 8, budget },
      { ...item("t/b", "isolated", false), arm: "sample", evaluatedTokens: 9, budget },
      { ...withBaseline.items[5], arm: "sample" },
    );
    const v = experimentView(withBaseline, summarizeEval(withBaseline), tasks, { dir: "/tmp/x/eval-2", source: "built-in suite", model: "m.gguf" });
    const parsed = experimentViewSchema.safeParse(JSON.parse(JSON.stringify(v)));
    assert.ok(parsed.success, parsed.success ? "" : parsed.error.message);
    assert.deepEqual(v.arms, ["standard", "isolated", "sample"]);
    const sample = v.tasks[0].arms.find((u) => u.arm === "sample")!;
    assert.deepEqual([sample.rowsDecoded, sample.budget, outcomeLabel(sample)], [8, budget, "pass"]);
    assert.equal(v.tasks[0].arms.find((u) => u.arm === "isolated")!.budget, undefined);
    const matched = v.tables.find((t) => t.title === "Matched compute: baselines at the rows of isolated");
    assert.ok(matched, v.tables.map((t) => t.title).join(", "));
    assert.deepEqual(matched.rows.map((r) => r.slice(0, 3)), [["standard", "—", "9"], ["isolated", "(the budget)", "9"], ["sample", "9", "8.5"]]);
  });

  it("the page accepts the view and drops malformed messages both ways", () => {
    const shown = parseExperimentExtensionMessage(JSON.parse(JSON.stringify({ type: "show", view })));
    assert.ok(shown && shown.type === "show" && shown.view?.tasks.length === 3);
    assert.ok(parseExperimentExtensionMessage({ type: "show", view: null }));
    for (const bad of [null, "show", { type: "show" }, { type: "show", view: { ...view, arms: ["fast"] } }, { type: "inspect" }, { type: "selectTask", taskId: 1 }]) {
      assert.equal(parseExperimentExtensionMessage(bad), undefined, JSON.stringify(bad)?.slice(0, 80));
    }
    assert.deepEqual(parseExperimentWebviewMessage({ type: "export" }), { type: "export" });
    assert.ok(parseExperimentWebviewMessage({ type: "ready", elements: ["vscode-button"] }));
    for (const bad of [{}, { type: "export", path: "/etc" }, { type: "ready" }, { type: "ready", elements: Array(100).fill("x") }, { type: "rendered", requestId: 1 }, { type: "run" }]) {
      assert.equal(parseExperimentWebviewMessage(bad), undefined, JSON.stringify(bad));
    }
  });
});
