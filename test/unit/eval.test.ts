import assert from "node:assert/strict";
import { TempoModel } from "../../src/engine/model.js";
import { TempoInputError } from "../../src/engine/errors.js";
import { SessionGroup } from "../../src/engine/session-group.js";
import { TempoSession } from "../../src/engine/session.js";
import type { StepEvent, TempoMode } from "../../src/engine/types.js";
import { editSimilarity, exactMatch, programSource, truncateCompletion } from "../../src/engine/eval/completion.js";
import { countPaths, tokensCovering, topPaths } from "../../src/engine/eval/paths.js";
import { DEFAULT_EXEC, executeProgram, mapLimit, sandboxInfo } from "../../src/engine/eval/sandbox.js";
import { loadTasks, openBraces, parseTasks, type EvalTask } from "../../src/engine/eval/tasks.js";
import { runEval, type EvalRun, type ItemResult } from "../../src/engine/eval/runner.js";
import { summarizeEval, PRIMARY_METRIC } from "../../src/engine/eval/summary.js";
import { renderEvalMarkdown, type EvalMeta } from "../../src/engine/eval/report.js";
import { drawToken, nucleus, sampleCompletions } from "../../src/engine/eval/sampling.js";
import { beamSearch } from "../../src/engine/eval/beam.js";
import { generateCompletionPaths } from "../../src/engine/eval/completion-paths.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { passAtK } from "../../src/engine/analysis/stats.js";
import { seededModelPath, TINY_SHAPE } from "../fixtures/seeded-model.js";

const line = (o: Record<string, unknown>) => JSON.stringify(o);
const task = (over: Record<string, unknown> = {}) => ({ task_id: "t/1", prompt: "function f(x) {\n", canonical_solution: "  return x;\n}\n", test: "function check(c) {}\n", entry_point: "f", ...over });

describe("eval task files", () => {
  it("the built-in suite has >= 40 JavaScript tasks over the six categories and >= 5 Python tasks, unique ids", () => {
    const tasks = loadTasks();
    const js = tasks.filter((t) => t.language === "javascript"), py = tasks.filter((t) => t.language === "python");
    assert.ok(js.length >= 40, `${js.length} JavaScript tasks`);
    assert.ok(py.length >= 5, `${py.length} Python tasks`);
    assert.equal(js.length + py.length, tasks.length);
    assert.deepEqual([...new Set(js.map((t) => t.category))].sort(), ["arrays", "async", "classes", "math", "parsing", "strings"]);
    assert.equal(new Set(tasks.map((t) => t.taskId)).size, tasks.length);
    // Python last: --limit n takes the JavaScript tasks first.
    assert.ok(tasks.findIndex((t) => t.language === "python") === js.length);
  });

  it("every built-in reference passes its tests, and an empty body fails them", async function () {
    this.timeout(300_000);
    const tasks = loadTasks();
    const results = await mapLimit(tasks, 2, async (t) => {
      const ref = truncateCompletion(t, t.canonicalSolution + "\nconsole.log('after the function');\n");
      const good = await executeProgram(programSource(t, ref), t.entryPoint, t.language);
      const empty = await executeProgram(programSource(t, truncateCompletion(t, "}\n")), t.entryPoint, t.language);
      return { id: t.taskId, closed: ref.closed, good, empty, exact: exactMatch(ref.text, t.canonicalSolution) };
    });
    const python = sandboxInfo().python !== null;
    for (const r of results) {
      assert.ok(r.closed, `${r.id}: the reference closes the function`);
      assert.ok(r.exact, `${r.id}: the truncated reference is an exact match`);
      assert.equal(r.good.status, python || !r.id.startsWith("tempo/py/") ? "pass" : "skipped", `${r.id}: ${r.good.output}`);
      assert.notEqual(r.empty.status, "pass", `${r.id}: an empty body must fail`);
    }
  });

  it("reports every malformed line with its number", () => {
    const text = [line(task()), "{not json", "", line(task({ task_id: "t/2", prompt: "" })), "[1]", line(task()), line(task({ task_id: "t/3", entry_point: "a b" }))].join("\n");
    assert.throws(() => parseTasks(text, "x.jsonl"), (e: Error) => {
      assert.ok(e instanceof TempoInputError);
      assert.match(e.message, /x\.jsonl:2: not valid JSON/);
      assert.match(e.message, /x\.jsonl:4: missing or empty string field\(s\): prompt/);
      assert.match(e.message, /x\.jsonl:5: expected a JSON object/);
      assert.match(e.message, /x\.jsonl:6: duplicate task_id "t\/1" \(first on line 1\)/);
      assert.match(e.message, /x\.jsonl:7: entry_point "a b" is not an identifier/);
      return true;
    });
    assert.throws(() => parseTasks(Array(8).fill("nope").join("\n"), "y.jsonl"), /y\.jsonl:5: .*; and 3 more$/);
    assert.throws(() => parseTasks("\n\n", "e.jsonl"), /no tasks/);
    assert.throws(() => loadTasks("/nonexistent/tasks.jsonl"), /cannot read the task file/);
  });

  it("detects Python prompts", () => {
    const [js, py] = parseTasks([line(task()), line(task({ task_id: "p", prompt: "def f(x):\n    \"\"\"doc\"\"\"\n" }))].join("\n"));
    assert.equal(js.language, "javascript");
    assert.equal(py.language, "python");
  });
});

