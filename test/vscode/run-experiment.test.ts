// Runs after host.test.ts (files run in name order): that suite checks that nothing started the engine before it.
// "TEMPO: Run Completion Experiment" inside a real VS Code: the run happens in the engine host on
// the demo model, its results reach the webview (tables, overview, drill-down with the literal
// completion and test output), and Export writes the files into the workspace; a sample
// baseline runs at the TEMPO arm's rows and shows beside it.
import * as assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { EXTENSION_ID, api } from "./support.js";
import type { ExperimentView } from "../../src/protocol/experiment.js";


describe("TEMPO completion experiment", function () {
  this.timeout(300_000);

  before(async () => {
    // One decoding thread: VS Code, the browser and the sandboxed tests share two cores.
    await vscode.workspace.getConfiguration("tempo").update("threads", 1, vscode.ConfigurationTarget.Global);
  });
  after(async () => {
    await vscode.workspace.getConfiguration("tempo").update("threads", undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });

  it("declares limited support for untrusted workspaces and hides the command there", () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON;
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, "limited");
    assert.match(pkg.capabilities.untrustedWorkspaces.description, /Completion Experiment/);
    const palette: Array<{ command: string; when?: string }> = pkg.contributes.menus.commandPalette;
    assert.equal(palette.find((m) => m.command === "tempo.runCompletionExperiment")?.when, "isWorkspaceTrusted");
  });

  it("consent is stored once and can be revoked; the test hook exists only in test mode", async () => {
    const tempo = await api();
    assert.ok(tempo.testing, "the extension should run in ExtensionMode.Test here");
    await tempo.testing.setExperimentConsent(true);
    assert.equal(tempo.testing.experimentConsent(), true);
    await vscode.commands.executeCommand("tempo.revokeExperimentConsent");
    assert.equal(tempo.testing.experimentConsent(), false);
  });

  it("runs two built-in tasks (standard arm) in the engine host and the page shows the results", async () => {
    const tempo = await api();
    await tempo.testing?.setExperimentConsent(true);
    const view = (await vscode.commands.executeCommand("tempo.runCompletionExperiment", { arms: ["standard"], limit: 2 })) as ExperimentView | undefined;
    assert.ok(view, "the experiment failed (see the TEMPO log)");
    const { pid } = tempo.engineProcess();
    assert.ok(pid && pid !== process.pid, "the experiment ran outside the extension host");
    assert.equal(view.aborted, false);
    assert.deepEqual(view.arms, ["standard"]);
    assert.equal(view.model, "tempo-demo-code.gguf");
    assert.equal(view.tasks.length, 2);
    assert.equal(view.analysed + view.skipped.count, 2);
    for (const t of view.tasks) {
      assert.equal(t.arms.length, 1);
      assert.ok(["pass", "fail", "timeout", "memory"].includes(t.arms[0].status), `${t.taskId}: ${t.arms[0].status}`);
      assert.ok(t.arms[0].forwardPasses > 0);
    }
    assert.deepEqual(view.tables.map((t) => t.title), ["Quality per arm", "Paired comparisons against standard", "Cost per task", "Outcomes"]);
    for (const f of ["results.jsonl", "summary.json", "report.md", "report.html"]) assert.ok(existsSync(join(view.dir, f)), `${f} was not staged`);
    assert.equal(readFileSync(join(view.dir, "results.jsonl"), "utf8").trim().split("\n").length, 2);
    // The folder stores the experiment it ran, resolved (tempo run reruns it).
    const stored = JSON.parse(readFileSync(join(view.dir, "experiment.json"), "utf8")) as { command: string; eval: { arms: string[]; limit: number } };
    assert.deepEqual([stored.command, stored.eval.arms, stored.eval.limit], ["eval", ["standard"], 2]);

    const task = view.tasks[1];
    const shown = await tempo.inspectExperiment(task.taskId);
    assert.deepEqual([...shown.elements].sort(), ["vscode-button", "vscode-collapsible", "vscode-label", "vscode-option", "vscode-single-select"]);
    assert.deepEqual(shown.tableRows, [1, 0, 1, 1], "one arm: one row per arm table, no paired comparison");
    assert.equal(shown.taskRows, 2);
    assert.equal(shown.drillDown?.taskId, task.taskId);
    assert.equal(shown.drillDown?.arms.length, 1);
    assert.equal(shown.drillDown?.arms[0].completion, task.arms[0].completion || "(empty)");
    assert.equal(shown.drillDown?.arms[0].output, task.arms[0].output || "(empty)");
    assert.equal(shown.hasInjectedElement, false);
    assert.deepEqual(shown.cspViolations, []);
  });

  it("Export writes the results into .tempo/experiments and never overwrites", async () => {
    const tempo = await api();
    const first = await tempo.exportExperiment();
    assert.ok(first, "nothing exported");
    const ws = vscode.workspace.workspaceFolders?.[0].uri.fsPath;
    assert.ok(ws && first.fsPath.startsWith(join(ws, ".tempo", "experiments")), first.fsPath);
    assert.deepEqual(readdirSync(first.fsPath).sort(), ["experiment.json", "report.html", "report.md", "results.jsonl", "summary.json"]);
    const summary = JSON.parse(readFileSync(join(first.fsPath, "summary.json"), "utf8")) as { summary: { arms: Array<{ arm: string }> } };
    assert.deepEqual(summary.summary.arms.map((a) => a.arm), ["standard"]);
    const second = await tempo.exportExperiment();
    assert.ok(second && second.fsPath !== first.fsPath, "the second export reused the first folder");
    assert.ok(!readdirSync(join(ws, ".tempo", "experiments")).some((n) => n.includes(".partial-")), "a temporary folder was left behind");
  });

  it("runs a sample baseline at the rows of the TEMPO arm: its results beside that arm's, and the folder's experiment.json holds it", async () => {
    const tempo = await api();
    await tempo.testing?.setExperimentConsent(true);
    const view = (await vscode.commands.executeCommand("tempo.runCompletionExperiment", { arms: ["isolated"], limit: 2, baselines: { arms: ["sample"], seed: 3 } })) as ExperimentView | undefined;
    assert.ok(view, "the experiment failed (see the TEMPO log)");
    assert.equal(view.aborted, false);
    assert.deepEqual(view.arms, ["isolated", "sample"]);
    for (const t of view.tasks) {
      const [isolated, sample] = t.arms;
      assert.deepEqual([isolated.arm, sample.arm], ["isolated", "sample"]);
      if (isolated.skipped) continue;
      assert.equal(isolated.budget, undefined);
      assert.deepEqual([sample.budget?.matchedTo, sample.budget?.rows], ["isolated", isolated.rowsDecoded], `${t.taskId}: the budget is the rows isolated decoded`);
      assert.ok(sample.rowsDecoded > 0 && sample.rowsDecoded <= isolated.rowsDecoded, `${t.taskId}: ${sample.rowsDecoded} rows spent of ${isolated.rowsDecoded}`);
      assert.ok((sample.budget?.samples ?? 0) >= 1 && sample.paths.n === sample.budget?.samples, `${t.taskId}: its samples are its pass@k paths`);
    }
    const matched = view.tables.find((t) => t.title === "Matched compute: baselines at the rows of isolated");
    assert.ok(matched, view.tables.map((t) => t.title).join(", "));
    assert.deepEqual(matched.rows.map((r) => r[0]), ["isolated", "sample"]);
    assert.deepEqual(view.tables.find((t) => t.title === "Quality per arm")?.rows.map((r) => r[0]), ["isolated", "sample"]);
    const stored = JSON.parse(readFileSync(join(view.dir, "experiment.json"), "utf8")) as { eval: { arms: string[]; baselines: unknown } };
    assert.deepEqual(stored.eval.arms, ["isolated"]);
    assert.deepEqual(stored.eval.baselines, { arms: ["sample"], match: "isolated", temperature: 0.8, topP: 0.95, seed: 3, beamWidth: 4 }, "resolved as tempo eval resolves it: tempo run reruns it");
    const summary = JSON.parse(readFileSync(join(view.dir, "summary.json"), "utf8")) as { summary: { arms: Array<{ arm: string }> } };
    assert.deepEqual(summary.summary.arms.map((a) => a.arm), ["isolated", "sample"]);

    const task = view.tasks.find((t) => !t.arms[0].skipped) ?? view.tasks[0];
    const shown = await tempo.inspectExperiment(task.taskId);
    assert.equal(shown.tableRows.length, 5, "quality, paired, cost, matched compute, outcomes");
    assert.deepEqual(shown.drillDown?.arms.map((a) => a.arm), ["isolated", "sample"]);
    if (!task.arms[0].skipped) {
      assert.match(shown.drillDown!.arms[0].facts, / \d+ rows decoded · /);
      assert.match(shown.drillDown!.arms[1].facts, new RegExp(`samples \\d+/\\d+ passed .* ${task.arms[1].rowsDecoded} of ${task.arms[1].budget?.rows} rows \\(what isolated decoded\\)`));
    }
    assert.equal(shown.hasInjectedElement, false);
  });

  it("a malformed task file or baseline setting is refused without harming the engine", async () => {
    const tempo = await api();
    const ws = vscode.workspace.workspaceFolders?.[0].uri.fsPath ?? "";
    const bad = join(ws, "bad-tasks.jsonl");
    writeFileSync(bad, '{"task_id": "x"}\n');
    const starts = tempo.engineProcess().starts;
    const view = await vscode.commands.executeCommand("tempo.runCompletionExperiment", { tasks: bad, arms: ["standard"] });
    assert.equal(view, undefined);
    // A baseline setting out of the CLI's range, and one with no TEMPO arm to match: refused by the engine's own checks.
    for (const baselines of [{ arms: ["sample"], topP: 2 }, { arms: ["beam"] }]) {
      const refused = await vscode.commands.executeCommand("tempo.runCompletionExperiment", { arms: baselines.arms[0] === "beam" ? ["standard"] : ["isolated"], limit: 1, baselines });
      assert.equal(refused, undefined, JSON.stringify(baselines));
    }
    assert.equal(tempo.engineProcess().starts, starts, "the engine restarted: it crashed on bad input");
    assert.ok(tempo.engineProcess().pid);
  });
});
