// "TEMPO: Select Model…": recent models, the demo model and a file picker; also the explorer's
// context menu on *.gguf (the command then gets the file's Uri).
import { existsSync } from "node:fs";
import { basename, dirname } from "node:path";
import * as vscode from "vscode";
import { demoModelPath, modelPath } from "./config.js";
import type { EngineService } from "./engineService.js";

const RECENT_KEY = "tempo.recentModels";
const MAX_RECENT = 8;

type Item = vscode.QuickPickItem & { path?: string; browse?: boolean };

export async function selectModel(context: vscode.ExtensionContext, engine: EngineService, uri?: vscode.Uri): Promise<string | undefined> {
  let chosen = uri?.fsPath;
  if (!chosen) {
    const current = modelPath(context.extensionUri);
    const demo = demoModelPath(context.extensionUri);
    const recent = context.globalState.get<string[]>(RECENT_KEY, []).filter((p) => p !== demo && existsSync(p));
    const item = (path: string, description: string): Item => ({
      label: `${path === current ? "$(check) " : ""}${basename(path)}`,
      description,
      detail: dirname(path),
      path,
    });
    const items: Item[] = [
      { label: "$(folder-opened) Browse…", description: "a GGUF file on this machine", browse: true },
      { label: "Recent", kind: vscode.QuickPickItemKind.Separator },
      item(demo, "demo model shipped with TEMPO"),
      ...recent.map((p) => item(p, "")),
    ];
    const pick = await vscode.window.showQuickPick(items, { title: "TEMPO: Select Model", placeHolder: "Model for generation and comparison" });
    if (!pick) return undefined;
    if (pick.browse) {
      const files = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { "GGUF models": ["gguf"] }, openLabel: "Use Model" });
      chosen = files?.[0]?.fsPath;
    } else {
      chosen = pick.path;
    }
  }
  if (!chosen) return undefined;
  const demo = demoModelPath(context.extensionUri);
  // The demo model is the default: store "" so the setting keeps following the installed copy.
  await vscode.workspace.getConfiguration("tempo").update("model", chosen === demo ? "" : chosen, vscode.ConfigurationTarget.Global);
  const recent = [chosen, ...context.globalState.get<string[]>(RECENT_KEY, []).filter((p) => p !== chosen)].slice(0, MAX_RECENT);
  await context.globalState.update(RECENT_KEY, recent);
  // Load it now: a bad file is reported here, not at the first generation.
  try {
    await engine.loadModel();
  } catch (e) {
    void engine.reportError(e, `loading ${basename(chosen)}`);
  }
  return chosen;
}
