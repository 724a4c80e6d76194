// Extension entry (bundled to dist/extension.cjs). Activation must stay cheap: register
// commands and serializers only; anything heavy (node-llama-cpp, the engine host) loads on
// first use.
import * as vscode from "vscode";
import { PLAYGROUND_VIEW_TYPE, PlaygroundPanel, type CspViolation, type PlaygroundReadyInfo } from "./playground.js";

/** What `extension.exports` offers other extensions and the integration tests. */
export interface TempoExtensionApi {
  /** Opens (or reveals) the playground and resolves when its page has said "ready". */
  openPlayground(): Promise<PlaygroundReadyInfo>;
  /** CSP violations the open playground page reported (empty when none is open). */
  playgroundCspViolations(): readonly CspViolation[];
  /** Milliseconds activate() took. */
  readonly activationMs: number;
}

export function activate(context: vscode.ExtensionContext): TempoExtensionApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel("TEMPO", { log: true });
  context.subscriptions.push(log);

  const openPlayground = (): Promise<PlaygroundReadyInfo> => PlaygroundPanel.show(context, log).whenReady();

  context.subscriptions.push(
    vscode.commands.registerCommand("tempo.openPlayground", async () => {
      await openPlayground();
    }),
    vscode.window.registerWebviewPanelSerializer(PLAYGROUND_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel) {
        PlaygroundPanel.revive(panel, context, log);
      },
    }),
    { dispose: () => PlaygroundPanel.instance?.dispose() },
  );

  const activationMs = performance.now() - started;
  log.info(`activated in ${activationMs.toFixed(1)} ms`);
  return {
    openPlayground,
    playgroundCspViolations: () => PlaygroundPanel.instance?.cspViolations ?? [],
    activationMs,
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
