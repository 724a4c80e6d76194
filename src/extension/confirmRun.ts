// Before a comparison or a completion experiment starts from the UI: the settings it will use,
// shown in one modal, and the choice to save them as an experiment file that `tempo run`
// reruns (docs/experiments.md) instead of running here.
import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import * as vscode from "vscode";
import { parseExperiment, EXPERIMENT_FILE_NAME, type ExperimentFile } from "../protocol/experiment-file.js";
import { experimentText } from "../protocol/experiment-text.js";

/**
 * Shows `settings` (one line each) for `title` and resolves true to run. "Save Experiment
 * File…" writes `experiment` (checked against the schema first) where the user says, as JSON
 * or (a .yaml / .yml name) YAML, and does not run: the file is for `tempo run`.
 */
export async function confirmSettings(title: string, settings: readonly string[], experiment: ExperimentFile): Promise<boolean> {
  const checked = parseExperiment(experiment);
  if (!checked.ok) throw new Error(`the ${title} settings do not make a valid experiment file: ${checked.message}`);
  const run = "Run", save = "Save Experiment File…";
  const choice = await vscode.window.showInformationMessage(`${title}: these settings`, { modal: true, detail: settings.join("\n") }, run, save);
  if (choice !== save) return choice === run;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    title: `Save the ${title} as an experiment file`,
    filters: { "Experiment files (JSON)": ["json"], "Experiment files (YAML)": ["yaml", "yml"] },
    ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, EXPERIMENT_FILE_NAME) } : {}),
  });
  if (!target) return false;
  // JSON, or YAML when the name ends in .yaml / .yml: tempo run reads either.
  writeFileSync(target.fsPath, experimentText(experiment, target.fsPath));
  void vscode.window.showInformationMessage(`TEMPO: saved ${basename(target.fsPath)}; run it with: tempo run ${target.fsPath} --out <folder>`);
  return false;
}
