// The playground's pure parts: the token tree, collapse and continue, and the state kept across window reloads
// (bounded when stored, validated when read back) for the playground and the comparison view.
import * as assert from "node:assert/strict";
import type { StepEventMessage } from "../../src/protocol/engine.js";
import {
  MAX_HISTORY_RUNS,
  MAX_STORED_STEPS,
  MAX_STORED_STEPS_PER_RUN,
  DEFAULT_READING_MODE,
  boundHistory,
  collapseContinuation,
  forcedContinuation,
  historyLabel,
  readState,
  runKey,
  stateToStore,
  type RunRecord,
} from "../../webview/playground-state.js";
import { appendToTree, tokenTree, type TreeNode } from "../../webview/token-tree.js";
import { branchParent, branchesOf, breadcrumbs, lineage, rootOf } from "../../webview/run-tree.js";
import { MAX_STORED_COMPARISON_STEPS, comparisonState, readComparisonState, type ComparisonData } from "../../webview/comparison-protocol.js";

function step(index: number, texts: string[]): StepEventMessage {
  const probs = texts.map((_, j) => 0.5 / (j + 1));
  return {
    index, position: 5 + index, mode: "isolated", policy: "mixture", threshold: 0.1,
    candidates: texts.map((text, j) => ({ token: 100 + j, text, prob: probs[j], logprob: Math.log(probs[j]), rank: j, cell: 5 + index + j })),
    top: [{ token: 7, text: "x", prob: 0.01 }],
    entropy: 1.5, setMass: probs.reduce((a, b) => a + b, 0), timings: { decodeMs: 1, selectMs: 0 },
  };
}

function run(n: number, steps: number, startedAt = 1_700_000_000_000 + n): RunRecord {
  return {
    key: runKey(startedAt, n), runId: n, startedAt, prompt: `prompt ${n}`, settings: { mode: "isolated" }, format: "raw",
    steps: Array.from({ length: steps }, (_, i) => step(i, ["a"])), stepsDropped: 0,
  };
}

describe("token tree", () => {
  const steps = [step(0, ["def"]), step(1, [" f"]), step(2, ["(", " (", "x"]), step(3, ["n"]), step(4, [")"]), step(5, [":", " :"])];

  it("merges runs of single tokens into text nodes and forks at every set, member 0 continuing", () => {
    const nodes = tokenTree(steps);
    assert.deepEqual(nodes.map((n) => n.kind), ["text", "set", "text", "set"]);
    assert.deepEqual(nodes[0], { kind: "text", firstStep: 0, lastStep: 1, text: "def f" });
    const set = nodes[1] as Extract<TreeNode, { kind: "set" }>;
    assert.equal(set.step, 2);
    assert.deepEqual(set.branches.map((b) => [b.text, b.rank, b.primary]), [["(", 0, true], [" (", 1, false], ["x", 2, false]]);
    assert.deepEqual(nodes[2], { kind: "text", firstStep: 3, lastStep: 4, text: "n)" });
  });

  it("builds the same tree when the steps stream in batches, and says where to redraw", () => {
    const nodes: TreeNode[] = [];
    assert.equal(appendToTree(nodes, steps.slice(0, 1)), 0);
    assert.equal(appendToTree(nodes, steps.slice(1, 2)), 0, "the open text node grew");
    assert.equal(appendToTree(nodes, steps.slice(2, 4)), 1, "a set and a new text node after it");
    assert.equal(appendToTree(nodes, steps.slice(4)), 2);
    assert.deepEqual(nodes, tokenTree(steps));
  });

  it("keeps model text as it is (no markup interpretation, whitespace intact)", () => {
    const nodes = tokenTree([step(0, ["<img src=x onerror=alert(1)>", "\n"])]);
    const set = nodes[0] as Extract<TreeNode, { kind: "set" }>;
    assert.deepEqual(set.branches.map((b) => b.text), ["<img src=x onerror=alert(1)>", "\n"]);
  });
});