describe("eval completions", () => {
  const [jsTask, classTask, pyTask] = parseTasks([
    line(task()),
    line(task({ task_id: "c", prompt: "class A {\n  m() {\n", entry_point: "A" })),
    line(task({ task_id: "p", prompt: "def f(x):\n    \"\"\"doc\"\"\"\n" })),
  ].join("\n"));

  it("cuts JS at the brace that closes the function, ignoring braces in strings, comments and templates", () => {
    const t = truncateCompletion(jsTask, "  const s = \"}\"; // }\n  /* } */ const u = `${ {a: 1}.a }}`;\n  return s;\n}\nfunction next() {}\n");
    assert.equal(t.closed, true);
    assert.equal(t.text, "  const s = \"}\"; // }\n  /* } */ const u = `${ {a: 1}.a }}`;\n  return s;\n}\n");
    assert.equal(t.closing, "");
    const open = truncateCompletion(jsTask, "  return x;\n");
    assert.equal(open.closed, false);
    assert.equal(open.used, "  return x;\n".length);
  });

  it("closes the scopes around a method", () => {
    assert.equal(openBraces(classTask.prompt), 2);
    const t = truncateCompletion(classTask, "    return 1;\n  }\n  other() {}\n}\n");
    assert.equal(t.text, "    return 1;\n  }\n");
    assert.equal(t.closing, "}\n");
    assert.match(programSource(classTask, t), /class A \{\n {2}m\(\) \{\n {4}return 1;\n {2}\}\n\}\n/);
  });

  it("cuts Python at the first line back at the def's indentation", () => {
    const t = truncateCompletion(pyTask, "    y = x\n\n    return y\n\ndef other():\n    pass\n");
    assert.equal(t.closed, true);
    assert.equal(t.text, "    y = x\n\n    return y\n");
  });

  it("exact match ignores whitespace; edit similarity is 1 - Levenshtein / max length", () => {
    assert.equal(exactMatch("  return   x;\n}", "return x; }\n"), true);
    assert.equal(exactMatch("return y; }", "return x; }"), false);
    assert.equal(editSimilarity("kitten", "sitting"), 1 - 3 / 7);
    assert.equal(editSimilarity("a  b", "a b"), 1);
    assert.equal(editSimilarity("", ""), 1);
    assert.equal(editSimilarity("abc", ""), 0);
  });
});

function step(probs: number[], tokens = probs.map((_, i) => i)): StepEvent {
  return { candidates: probs.map((p, i) => ({ token: tokens[i], text: String(tokens[i]), prob: p, logprob: Math.log(p), rank: i, cell: 0 })) } as unknown as StepEvent;
}

