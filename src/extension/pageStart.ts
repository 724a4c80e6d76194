import * as vscode from "vscode";

const ATTEMPTS = 4;
const WAIT_MS = 5_000;

/**
 * A freshly (re)loaded web workbench sometimes never serves a webview's script (its resource
 * service worker is still starting, or another webview's worker is in control): the page then
 * never says "ready". After `WAIT_MS`, while `waiting()` holds, loads the page again, up to
 * `ATTEMPTS` times in all; then says what helps instead of leaving a blank panel.
 */
export function watchPageStart(name: string, log: vscode.LogOutputChannel, attempt: number, waiting: () => boolean, loadAgain: () => void): void {
  setTimeout(() => {
    if (!waiting()) return;
    if (attempt < ATTEMPTS) {
      log.warn(`${name}: the page did not start (attempt ${attempt}); loading it again`);
      loadAgain();
      return;
    }
    log.error(`${name}: the page did not start after ${attempt} attempts`);
    const reload = "Reload Window";
    void vscode.window
      .showWarningMessage(`The ${name} page did not load. In browser VS Code this can follow a window reload (webview service worker); reloading the window again usually fixes it.`, reload)
      .then((choice) => choice === reload && vscode.commands.executeCommand("workbench.action.reloadWindow"));
  }, WAIT_MS);
}
