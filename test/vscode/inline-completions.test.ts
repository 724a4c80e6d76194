// The live completion experiment inside a real VS Code on the demo model: the provider is off
// by default, offers a TEMPO run's distinct paths when on (called directly and through the
// editor's own trigger), accepting an item appends to the workspace log, and cancel works.
import * as assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { api, sleep } from "./support.js";
import type { InlineLogRecord } from "../../src/extension/inlineLog.js";

const ACCEPT_COMMAND = "tempo.inlineCompletions.recordAcceptance";
const SOURCE = "/** Returns the larger of two numbers. */\nexport function larger(a: number, b: number): number {\n  ";

const inline = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration("tempo.inlineCompletions");
/** Writes a setting and waits until it reads back: on code-server the write lands a moment later. */
async function setInline(key: string, value: unknown): Promise<void> {
  await inline().update(key, value, vscode.ConfigurationTarget.Global);
  // The user-level value itself (undefined when reset), not get()'s fallback to the default.
  const readBack = () => JSON.stringify(inline().inspect(key)?.globalValue) === JSON.stringify(value);
  await until(`tempo.inlineCompletions.${key} = ${JSON.stringify(value)}`, () => (readBack() ? true : undefined), 10_000);
}
const INVOKE: vscode.InlineCompletionContext = { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined };

