// The playground's prompt formats, run history and token tree, driven through the extension on
// the shipped demo model (which has no chat template: chat uses the generic General format).
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { api } from "./support.js";
import type { RunSummary } from "../../src/protocol/engine.js";
import { visibleToken } from "../../webview/render.js";

const USER = "Write a function that adds two numbers.";

describe("TEMPO playground: chat format, history, token tree", function () {
  this.timeout(120_000);

  before(async () => {
    // One decoding thread (see host.test.ts); short runs.
    await vscode.workspace.getConfiguration("tempo").update("threads", 1, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration("tempo.generation").update("threshold", 0.1, vscode.ConfigurationTarget.Global);
  });
  after(async () => {
    await vscode.workspace.getConfiguration("tempo.generation").update("threshold", undefined, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration("tempo").update("threads", undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });

  it("a chat run feeds the prompt as a user turn in the chat format, and the page shows what the model saw", async () => {
    const tempo = await api();
    const run = (await vscode.commands.executeCommand("tempo.generate", USER, { maxSteps: 8 }, { promptFormat: "chat" })) as RunSummary | undefined;
    assert.ok(run, "the chat generation failed (see the TEMPO log)");
    const state = tempo.currentRun();
    assert.equal(state?.format, "chat");
    const rendered = state?.rendered;
    assert.ok(rendered, "the engine did not report the rendered prompt");
    assert.equal(rendered.format, "chat");
    assert.deepEqual(rendered.chat, { wrapper: "General", fromTemplate: false }, "the demo model has no template: the generic format, said so");
    assert.match(rendered.text, /### Human\n ?Write a function that adds two numbers\.\n\n### Assistant\n$/);
    assert.equal(run.promptTokens, rendered.tokens, "the run was fed the rendered prompt");
    // The chat format's end-of-turn marker joined the stop strings.
    assert.ok((run.config.stopStrings as string[]).some((s) => s.includes("### Human")), JSON.stringify(run.config.stopStrings));
    const page = await tempo.inspectPlayground();
    assert.ok(page.text.startsWith(rendered.text), `the page shows the prompt as fed: ${JSON.stringify(page.text.slice(0, 120))}`);
    assert.equal(page.hasInjectedElement, false);
  });

  it("refuses bad prompt options with a message instead of running", async () => {
    const tempo = await api();
    const before = tempo.currentRun()?.runId;
    const run = await vscode.commands.executeCommand("tempo.generate", USER, {}, { promptFormat: "markdown" });
    assert.equal(run, undefined);
    assert.equal(tempo.currentRun()?.runId, before, "no run started");
  });

  it("keeps a history of the panel's runs, newest first, and shows a run as a token tree", async () => {
    const tempo = await api();
    const run = (await vscode.commands.executeCommand("tempo.generate", "def add(a, b):\n", { maxSteps: 12 })) as RunSummary | undefined;
    assert.ok(run);
    const page = await tempo.inspectPlayground();
    assert.ok(page.history.length >= 2, JSON.stringify(page.history));
    assert.match(page.history[0], /· 12 steps|· \d+ steps \((eog|stop-string)\)/);
    assert.doesNotMatch(page.history[0], /chat/);
    assert.match(page.history[1], /chat · .* · Write a function/);
    const steps = tempo.currentRun()?.steps ?? [];
    const sets = steps.filter((s) => s.candidates.length > 1);
    const tree = await tempo.inspectPlayground("tree");
    // One item per text stretch or set, plus one per set member.
    assert.ok(tree.treeItems >= sets.length * 3, `${tree.treeItems} tree items for ${sets.length} sets`);
    for (const s of sets) for (const c of s.candidates) assert.ok(tree.text.includes(visibleToken(c)), `member ${JSON.stringify(visibleToken(c))} missing from the tree`);
    assert.equal(tree.hasInjectedElement, false);
    assert.equal(tree.treeBranches, 0, "a run started by a command is no branch");
    assert.deepEqual(tree.breadcrumbs, [], "nor does it show breadcrumbs");
    const text = await tempo.inspectPlayground("text");
    // The default reading is the chips', and its legend describes them.
    assert.equal(text.reading, "sets");
    assert.match(text.legend, /dashed box/);
    assert.doesNotMatch(text.legend, /dotted underline/);
  });

  it("retroactive pruning strikes through the members it removed, with their scores in the run's steps", async () => {
    const tempo = await api();
    // A mass far above what later tokens pay most members, so that some are pruned.
    const run = (await vscode.commands.executeCommand("tempo.generate", "function add(a, b) {", { mode: "isolated", threshold: 0.05, maxSteps: 16, pruneMass: 0.5, pruneLookahead: 1 })) as RunSummary | undefined;
    assert.ok(run, "the pruned generation failed (see the TEMPO log)");
    assert.equal(run.config.pruneMass, 0.5);
    const steps = tempo.currentRun()?.steps ?? [];
    const decided = steps.filter((s) => s.candidates.length > 1 && s.candidates.every((c) => c.pruneScore !== undefined));
    assert.ok(decided.length > 0, "sets were decided");
    const pruned = steps.flatMap((s) => s.candidates).filter((c) => c.pruned).length;
    assert.ok(pruned > 0, "some members were pruned");
    assert.ok(steps.every((s) => s.candidates[0].pruned !== true), "the primary member is never pruned");
    const page = await tempo.inspectPlayground("text");
    assert.equal(page.prunedChips, pruned, "each pruned member is struck through on the page");
  });

  it("the attention overlay sends what each member attended to, in the set's own pass: isolated siblings exactly 0", async () => {
    const tempo = await api();
    const run = (await vscode.commands.executeCommand("tempo.generate", "function add(a, b) {", { mode: "isolated", threshold: 0.05, maxSteps: 12 }, { attention: true })) as RunSummary | undefined;
    assert.ok(run, "the generation with the overlay failed (see the TEMPO log)");
    const steps = tempo.currentRun()?.steps ?? [];
    assert.ok(steps.length > 0 && steps.every((s) => s.attention?.members.length === s.candidates.length), "every step carries one entry per member");
    const sets = steps.filter((s) => s.candidates.length > 1);
    assert.ok(sets.length > 0, "the run has sets");
    for (const s of sets) {
      for (const m of s.attention!.members) {
        assert.equal(m.targets.siblings, 0, `step ${s.index}: isolated members see no sibling`);
        const total = Object.values(m.targets).reduce((a, b) => a + b, 0);
        // A float32 softmax row over at most 4096 cells sums to 1 within 4096 x 2^-24 = 2.4e-4.
        assert.ok(Math.abs(total - 1) < 1e-3, `step ${s.index}: the masses are a softmax's (${total})`);
        assert.ok(m.top.length > 0 && m.top.every((k) => k.step <= s.index), "keys are earlier tokens or the member itself");
      }
    }
  });
});