describe("eval paths through sets", () => {
  it("topPaths equals brute-force enumeration sorted by summed log-probability", () => {
    const steps = [step([0.5, 0.3, 0.2]), step([0.6, 0.4]), step([0.9]), step([0.45, 0.35, 0.2], [7, 8, 9])];
    assert.equal(countPaths(steps), 18);
    const all: { choice: number[]; logprob: number }[] = [];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 2; b++) for (let d = 0; d < 3; d++) {
      const choice = [a, b, 0, d];
      all.push({ choice, logprob: choice.reduce((s, j, i) => s + steps[i].candidates[j].logprob, 0) });
    }
    all.sort((x, y) => y.logprob - x.logprob);
    for (const cap of [1, 5, 18, 100]) {
      const got = topPaths(steps, cap);
      assert.equal(got.length, Math.min(cap, 18));
      got.forEach((p, i) => assert.ok(Math.abs(p.logprob - all[i].logprob) < 1e-12, `cap ${cap} rank ${i}`));
    }
    const best = topPaths(steps, 3);
    assert.deepEqual(best[0].choice, [0, 0, 0, 0], "the best path is the primary path");
    assert.deepEqual(best[0].tokens, [0, 0, 0, 7]);
    assert.equal(new Set(topPaths(steps, 18).map((p) => p.choice.join())).size, 18, "distinct");
  });

  it("tokensCovering finds the shortest prefix reaching a text length", () => {
    const text = (t: number[]) => t.map((x) => "ab".repeat(x)).join("");
    assert.equal(tokensCovering([1, 2, 0, 3], 0, text), 0);
    assert.equal(tokensCovering([1, 2, 0, 3], 2, text), 1);
    assert.equal(tokensCovering([1, 2, 0, 3], 3, text), 2);
    assert.equal(tokensCovering([1, 2, 0, 3], 7, text), 4);
  });
});

function fakeItem(taskId: string, arm: TempoMode, pass: boolean, sim: number, paths: boolean[]): ItemResult {
  const completions = paths.map((p, i) => ({ text: `c${i}`, closed: true, status: p ? "pass" as const : "fail" as const, exact: false, editSimilarity: sim, durationMs: 1, output: "" }));
  completions[0] = { ...completions[0], status: pass ? "pass" : "fail" };
  const passed = completions.filter((c) => c.status === "pass").length;
  return {
    taskId, language: "javascript", arm, stopReason: "function-end", steps: 3, setTokens: 3, forwardPasses: 4, evaluatedTokens: 10, generateMs: 100, executeMs: 5,
    primary: { completion: 0, pass, exact: false, editSimilarity: sim },
    best: { completion: 0, pass, exact: false, editSimilarity: sim, path: 0, logprob: -1 },
    paths: { total: paths.length, n: paths.length, passed, list: paths.map((_, i) => ({ logprob: -i, completion: i })) },
    completions, passAtK: { 1: passAtK(paths.length, passed, 1), 2: paths.length >= 2 ? passAtK(paths.length, passed, 2) : null }, skipped: false,
  };
}

describe("eval summary", () => {
  it("counts, intervals, McNemar discordant pairs and adjusted p-values", () => {
    const items: ItemResult[] = [];
    // standard passes 2 of 6; isolated passes 5 of 6; discordant: isolated only 3, standard only 0.
    const std = [true, true, false, false, false, false];
    const iso = [true, true, true, true, true, false];
    for (let i = 0; i < 6; i++) {
      items.push(fakeItem(`t${i}`, "standard", std[i], 0.2 + i * 0.01, [std[i]]));
      items.push(fakeItem(`t${i}`, "isolated", iso[i], 0.5 + i * 0.02, [iso[i], false]));
    }
    const run = { settings: { arms: ["standard", "isolated"], ks: [1, 2] }, items, aborted: false, wallMs: 1 } as unknown as EvalRun;
    const s = summarizeEval(run);
    assert.equal(s.tasks, 6);
    assert.equal(s.baseline, "standard");
    const [a, b] = s.arms;
    assert.equal(a.pass1.count, 2);
    assert.equal(b.pass1.count, 5);
    assert.ok(b.pass1.wilson!.lo > 0.3 && b.pass1.wilson!.hi < 1);
    assert.equal(a.passAtK["2"].n, 0, "standard has one path per item: no pass@2");
    assert.equal(b.passAtK["2"].n, 6);
    assert.equal(b.cost.samplesPerTask, 2);
    assert.equal(b.cost.passesPerSample, 2);
    const primary = s.comparisons.filter((c) => c.primary);
    assert.equal(primary.length, 1);
    assert.equal(primary[0].metric, PRIMARY_METRIC);
    assert.deepEqual(primary[0].discordant, { armOnly: 3, baselineOnly: 0 });
    assert.equal(primary[0].pValue, 0.25); // two-sided binomial, 3 of 3
    assert.ok(Math.abs(primary[0].difference.estimate - 0.5) < 1e-12);
    assert.equal(s.comparisons.length, 4);
    for (const c of s.comparisons) assert.ok(c.pHolm >= c.pValue && c.pBH >= c.pValue && c.pHolm >= c.pBH - 1e-15);
    const edit = s.comparisons.find((c) => c.metric.startsWith("edit similarity"))!;
    assert.ok(edit.difference.estimate > 0.3 && edit.pValue < 0.05, `Wilcoxon on 6 all-positive differences: ${edit.pValue}`);
    const meta = { model: { fileName: "m.gguf", sha256: "0", path: "m", description: "d" }, engine: { nodeLlamaCpp: "1", llamaCpp: "1", backend: "CPU" }, context: { contextSize: 1, lanes: 1, batchSize: 1, flashAttention: "off", threads: 1, automaticThreads: false, promptsPerDecode: 1 }, tasks: { source: "s", count: 6, limit: null }, startedAt: "now" } as EvalMeta;
    const md = renderEvalMarkdown({ ...run, configs: { standard: { temperature: 1 } }, sandbox: { permissionFlag: "--p", networkNamespace: true }, settings: { ...run.settings, exec: { timeoutMs: 1, memoryMb: 1 } } } as unknown as EvalRun, s, meta);
    assert.match(md, /\| isolated \| 5\/6 = 83\.3%/);
    assert.match(md, /Primary metric: pass@1 \(primary path\)/);
  });
});