function readLog(file: string): InlineLogRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as InlineLogRecord);
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe("TEMPO inline completions (live experiment)", function () {
  this.timeout(180_000);
  let editor: vscode.TextEditor;
  let logFile: string;

  before(async () => {
    await vscode.workspace.getConfiguration("tempo").update("threads", 1, vscode.ConfigurationTarget.Global);
    await setInline("maxSteps", 16);
    await setInline("arms", ["isolated"]);
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, "the test workspace has a folder");
    const file = join(folder.uri.fsPath, "larger.ts");
    writeFileSync(file, SOURCE);
    const doc = await vscode.workspace.openTextDocument(file);
    assert.equal(doc.languageId, "typescript");
    editor = await vscode.window.showTextDocument(doc);
    const end = doc.positionAt(SOURCE.length);
    editor.selection = new vscode.Selection(end, end);
    logFile = (await api()).inlineCompletions.logFile(doc);
    assert.equal(logFile, join(folder.uri.fsPath, ".tempo", "inline-completions.jsonl"));
  });
  after(async () => {
    for (const k of ["enabled", "maxSteps", "arms"]) await setInline(k, undefined);
    await vscode.workspace.getConfiguration("tempo").update("threads", undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });

  it("is off by default and then asks the engine for nothing", async () => {
    const tempo = await api();
    assert.equal(inline().get("enabled"), false);
    const starts = tempo.engineProcess().starts;
    const pid = tempo.engineProcess().pid;
    const result = await tempo.inlineCompletions.provideInlineCompletionItems(editor.document, editor.selection.active, INVOKE, new vscode.CancellationTokenSource().token);
    assert.equal(result, undefined);
    assert.deepEqual(tempo.engineProcess(), { starts, pid });
    assert.deepEqual(readLog(logFile), []);
  });

  it("offers the distinct paths of a TEMPO run, primary first, each with the accept command, and logs the offer", async () => {
    const tempo = await api();
    await setInline("enabled", true);
    const list = await tempo.inlineCompletions.provideInlineCompletionItems(editor.document, editor.selection.active, INVOKE, new vscode.CancellationTokenSource().token);
    assert.ok(list, "no completions (see the TEMPO log)");
    const texts = list.items.map((i) => i.insertText);
    assert.ok(texts.length >= 1 && texts.length <= 5, `${texts.length} alternatives`);
    assert.ok(texts.every((t) => typeof t === "string" && t.trim() !== ""));
    assert.equal(new Set(texts).size, texts.length, "alternatives are distinct");
    const args = list.items.map((i) => {
      assert.equal(i.command?.command, ACCEPT_COMMAND);
      return i.command.arguments?.[0] as { offer: { requestId: string; arm: string; alternatives: number; lengths: number[] }; index: number };
    });
    assert.deepEqual(args.map((a) => a.index), texts.map((_, i) => i));
    assert.equal(args[0].offer.arm, "isolated");
    assert.deepEqual(args[0].offer.lengths, texts.map((t) => (t as string).length));
    const offered = await until("the offered line", () => readLog(logFile).find((r) => r.event === "offered" && r.requestId === args[0].offer.requestId));
    assert.equal(offered.language, "typescript");
    assert.equal(offered.alternatives, texts.length);
    assert.match(offered.model.sha256, /^[0-9a-f]{64}$/);
    assert.match(offered.model.path, /tempo-demo-code\.gguf$/);
    assert.equal(offered.settings.mode, "isolated");
    assert.equal(offered.settings.maxSteps, 16);
    const run = offered as Extract<InlineLogRecord, { event: "offered" }>;
    assert.ok(run.steps >= 1 && run.steps <= 16 && run.forwardPasses >= run.steps, `${run.steps} steps, ${run.forwardPasses} passes`);
    console.log(`      ${texts.length} alternatives from ${run.steps} steps (${run.totalPaths} paths) in ${run.generateMs.toFixed(0)} ms, ${run.stopReason}`);
    const pid = tempo.engineProcess().pid;
    assert.ok(pid && pid !== process.pid, "the run happened outside the extension host");
  });

  it("the editor's own trigger reaches the provider, and accepting the suggestion appends an accepted line", async () => {
    await setInline("enabled", true);
    const before = readLog(logFile).length;
    await vscode.window.showTextDocument(editor.document);
    await vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
    const offered = await until("an offer from editor.action.inlineSuggest.trigger", () => readLog(logFile).slice(before).find((r) => r.event === "offered"));
    // The ghost text shows once VS Code has the items; committing it inserts the text and runs the item's command.
    const textBefore = editor.document.getText();
    const accepted = await until("an accepted line after editor.action.inlineSuggest.commit", () => {
      if (editor.document.getText() === textBefore) void vscode.commands.executeCommand("editor.action.inlineSuggest.commit");
      return readLog(logFile).slice(before).find((r) => r.event === "accepted");
    }, 30_000);
    assert.ok(accepted.event === "accepted");
    assert.equal(accepted.requestId, offered.requestId);
    assert.ok(accepted.index >= 0 && accepted.index < offered.alternatives);
    assert.equal(accepted.length, offered.lengths[accepted.index]);
    const inserted = editor.document.getText();
    assert.ok(inserted.length === textBefore.length + accepted.length && inserted.startsWith(SOURCE), "the accepted text went into the document");
    // Earlier lines are all still there.
    assert.ok(readLog(logFile).length >= before + 2);
    await vscode.commands.executeCommand("undo");
  });

  it("refuses an accept command with arguments it did not make, logging nothing", async () => {
    const lines = readLog(logFile).length;
    assert.equal(await vscode.commands.executeCommand(ACCEPT_COMMAND, { offer: { requestId: "x" }, index: 0 }), undefined);
    assert.equal(await vscode.commands.executeCommand(ACCEPT_COMMAND), undefined);
    assert.equal(readLog(logFile).length, lines);
  });

  it("cancelling a request stops its run: it returns nothing, long before the run would end", async () => {
    const tempo = await api();
    await setInline("enabled", true);
    await setInline("maxSteps", 120);
    await sleep(1500); // the extension's own configuration listeners may still hold the old value
    // Top level: no block to close, so only the step limit (or end of text) ends the run.
    const doc = await vscode.workspace.openTextDocument({ language: "typescript", content: "// Some numbers:\nconst xs = [" });
    const at = doc.positionAt(doc.getText().length);
    const lines = readLog(logFile).length;
    let t0 = Date.now();
    const full = await tempo.inlineCompletions.provideInlineCompletionItems(doc, at, INVOKE, new vscode.CancellationTokenSource().token);
    const fullMs = Date.now() - t0;
    assert.ok(full && full.items.length >= 1);
    const run = (await until("the uncancelled run's offer", () => readLog(logFile).slice(lines).find((r) => r.event === "offered"))) as Extract<InlineLogRecord, { event: "offered" }>;
    console.log(`      uncancelled: ${run.steps} steps in ${fullMs} ms (${run.stopReason})`);
    assert.ok(run.steps >= 40, `the reference run stopped after ${run.steps} steps (${run.stopReason}): too short to show a cancel`);

    const source = new vscode.CancellationTokenSource();
    t0 = Date.now();
    const pending = tempo.inlineCompletions.provideInlineCompletionItems(doc, at, INVOKE, source.token);
    await sleep(Math.min(300, fullMs / 10));
    source.cancel();
    assert.equal(await pending, undefined);
    const cancelledMs = Date.now() - t0;
    console.log(`      cancelled: returned after ${cancelledMs} ms`);
    assert.ok(cancelledMs < fullMs / 2, `cancelled after ${cancelledMs} ms; the whole run takes ${fullMs} ms`);
    // The engine is free again at once: a short request does not wait behind the cancelled run.
    await setInline("maxSteps", 16);
    const next = await tempo.inlineCompletions.provideInlineCompletionItems(editor.document, editor.selection.active, INVOKE, new vscode.CancellationTokenSource().token);
    assert.ok(next && next.items.length >= 1);
  });
});