describe("collapse and continue (a chip or a tree member)", () => {
  const steps = [step(0, ["def"]), step(1, [" f", " g"]), step(2, ["(n"]), step(3, [")", "):", " ("]), step(4, ["\n"])];
  const raw = { prompt: "# fib\n", format: "raw" as const, steps };

  it("raw: the prompt grows by the primary path up to the step and then the chosen member", () => {
    assert.deepEqual(collapseContinuation(raw, 3, 2), { format: "raw", prompt: "# fib\ndef f(n (" });
    assert.deepEqual(collapseContinuation(raw, 1, 1), { format: "raw", prompt: "# fib\ndef g" });
    assert.deepEqual(collapseContinuation(raw, 3, 0), { format: "raw", prompt: "# fib\ndef f(n)" }, "member 0 commits the primary path itself");
  });

  it("chat: the prompt stays, and the reply so far grows instead", () => {
    assert.deepEqual(collapseContinuation({ ...raw, format: "chat" }, 3, 1), { format: "chat", prompt: "# fib\n", responsePrefix: "def f(n):" });
    // A continued reply keeps what it continued.
    assert.deepEqual(collapseContinuation({ ...raw, format: "chat", responsePrefix: "Sure: " }, 1, 1), { format: "chat", prompt: "# fib\n", responsePrefix: "Sure: def g" });
  });

  it("offers nothing at a single-token step or for a step or member the run does not have", () => {
    assert.equal(collapseContinuation(raw, 2, 0), undefined, "a single token is already the path");
    assert.equal(collapseContinuation(raw, 3, 3), undefined);
    assert.equal(collapseContinuation(raw, 9, 0), undefined);
  });
});

describe("forcing a runner-up (the hover's ranked list): a counterfactual", () => {
  // Step 1's distribution: its members " f", " g" (ranks 1, 2), then runner-ups " h" (3), a special token (4), " k" (5).
  const top = [{ token: 100, text: " f", prob: 0.5 }, { token: 101, text: " g", prob: 0.25 }, { token: 7, text: " h", prob: 0.04 }, { token: 2, text: "", special: "</s>", prob: 0.03 }, { token: 9, text: " k", prob: 0.02 }];
  const steps = [step(0, ["def"]), { ...step(1, [" f", " g"]), top }, { ...step(2, ["(n"]), top: [{ token: 100, text: "(n", prob: 0.9 }, { token: 8, text: "()", prob: 0.05 }] }];
  const raw = { prompt: "# fib\n", format: "raw" as const, steps };

  it("continues like a collapse, with the runner-up in the member's place, and says its rank and probability", () => {
    assert.deepEqual(forcedContinuation(raw, 1, 9), { continuation: { format: "raw", prompt: "# fib\ndef k" }, forced: { rank: 5, token: 9, text: " k", prob: 0.02 } });
    assert.deepEqual(forcedContinuation(raw, 1, 7)?.forced.rank, 3, "ranked in the whole distribution, members included");
    // A single-token step has runner-ups too.
    assert.deepEqual(forcedContinuation(raw, 2, 8)?.continuation, { format: "raw", prompt: "# fib\ndef f()" });
    assert.deepEqual(forcedContinuation({ ...raw, format: "chat", responsePrefix: "Sure: " }, 1, 7)?.continuation, { format: "chat", prompt: "# fib\n", responsePrefix: "Sure: def h" });
  });

  it("refuses a member (that is a collapse), a special token (no text to continue from), and a token or step the run does not rank", () => {
    assert.equal(forcedContinuation(raw, 1, 101), undefined);
    assert.equal(forcedContinuation(raw, 1, 2), undefined);
    assert.equal(forcedContinuation(raw, 1, 12345), undefined);
    assert.equal(forcedContinuation(raw, 9, 7), undefined);
  });
});