describe("eval runner on a seeded model", function () {
  this.timeout(300_000);
  let model: TempoModel;
  let session: TempoSession;
  const tasks: EvalTask[] = parseTasks([
    line(task({ task_id: "a", prompt: "/** the value */\nfunction value(x) {\n", canonical_solution: "  return x;\n}\n", test: "const assert = require('node:assert');\nfunction check(c) { assert.equal(c(3), 3); }\n", entry_point: "value" })),
    line(task({ task_id: "b", prompt: "function first(a, b) {\n", canonical_solution: "  return a;\n}\n", test: "function check(c) { if (c(1, 2) !== 1) throw new Error('x'); }\n", entry_point: "first" })),
  ].join("\n"));
  before(async () => {
    model = await TempoModel.open(seededModelPath(TINY_SHAPE));
    session = new TempoSession(model, { lanes: 4 });
  });
  after(async () => { await model?.dispose(); });

  it("runs every task under every arm with consistent bookkeeping and progress", async () => {
    const progress: number[] = [];
    const run = await runEval({ session, tasks, settings: { arms: ["standard", "isolated", "visible"], maxSteps: 12, threshold: 0.02, maxWidth: 4, pathCap: 8, ks: [1, 4] }, onProgress: (p) => progress.push(p.done) });
    assert.equal(run.aborted, false);
    assert.equal(run.items.length, 6);
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(run.items.map((i) => `${i.taskId}/${i.arm}`), ["a/standard", "a/isolated", "a/visible", "b/standard", "b/isolated", "b/visible"]);
    for (const it of run.items) {
      assert.ok(it.forwardPasses >= it.steps && it.forwardPasses <= it.steps + 1, `${it.forwardPasses} passes for ${it.steps} steps`);
      assert.ok(it.paths.n >= 1 && it.paths.n <= 8 && it.paths.n <= it.paths.total);
      assert.equal(it.primary.completion, it.paths.list[0].completion);
      assert.ok(it.completions.length <= it.paths.n);
      assert.ok(it.paths.list.every((p, i, l) => i === 0 || l[i - 1].logprob >= p.logprob), "paths best first");
      assert.equal(it.paths.passed, it.paths.list.filter((p) => it.completions[p.completion].status === "pass").length);
      if (it.arm === "standard") {
        assert.equal(it.paths.n, 1);
        assert.equal(it.setTokens, it.steps);
        assert.equal(it.passAtK["4"], null);
      }
      for (const c of it.completions) assert.ok(c.editSimilarity >= 0 && c.editSimilarity <= 1);
    }
    assert.ok(run.items.some((i) => i.arm !== "standard" && i.paths.total > 1), "a low threshold gives sets wider than one");
  });

  it("a prompt longer than the context is recorded as skipped, not a crash, and left out of the analysis", async () => {
    const [long] = parseTasks(line(task({ task_id: "long", prompt: "/* " + "word ".repeat(session.contextSize * 2) + "*/\nfunction f(x) {\n" })));
    const run = await runEval({ session, tasks: [long, tasks[0]], settings: { arms: ["standard", "isolated"], maxSteps: 4 } });
    assert.equal(run.items.length, 4);
    const skipped = run.items.filter((i) => i.taskId === "long");
    assert.ok(skipped.every((i) => i.skipped && /the prompt is \d+ tokens/.test(i.error ?? "")), JSON.stringify(skipped[0]));
    const s = summarizeEval(run);
    assert.deepEqual(s.skippedTasks, ["long"]);
    assert.equal(s.tasks, 1);
    assert.equal(s.arms[0].pass1.n, 1);
  });

  it("runs Python tasks when an interpreter is present; without one they are skipped and counted, not failed", async () => {
    const py = parseTasks(line(task({ task_id: "py", prompt: "def value(x):\n", canonical_solution: "    return x\n", test: "def check(c):\n    assert c(3) == 3\n", entry_point: "value" })))[0];
    assert.equal(py.language, "python");
    const settings = { arms: ["standard", "isolated"] as TempoMode[], maxSteps: 6 };
    for (const [python, reason] of [[null, /turned off/], ["/nonexistent/python3", /\/nonexistent\/python3 was not found/]] as const) {
      const run = await runEval({ session, tasks: [tasks[0], py], settings: { ...settings, exec: { ...DEFAULT_EXEC, python } } });
      assert.equal(run.items.length, 4);
      const skipped = run.items.filter((i) => i.taskId === "py");
      assert.ok(skipped.every((i) => i.skipped && reason.test(i.error ?? "") && i.forwardPasses === 0), JSON.stringify(skipped[0]));
      assert.equal(run.sandbox.python, null);
      const s = summarizeEval(run);
      assert.deepEqual(s.skippedTasks, ["py"]);
      assert.deepEqual(Object.values(s.skipReasons), [1]);
      assert.ok(reason.test(Object.keys(s.skipReasons)[0]));
      assert.equal(s.tasks, 1, "the skipped task is left out of every arm");
      assert.ok(s.arms.every((a) => a.pass1.n === 1));
    }
    if (!sandboxInfo().python) return; // this machine has no python3: only the skipping is checked
    const run = await runEval({ session, tasks: [py], settings });
    for (const item of run.items) {
      assert.equal(item.skipped, false);
      assert.ok(item.forwardPasses > 0);
      assert.ok(item.completions.every((c) => c.status === "pass" || c.status === "fail" || c.status === "timeout"), JSON.stringify(item.completions));
    }
    assert.equal(summarizeEval(run).skippedTasks.length, 0);
  });

  it("an abort while tests run kills them at once and leaves that unit out", async () => {
    // Whatever the model writes lands inside a comment, so the program always parses and its check loops.
    const [hang] = parseTasks(line(task({ task_id: "hang", prompt: "function f(x) { return x; }\n/* ", test: "*/\nfunction check(c) { for (;;) {} }\n" })));
    const controller = new AbortController();
    const started = Date.now();
    const running = runEval({ session, tasks: [hang], settings: { arms: ["standard"], maxSteps: 4, exec: { timeoutMs: 60_000, memoryMb: 64 } }, signal: controller.signal });
    setTimeout(() => controller.abort(), 3000); // generation of 4 steps is long over: the test program is looping
    const run = await running;
    const ms = Date.now() - started;
    assert.equal(run.aborted, true);
    assert.equal(run.items.length, 0, "the unfinished unit is not reported as a result");
    assert.ok(ms < 10_000, `the abort took ${ms} ms to end the run (test limit 60 s)`);
  });

  it("stops when aborted and says so", async () => {
    const controller = new AbortController();
    controller.abort();
    const run = await runEval({ session, tasks, settings: { arms: ["standard"], maxSteps: 4 }, signal: controller.signal });
    assert.equal(run.aborted, true);
    assert.equal(run.items.length, 0);
  });

  it("rejects bad settings with one message", async () => {
    await assert.rejects(runEval({ session, tasks, settings: { arms: [] } }), /at least one arm/);
    await assert.rejects(runEval({ session, tasks, settings: { pathCap: 0 } }), /path cap/);
    await assert.rejects(runEval({ session, tasks, settings: { maxWidth: 16 } }), /lanes/);
  });

  it("seeded sampling is reproducible and differs between seeds", async () => {
    const prompt = model.promptTokens("function value(x) {\n");
    const opts = { temperature: 1, topP: 0.9, maxSteps: 10, seed: 5, maxSamples: 3, rowBudget: Infinity };
    const a = await sampleCompletions(session, prompt, opts);
    const b = await sampleCompletions(session, prompt, opts);
    assert.equal(a.samples.length, 3);
    assert.deepEqual(a.samples, b.samples, "the same seed draws the same samples");
    assert.deepEqual(a.samples.map((s) => s.seed), [5, 6, 7]);
    assert.notDeepEqual(a.samples[0].tokens, a.samples[1].tokens);
    const c = await sampleCompletions(session, prompt, { ...opts, seed: 6 });
    assert.deepEqual(c.samples[0], a.samples[1], "sample i is seeded seed + i");
    for (const s of a.samples) assert.ok(s.logprob < 0 && s.tokens.length <= 10 && s.stepLogprobs.length === s.tokens.length);
    // The rows: the prompt once, then one row per token decoded (each sample's last token is not).
    const t0 = session.evaluatedTokens;
    const limited = await sampleCompletions(session, prompt, { ...opts, maxSamples: 32, rowBudget: 13 });
    assert.equal(session.evaluatedTokens - t0, prompt.length + limited.rows);
    assert.ok(limited.rows <= 13, `${limited.rows} rows`);
    assert.equal(limited.stopReason, "budget");
  });

  it("top-p keeps the smallest most probable set reaching p; draws stay inside it", () => {
    const probs = Float64Array.from([0.1, 0.4, 0.05, 0.3, 0.15]);
    assert.deepEqual(nucleus(probs, 0.4), [1]);
    assert.deepEqual(nucleus(probs, 0.5), [1, 3]);
    assert.deepEqual(nucleus(probs, 0.85), [1, 3, 4]);
    assert.deepEqual(nucleus(probs, 1), [1, 3, 4, 0, 2]);
    for (let u = 0; u < 1; u += 0.01) {
      assert.ok([1, 3].includes(drawToken(probs, 0.5, u)));
      assert.equal(drawToken(probs, 0.4, u), 1);
    }
    // u below the nucleus' first share draws its first token; topP 1 walks the row in token order.
    assert.equal(drawToken(probs, 0.5, 0.5), 1);
    assert.equal(drawToken(probs, 0.5, 0.6), 3);
    assert.equal(drawToken(probs, 1, 0.05), 0);
    assert.equal(drawToken(probs, 1, 0.99), 4);
  });

  it("session.truncate goes back to a position: the logits after it are the same as a fresh decode's", () => {
    const prompt = model.promptTokens("function value(x) {\n");
    const extra = model.promptTokens(" return x;").slice(-3);
    session.reset();
    session.decodeSequence(prompt);
    const fresh = extra.map((t) => session.decodeSequence([t]));
    session.truncate(prompt.length + 1);
    assert.equal(session.cellsUsed, prompt.length + 1);
    assert.equal(session.nextPosition, prompt.length + 1);
    const again = extra.slice(1).map((t) => session.decodeSequence([t]));
    for (const [i, row] of again.entries()) assert.deepEqual(Array.from(row), Array.from(fresh[i + 1]), `token ${i + 1}`);
    assert.throws(() => session.truncate(session.cellsUsed + 1), /outside/);
  });

  const closes = (t: EvalTask) => (text: string) => truncateCompletion(t, text).closed;

  it("beam search of width 1 is greedy decoding", async () => {
    for (const t of tasks) {
      const greedy = await generateCompletionPaths(session, t, resolveConfig({ mode: "standard", maxSteps: 12 }), 1);
      const beam = await beamSearch(session, model.promptTokens(t.prompt), { width: 1, maxSteps: 12, rowBudget: Infinity, done: closes(t) });
      assert.equal(beam.beams.length, 1);
      assert.deepEqual(beam.beams[0].tokens, greedy!.paths[0].tokens, t.taskId);
      assert.ok(Math.abs(beam.beams[0].logprob - greedy!.paths[0].logprob) < 1e-6, `${beam.beams[0].logprob} vs ${greedy!.paths[0].logprob}`);
    }
  });

  it("beam search returns its beams ordered by log-probability, each the sum of its tokens' log-probabilities", async () => {
    const t = tasks[0];
    const prompt = model.promptTokens(t.prompt);
    const r = await beamSearch(session, prompt, { width: 4, maxSteps: 8, rowBudget: Infinity, done: closes(t) });
    assert.equal(r.beams.length, 4);
    assert.ok(r.beams.every((b, i, l) => i === 0 || l[i - 1].logprob >= b.logprob), JSON.stringify(r.beams.map((b) => b.logprob)));
    assert.equal(new Set(r.beams.map((b) => JSON.stringify(b.tokens))).size, 4, "distinct beams");
    assert.ok(r.rows >= r.beamRows, "re-decoded prefixes count");
    // Each beam's log-probability, recomputed from a fresh decode of its whole text.
    for (const b of r.beams) {
      assert.ok(Math.abs(b.logprob - b.stepLogprobs.reduce((x, y) => x + y, 0)) < 1e-9);
      session.reset();
      let logits = session.decodeSequence(prompt);
      let sum = 0;
      for (const tok of b.tokens) {
        const max = Math.max(...logits);
        const z = Math.log(Array.from(logits).reduce((a, v) => a + Math.exp(v - max), 0));
        sum += logits[tok] - max - z;
        logits = session.decodeSequence([tok]);
      }
      assert.ok(Math.abs(sum - b.logprob) < 1e-3, `${sum} vs ${b.logprob}`);
    }
    // The same search again: the same beams.
    assert.deepEqual((await beamSearch(session, prompt, { width: 4, maxSteps: 8, rowBudget: Infinity, done: closes(t) })).beams, r.beams);
  });

  it("a session group (--batch-prompts) gives every unit the completions, outcomes and costs one session gives, baselines included", async () => {
    // The same units, their sets decoded in shared llama_decodes: another batch layout, so logprobs
    // may move by layout noise (test/unit/session-group.test.ts bounds it); everything decided from
    // them (sets, completions, pass/fail, rows and passes spent) must be the same.
    const settings = { arms: ["standard", "isolated", "visible"] as TempoMode[], maxSteps: 12, threshold: 0.02, maxWidth: 4, pathCap: 8, ks: [1, 4], baselines: { arms: ["sample", "beam"] as ("sample" | "beam")[], seed: 3 } };
    const solo = await runEval({ session, tasks, settings });
    const group = new SessionGroup(model, 4, { lanes: 4 });
    const progress: number[] = [];
    const batched = await runEval({ session: group, tasks, settings, onProgress: (p) => progress.push(p.done) }).finally(() => group.dispose());
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const decided = (r: EvalRun) => r.items.map((i) => ({
      unit: `${i.taskId}/${i.arm}`, steps: i.steps, setTokens: i.setTokens, forwardPasses: i.forwardPasses, evaluatedTokens: i.evaluatedTokens, budget: i.budget,
      completions: i.completions.map((c) => [c.text, c.status]), paths: i.paths.list.map((p) => p.completion), passAtK: i.passAtK,
    }));
    assert.deepEqual(decided(batched), decided(solo));
  });

  it("baselines at matched compute: each gets the matched arm's rows per task, spends no more, and reruns the same", async () => {
    const settings = { arms: ["standard", "isolated"] as TempoMode[], maxSteps: 12, threshold: 0.02, maxWidth: 4, pathCap: 8, ks: [1, 4], baselines: { arms: ["sample", "beam"] as ("sample" | "beam")[], seed: 3 } };
    const progress: number[] = [];
    const run = await runEval({ session, tasks, settings, onProgress: (p) => progress.push(p.done) });
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(run.items.map((i) => `${i.taskId}/${i.arm}`), ["a/standard", "a/isolated", "a/sample", "a/beam", "b/standard", "b/isolated", "b/sample", "b/beam"]);
    assert.deepEqual(run.settings.baselines, { arms: ["sample", "beam"], match: "isolated", temperature: 0.8, topP: 0.95, seed: 3, beamWidth: 4 });
    for (const t of tasks) {
      const of = (arm: string) => run.items.find((i) => i.taskId === t.taskId && i.arm === arm)!;
      for (const arm of ["sample", "beam"]) {
        const item = of(arm);
        assert.equal(item.budget?.matchedTo, "isolated");
        assert.equal(item.budget?.rows, of("isolated").evaluatedTokens, "the budget is the matched arm's rows on this task");
        assert.ok(item.evaluatedTokens <= item.budget!.rows, `${arm}: ${item.evaluatedTokens} rows of ${item.budget!.rows}`);
        assert.ok(item.paths.n >= 1 && item.paths.n <= 8);
        assert.ok(item.paths.list.every((p, i, l) => i === 0 || l[i - 1].logprob >= p.logprob), "best first");
        assert.equal(item.primary.completion, item.paths.list[0].completion);
      }
      assert.equal(of("sample").budget?.samples, of("sample").paths.n);
      assert.equal(of("beam").budget?.beamWidth, 4);
    }
    const s = summarizeEval(run);
    assert.deepEqual(s.arms.map((a) => a.arm), ["standard", "isolated", "sample", "beam"]);
    assert.equal(s.baseline, "standard");
    assert.ok(s.arms[2].cost.budgetRowsPerTask! >= s.arms[2].cost.evaluatedTokensPerTask);
    assert.equal(s.arms[2].cost.budgetRowsPerTask, s.arms[1].cost.evaluatedTokensPerTask);
    assert.equal(s.comparisons.length, 12, "every arm against standard");
    const md = renderEvalMarkdown(run, s, { model: { fileName: "m", path: "m", sha256: "0", description: "" }, engine: { nodeLlamaCpp: "", llamaCpp: "", backend: "" }, context: { contextSize: 1, lanes: 1, batchSize: 1, flashAttention: "off", threads: 1, automaticThreads: false, promptsPerDecode: 1 }, tasks: { source: "s", count: 2, limit: null }, startedAt: "" });
    assert.match(md, /## Matched compute: baselines at the rows of isolated/);
    assert.match(md, /\| arm \| budget rows \| rows decoded \| samples \| pass@1 \| pass@4 \| pass@1 \(primary\) \| forward passes \|/);
    assert.match(md, /\| sample \| \d/);
    // Seeded: the same settings draw the same samples and beams; another seed draws other samples.
    const again = await runEval({ session, tasks, settings });
    const texts = (r: EvalRun, arm: string) => r.items.filter((i) => i.arm === arm).map((i) => i.completions.map((c) => c.text));
    assert.deepEqual(texts(again, "sample"), texts(run, "sample"));
    assert.deepEqual(texts(again, "beam"), texts(run, "beam"));
    const other = await runEval({ session, tasks, settings: { ...settings, baselines: { ...settings.baselines, seed: 4 } } });
    assert.notDeepEqual(texts(other, "sample"), texts(run, "sample"));
    // Resumed with the modes finished before (--resume): the budget comes from their stored rows.
    const resumed = await runEval({ session, tasks, settings, previous: run.items.filter((i) => !i.budget) });
    assert.deepEqual(resumed.items.filter((i) => i.budget).map((i) => i.budget), run.items.filter((i) => i.budget).map((i) => i.budget));
    assert.deepEqual(texts(resumed, "sample"), texts(run, "sample"));
  });

  it("refuses bad baseline settings with one message", async () => {
    const base = { arms: ["standard", "isolated"] as TempoMode[] };
    for (const [baselines, pattern] of [
      [{ arms: [] }, /baselines must be/],
      [{ arms: ["greedy"] }, /baselines must be/],
      [{ arms: ["sample", "sample"] }, /named twice/],
      [{ arms: ["sample"], match: "visible" }, /matched to a TEMPO arm of this run \(isolated\), not visible/],
      [{ arms: ["sample"], temperature: 0 }, /temperature must be in \(0, 100\]/],
      [{ arms: ["sample"], topP: 0 }, /top-p must be in \(0, 1\]/],
      [{ arms: ["sample"], topP: 1.01 }, /top-p must be in \(0, 1\]/],
      [{ arms: ["sample"], seed: 0 }, /seed must be an integer in \[1, /],
      [{ arms: ["beam"], beamWidth: 0 }, /beam width must be an integer in \[1, 256\]/],
    ] as const) {
      await assert.rejects(runEval({ session, tasks, settings: { ...base, baselines: baselines as never } }), pattern);
    }
    await assert.rejects(runEval({ session, tasks, settings: { arms: ["standard"], baselines: { arms: ["beam"] } } }), /add isolated, visible or causal/);
  });
});
