// "TEMPO: Export Capture": copies the last run's staged capture folder into
// <folder>/.tempo/captures/<name> through workspace.fs (works in remote workspaces too).
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

/** Asks where to export: the workspace folder (picked when several), or a chosen folder when none is open. */
async function chooseRoot(): Promise<vscode.Uri | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 1) return folders[0].uri;
  if (folders.length > 1) {
    const pick = await vscode.window.showWorkspaceFolderPick({ placeHolder: "Export the capture into which folder's .tempo/captures?" });
    return pick?.uri;
  }
  const choice = await vscode.window.showWarningMessage(
    "No folder is open. Choose a folder to export the capture into (it goes to .tempo/captures inside it).",
    { modal: true },
    "Choose Folder…",
  );
  if (choice !== "Choose Folder…") return undefined;
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: "Export Here" });
  return picked?.[0];
}

/** Exports `stagedDir`; returns the new folder, or undefined when the user cancelled. */
export async function exportCapture(stagedDir: string, log: vscode.LogOutputChannel): Promise<vscode.Uri | undefined> {
  const root = await chooseRoot();
  if (!root) return undefined;
  const capturesDir = vscode.Uri.joinPath(root, ".tempo", "captures");
  await vscode.workspace.fs.createDirectory(capturesDir);
  const name = basename(stagedDir);
  let target = vscode.Uri.joinPath(capturesDir, name);
  for (let i = 2; await exists(target); i++) target = vscode.Uri.joinPath(capturesDir, `${name}-${i}`);
  const partial = vscode.Uri.joinPath(capturesDir, `.${basename(target.path)}.partial-${process.pid}-${Date.now()}`);
  try {
    await vscode.workspace.fs.copy(vscode.Uri.file(stagedDir), partial, { overwrite: false });
    await vscode.workspace.fs.rename(partial, target, { overwrite: false });
  } catch (e) {
    await vscode.workspace.fs.delete(partial, { recursive: true, useTrash: false }).then(undefined, () => undefined);
    throw e;
  }
  log.info(`capture exported to ${target.fsPath}`);
  const inWorkspace = vscode.workspace.getWorkspaceFolder(target) !== undefined;
  void vscode.window
    .showInformationMessage(`TEMPO capture exported to ${vscode.workspace.asRelativePath(target)}`, inWorkspace ? "Reveal in Explorer" : "Reveal in File Manager")
    .then((choice) => {
      if (choice === "Reveal in Explorer") void vscode.commands.executeCommand("revealInExplorer", target);
      else if (choice === "Reveal in File Manager") void vscode.commands.executeCommand("revealFileInOS", target);
    });
  return target;
}