describe("playground state across reloads", () => {
  it("starts empty when nothing was stored", () => {
    assert.deepEqual(readState(undefined), { state: { prompt: "", format: "raw", history: [], reading: DEFAULT_READING_MODE } });
  });

  it("reads the older {prompt, settings} state", () => {
    const { state, problem } = readState({ prompt: "hello", settings: { maxSteps: 8 } });
    assert.equal(problem, undefined);
    assert.equal(state.prompt, "hello");
    assert.deepEqual(state.settings, { maxSteps: 8 });
    assert.deepEqual(state.history, []);
  });

  it("round-trips a stored history with the run on screen", () => {
    const history = [run(1, 3), { ...run(2, 2), format: "chat" as const, responsePrefix: "x" }];
    const stored = JSON.parse(JSON.stringify(stateToStore({ prompt: "p", format: "chat", reading: "code", history, shownKey: history[0].key })));
    const { state, problem } = readState(stored);
    assert.equal(problem, undefined);
    assert.deepEqual(state.history, history);
    assert.equal(state.shownKey, history[0].key);
    assert.equal(state.format, "chat");
    assert.equal(state.reading, "code", "the reading mode is remembered");
  });

  it("round-trips a branch's parent link, and reads state from before reading modes and branches", () => {
    const branch = { ...run(2, 2), parent: { key: run(1, 3).key, step: 1, member: 2 } };
    const { state } = readState(JSON.parse(JSON.stringify(stateToStore({ prompt: "", format: "raw", reading: "sets", history: [run(1, 3), branch] }))));
    assert.deepEqual(state.history[1].parent, branch.parent);
    const forced = { ...run(3, 1), parent: { key: run(1, 3).key, step: 2, forced: { rank: 4, token: 7, text: " h", prob: 0.03 } } };
    assert.deepEqual(readState(JSON.parse(JSON.stringify({ history: [forced] }))).state.history[0].parent, forced.parent, "a forced runner-up's link too");
    assert.match(readState({ history: [{ ...forced, parent: { key: "k", step: 2, forced: { rank: 0, token: 7, text: "x", prob: 0.1 } } }] }).problem ?? "", /discarded/, "ranks count from 1");
    assert.equal(readState({ prompt: "p", history: [run(1, 1)] }).state.reading, DEFAULT_READING_MODE);
    assert.match(readState({ reading: "prose" }).problem ?? "", /discarded/, "an unknown reading mode is refused");
  });

  it("discards invalid state with a reason instead of failing", () => {
    for (const bad of ["junk", 42, { prompt: 3 }, { history: "nope" }, { format: "markdown" }]) {
      const { state, problem } = readState(bad);
      assert.deepEqual(state, { prompt: "", format: "raw", history: [], reading: DEFAULT_READING_MODE }, JSON.stringify(bad));
      assert.match(problem ?? "", /discarded/, JSON.stringify(bad));
    }
  });

  it("drops only the runs that do not parse", () => {
    const good = run(1, 2);
    const badStep = { ...run(2, 1), steps: [{ ...step(0, ["a"]), candidates: [] }] };
    const { state, problem } = readState({ prompt: "", history: [good, badStep, { key: 5 }] });
    assert.deepEqual(state.history, [good]);
    assert.match(problem ?? "", /2 stored run\(s\) discarded/);
  });

  it("keeps the last runs and bounds the stored steps, newest runs first", () => {
    const history = Array.from({ length: MAX_HISTORY_RUNS + 5 }, (_, i) => run(i, 900));
    const bounded = boundHistory(history);
    assert.equal(bounded.length, MAX_HISTORY_RUNS);
    assert.equal(bounded[0].runId, 5, "the oldest runs went first");
    const kept = bounded.map((r) => r.steps.length);
    assert.equal(kept.reduce((a, b) => a + b, 0), MAX_STORED_STEPS);
    assert.ok(kept.every((n) => n <= MAX_STORED_STEPS_PER_RUN));
    assert.equal(kept[kept.length - 1], MAX_STORED_STEPS_PER_RUN, "the newest run keeps the most");
    assert.equal(kept[0], 0, "the oldest kept runs lose their steps first");
    for (const r of bounded) assert.equal(r.steps.length + r.stepsDropped, 900, "dropped steps are counted");
    assert.equal(history[24].steps.length, 900, "the page's own copy is untouched");
    // Reading an over-long stored history back bounds it too, and says so.
    const { state, problem } = readState({ prompt: "", history });
    assert.equal(state.history.length, MAX_HISTORY_RUNS);
    assert.match(problem ?? "", /kept the last 20/);
  });

  it("labels history entries with mode, threshold, width, steps, outcome and the prompt's start", () => {
    const r = { ...run(3, 4), prompt: "def fibonacci(n):\n    return some very long body that goes on" };
    const label = historyLabel(r);
    assert.match(label, / · isolated · 4 steps \(unfinished\) · def fibonacci\(n\): return some very long body th…$/);
    assert.match(historyLabel({ ...r, format: "chat", error: "boom" }), /chat · isolated · 4 steps \(error\)/);
    // Two runs of one prompt that differ by threshold or width no longer look alike.
    assert.match(historyLabel({ ...r, settings: { mode: "isolated", threshold: 0.05, maxWidth: 4 } }), / · isolated t 0\.05 w 4 · 4 steps/);
    // The run's own settings win over the requested ones once it ended.
    const ended = { ...r, settings: { threshold: 0.2 }, summary: { config: { mode: "visible", threshold: 0.1, maxWidth: 3 }, steps: 9, stopReason: "eog" } } as unknown as RunRecord;
    assert.match(historyLabel(ended), / · visible t 0\.1 w 3 · 9 steps \(eog\)/);
    assert.doesNotMatch(historyLabel(r), /branch/);
    assert.match(historyLabel({ ...r, parent: { key: "x", step: 7, member: 1 } }), /^\S+( [AP]M)? · branch at step 7 · isolated/);
    assert.match(historyLabel({ ...r, parent: { key: "x", step: 7, forced: { rank: 4, token: 7, text: " h", prob: 0.03 } } }), /^\S+( [AP]M)? · forced #4 at step 7 · isolated/);
  });
});

describe("the runs as a tree (branches of collapse and continue)", () => {
  // root -> a (step 1, member 1) -> b (step 0, member 2); root -> c (step 3, member 1); d unrelated.
  const root = { ...run(1, 0), prompt: "def fibonacci(n):\n    return the nth number", steps: [step(0, ["def"]), step(1, [" f", " g"]), step(2, ["("]), step(3, ["n", "x"])] };
  const a = { ...run(2, 0), steps: [step(0, ["(", " (", "\n"])], parent: { key: root.key, step: 1, member: 1 } };
  const b = { ...run(3, 1), parent: { key: a.key, step: 0, member: 2 } };
  const c = { ...run(4, 1), parent: { key: root.key, step: 3, member: 1 } };
  const d = run(5, 1);
  const history: RunRecord[] = [root, a, b, c, d];

  it("follows a run back to its root, and lists each run's branches in order", () => {
    assert.deepEqual(lineage(history, b.key).map((r) => r.key), [root.key, a.key, b.key]);
    assert.deepEqual(lineage(history, d.key).map((r) => r.key), [d.key]);
    assert.deepEqual(lineage(history, "missing"), []);
    assert.equal(rootOf(history, c.key), root);
    assert.deepEqual(branchesOf(history, root.key).map((r) => r.key), [a.key, c.key]);
    assert.deepEqual(branchesOf(history, a.key).map((r) => r.key), [b.key]);
    assert.deepEqual(branchesOf(history, d.key), []);
  });

  it("treats a branch whose parent left the history as a root, and survives a cycle in stored state", () => {
    const orphan = [a, b];
    assert.deepEqual(lineage(orphan, b.key).map((r) => r.key), [a.key, b.key]);
    assert.equal(breadcrumbs(orphan, b.key)[0].label, "root: prompt 2", "the oldest run left is named by its prompt");
    const x = { ...run(6, 1), parent: { key: "1-7", step: 0, member: 1 } };
    const y = { ...run(7, 1, 1), parent: { key: x.key, step: 0, member: 1 } };
    assert.deepEqual(lineage([x, y], y.key).map((r) => r.key), [x.key, y.key]);
  });

  it("labels breadcrumbs from the root: its prompt's start, then what each branch chose", () => {
    assert.deepEqual(breadcrumbs(history, b.key), [
      { key: root.key, label: "root: def fibonacci(n): return the nt…" },
      { key: a.key, label: "step 1: ·g" },
      { key: b.key, label: "step 0: ↵" },
    ]);
    // A parent whose steps were not kept names the member by its position.
    const trimmed = [{ ...root, steps: [] }, a];
    assert.equal(breadcrumbs(trimmed, a.key)[1].label, "step 1: member 2");
  });

  it("names a forced runner-up as one, with its rank and probability, never as a member", () => {
    const forced = { ...run(8, 1), parent: { key: root.key, step: 2, forced: { rank: 4, token: 7, text: " h", prob: 0.031 } } };
    const withForced = [...history, forced];
    assert.deepEqual(breadcrumbs(withForced, forced.key).map((c) => c.label), ["root: def fibonacci(n): return the nt…", "step 2: forced runner-up #4 ·h (p 0.031)"]);
    assert.deepEqual(branchesOf(withForced, root.key).map((r) => r.key), [a.key, c.key, forced.key], "a branch of its run like any other");
  });

  it("links a started run to the branch the page asked for, and no other run", () => {
    const parent = { key: root.key, step: 1, member: 1 };
    const raw = { parent, continuation: { format: "raw" as const, prompt: "p def g" } };
    assert.deepEqual(branchParent(raw, { prompt: "p def g", format: "raw" }), parent);
    assert.equal(branchParent(raw, { prompt: "something a command ran", format: "raw" }), undefined);
    assert.equal(branchParent(raw, { prompt: "p def g", format: "chat", responsePrefix: "" }), undefined);
    assert.equal(branchParent(undefined, { prompt: "p def g", format: "raw" }), undefined);
    const chat = { parent, continuation: { format: "chat" as const, prompt: "p", responsePrefix: "def g" } };
    assert.deepEqual(branchParent(chat, { prompt: "p", format: "chat", responsePrefix: "def g" }), parent);
    assert.equal(branchParent(chat, { prompt: "p", format: "chat", responsePrefix: "def f" }), undefined);
  });
});

describe("comparison view state across reloads", () => {
  const replayRow = (i: number) => ({ step: i, set: step(i, ["a", "b"]).candidates, next: { p: { token: 7, text: "x", prob: 0.5 }, q: { token: 8, text: "y", prob: 0.4 } }, js: 0.01, nullJs: 1e-7 });
  const data: ComparisonData = {
    prompt: "p",
    replay: { rows: [replayRow(0)], nullBand: { min: 0, p99: 2e-7, steps: 1 } },
    runs: { isolated: [step(0, ["a", "b"])], visible: [step(0, ["a"])], standard: [step(0, ["a"])] },
    captureDir: "/tmp",
    reportHtml: "/tmp/report.html",
  };

  it("round-trips the shown comparison", () => {
    assert.deepEqual(readComparisonState(JSON.parse(JSON.stringify(comparisonState(data)))), { data });
    assert.deepEqual(readComparisonState(comparisonState(null)), {});
    assert.deepEqual(readComparisonState(undefined), {});
  });

  it("bounds what it stores", () => {
    const n = MAX_STORED_COMPARISON_STEPS + 10;
    const long = { ...data, replay: { ...data.replay, rows: Array.from({ length: n }, (_, i) => replayRow(i)) }, runs: { ...data.runs, isolated: Array.from({ length: n }, (_, i) => step(i, ["a"])) } };
    const stored = comparisonState(long).data;
    assert.equal(stored?.runs.isolated.length, MAX_STORED_COMPARISON_STEPS);
    assert.equal(stored?.replay.rows.length, MAX_STORED_COMPARISON_STEPS);
  });

  it("discards invalid stored data with a reason", () => {
    for (const bad of [{ data: { prompt: 1 } }, "x", { data: { prompt: "p", runs: {} } }]) {
      const r = readComparisonState(bad);
      assert.equal(r.data, undefined);
      assert.match(r.problem ?? "", /discarded/);
    }
  });
});
