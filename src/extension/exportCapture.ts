// Exports a staged folder (a run's capture, an experiment's results) into
// <folder>/.tempo/<kind>/<name> through workspace.fs (works in remote workspaces too).
// Never overwrites: the copy goes to a temporary sibling first and is renamed without overwrite.
import { basename } from "node:path";
import * as vscode from "vscode";

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** What is exported: the folder under .tempo it goes to, and what to call it in messages. */
export interface ExportKind {
  folder: "captures" | "experiments";
  noun: string;
}
export const CAPTURE_EXPORT: ExportKind = { folder: "captures", noun: "capture" };
export const EXPERIMENT_EXPORT: ExportKind = { folder: "experiments", noun: "experiment results" };

/** Asks where to export: the workspace folder (picked when several), or a chosen folder when none is open. */
async function chooseRoot(kind: ExportKind): Promise<vscode.Uri | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 1) return folders[0].uri;
  if (folders.length > 1) {
    const pick = await vscode.window.showWorkspaceFolderPick({ placeHolder: `Export the ${kind.noun} into which folder's .tempo/${kind.folder}?` });
    return pick?.uri;
  }
  const choice = await vscode.window.showWarningMessage(
    `No folder is open. Choose a folder to export the ${kind.noun} into (it goes to .tempo/${kind.folder} inside it).`,
    { modal: true },
    "Choose Folder…",
  );
  if (choice !== "Choose Folder…") return undefined;
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: "Export Here" });
  return picked?.[0];
}

/** Exports `stagedDir`; returns the new folder, or undefined when the user cancelled. */
export async function exportStaged(stagedDir: string, kind: ExportKind, log: vscode.LogOutputChannel): Promise<vscode.Uri | undefined> {
  const root = await chooseRoot(kind);
  if (!root) return undefined;
  const exportDir = vscode.Uri.joinPath(root, ".tempo", kind.folder);
  await vscode.workspace.fs.createDirectory(exportDir);
  const name = basename(stagedDir);
  let target = vscode.Uri.joinPath(exportDir, name);
  for (let i = 2; await exists(target); i++) target = vscode.Uri.joinPath(exportDir, `${name}-${i}`);
  const partial = vscode.Uri.joinPath(exportDir, `.${basename(target.path)}.partial-${process.pid}-${Date.now()}`);
  try {
    await vscode.workspace.fs.copy(vscode.Uri.file(stagedDir), partial, { overwrite: false });
    await vscode.workspace.fs.rename(partial, target, { overwrite: false });
  } catch (e) {
    await vscode.workspace.fs.delete(partial, { recursive: true, useTrash: false }).then(undefined, () => undefined);
    throw e;
  }
  log.info(`${kind.noun} exported to ${target.fsPath}`);
  const inWorkspace = vscode.workspace.getWorkspaceFolder(target) !== undefined;
  void vscode.window
    .showInformationMessage(`TEMPO ${kind.noun} exported to ${vscode.workspace.asRelativePath(target)}`, inWorkspace ? "Reveal in Explorer" : "Reveal in File Manager")
    .then((choice) => {
      if (choice === "Reveal in Explorer") void vscode.commands.executeCommand("revealInExplorer", target);
      else if (choice === "Reveal in File Manager") void vscode.commands.executeCommand("revealFileInOS", target);
    });
  return target;
}

export const exportCapture = (stagedDir: string, log: vscode.LogOutputChannel): Promise<vscode.Uri | undefined> => exportStaged(stagedDir, CAPTURE_EXPORT, log);
