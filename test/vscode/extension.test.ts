// Runs inside VS Code's extension host (see index.ts), against the extension under development.
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { join } from "node:path";
import * as vscode from "vscode";
import { EXTENSION_ID } from "./support.js";
import type { TempoExtensionApi } from "../../src/extension/extension.js";


function extension(): vscode.Extension<TempoExtensionApi> {
  const ext = vscode.extensions.getExtension<TempoExtensionApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  return ext;
}

function playgroundTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith("tempo.playground"));
}

describe("TEMPO extension in VS Code", () => {
  after(async () => {
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });

  it("runs in VS Code 1.100 with the extension under development", () => {
    assert.match(vscode.version, /^1\.100\./);
    const ext = extension();
    assert.equal(ext.packageJSON.main, "./dist/extension.cjs");
  });

  it("activates cheaply", async () => {
    // Nothing activates the extension at start-up (only its commands, its views and opening a
    // TS/JS file, for inline completions; this suite opens none first), so this is the first
    // activation: module load included.
    assert.equal(extension().isActive, false, "activated before anything asked for it");
    const t0 = performance.now();
    const api = await extension().activate();
    const wallMs = performance.now() - t0;
    assert.equal(extension().isActive, true);
    assert.ok(api.activationMs < 50, `activate() took ${api.activationMs.toFixed(1)} ms (budget 50 ms)`);
    // Loading the bundle too; generous because CI machines are shared, but it catches a heavy
    // import sneaking into activation (node-llama-cpp alone takes seconds).
    assert.ok(wallMs < 1000, `loading + activating took ${wallMs.toFixed(0)} ms`);
  });

  it("registers every command it contributes, and contributes every TEMPO command it registers", async () => {
    await extension().activate();
    const contributed: Array<{ command: string; category?: string }> = extension().packageJSON.contributes.commands;
    // VS Code adds focus/open/... commands for each contributed view: those are not ours.
    const viewIds: string[] = Object.values(extension().packageJSON.contributes.views as Record<string, Array<{ id: string }>>).flat().map((v) => v.id);
    const registered = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith("tempo.") && !viewIds.some((v) => c.startsWith(`${v}.`)));
    assert.deepEqual([...registered].sort(), contributed.map((c) => c.command).sort());
    for (const c of contributed) assert.equal(c.category, "TEMPO", `${c.command} needs category TEMPO`);
    assert.ok(registered.includes("tempo.openPlayground"));
  });

  it("Open Playground creates one webview panel whose page says ready under the strict CSP", async () => {
    const api = await extension().activate();
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    assert.equal(playgroundTabs().length, 0);

    await vscode.commands.executeCommand("tempo.openPlayground");
    const tabs = playgroundTabs();
    assert.equal(tabs.length, 1, "one playground tab");
    assert.equal(tabs[0].label, "TEMPO Playground");

    // The command resolves after the page's "ready": its script ran with the nonce and the
    // @vscode-elements components were defined.
    const ready = await api.openPlayground();
    assert.deepEqual([...ready.elements].sort(), [
      "vscode-button",
      "vscode-checkbox",
      "vscode-label",
      "vscode-option",
      "vscode-radio",
      "vscode-radio-group",
      "vscode-single-select",
      "vscode-tab-header",
      "vscode-tab-panel",
      "vscode-tabs",
      "vscode-textarea",
      "vscode-textfield",
      "vscode-tree",
      "vscode-tree-item",
    ]);
    assert.match(ready.theme, /^vscode-(light|dark|high-contrast)/);
    assert.deepEqual(api.playgroundCspViolations(), [], "the page triggered CSP violations");

    // Running it again reveals the same panel instead of opening a second one.
    await vscode.commands.executeCommand("tempo.openPlayground");
    assert.equal(playgroundTabs().length, 1);
  });

  it("the page follows VS Code's light, dark and high-contrast themes", async () => {
    const api = await extension().activate();
    const config = vscode.workspace.getConfiguration("workbench");
    const original = config.inspect<string>("colorTheme")?.globalValue;
    try {
      for (const [theme, bodyClass] of [
        ["Default Dark Modern", "vscode-dark"],
        ["Default High Contrast", "vscode-high-contrast"],
        ["Default Light Modern", "vscode-light"],
      ] as const) {
        await config.update("colorTheme", theme, vscode.ConfigurationTarget.Global);
        await vscode.commands.executeCommand("workbench.action.closeAllEditors");
        const ready = await api.openPlayground();
        assert.equal(ready.theme, bodyClass, `with ${theme}`);
        assert.deepEqual(api.playgroundCspViolations(), []);
      }
    } finally {
      await config.update("colorTheme", original, vscode.ConfigurationTarget.Global);
    }
  });

  it("ships the webview bundle it references", () => {
    const root = extension().extensionPath;
    for (const f of ["dist/webview/playground.js", "dist/webview/comparison.js", "dist/engine-host.js", "media/playground.css", "media/tempo.svg"]) {
      assert.ok(readFileSync(join(root, f)).length > 0, `${f} is empty`);
    }
  });
});
