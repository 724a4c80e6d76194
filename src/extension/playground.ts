import * as vscode from "vscode";
import { parseWebviewMessage, type ExtensionMessage } from "../../webview/protocol.js";
import { makeNonce, playgroundHtml } from "./webviewHtml.js";

export const PLAYGROUND_VIEW_TYPE = "tempo.playground";

export interface PlaygroundReadyInfo {
  elements: string[];
  theme: string;
}

export interface CspViolation {
  directive: string;
  blockedUri: string;
}

/** The single playground panel (one per window, like VS Code's own singleton editors). */
export class PlaygroundPanel implements vscode.Disposable {
  private static current: PlaygroundPanel | undefined;

  readonly cspViolations: CspViolation[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readyWaiters: Array<(info: PlaygroundReadyInfo) => void> = [];
  private readyInfo: PlaygroundReadyInfo | undefined;

  static get instance(): PlaygroundPanel | undefined {
    return PlaygroundPanel.current;
  }

  static show(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): PlaygroundPanel {
    if (PlaygroundPanel.current) {
      PlaygroundPanel.current.panel.reveal();
      return PlaygroundPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      PLAYGROUND_VIEW_TYPE,
      "TEMPO Playground",
      vscode.ViewColumn.Active,
      PlaygroundPanel.webviewOptions(context.extensionUri),
    );
    return new PlaygroundPanel(panel, context, log);
  }

  /** Re-attach to a panel VS Code restored after a window reload. */
  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, log: vscode.LogOutputChannel): PlaygroundPanel {
    PlaygroundPanel.current?.dispose();
    panel.webview.options = PlaygroundPanel.webviewOptions(context.extensionUri);
    return new PlaygroundPanel(panel, context, log);
  }

  private static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      // Only the built webview bundle and the stylesheets may be loaded.
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, "dist", "webview"), vscode.Uri.joinPath(extensionUri, "media")],
    };
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    PlaygroundPanel.current = this;
    const webview = panel.webview;
    webview.html = playgroundHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, "dist", "webview", "playground.js")).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, "media", "playground.css")).toString(),
      nonce: makeNonce(),
      title: "TEMPO Playground",
    });
    this.disposables.push(
      webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** Resolves once the page has run its script and defined its elements. */
  whenReady(): Promise<PlaygroundReadyInfo> {
    if (this.readyInfo) return Promise.resolve(this.readyInfo);
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private onMessage(raw: unknown): void {
    const msg = parseWebviewMessage(raw);
    if (!msg) {
      this.log.warn("playground: dropped an invalid message from the webview");
      return;
    }
    switch (msg.type) {
      case "ready": {
        this.readyInfo = { elements: msg.elements, theme: msg.theme };
        this.log.info(`playground ready (theme ${msg.theme}, elements ${msg.elements.join(", ")})`);
        const init: ExtensionMessage = { type: "init", extensionVersion: String(this.context.extension.packageJSON.version) };
        void this.panel.webview.postMessage(init);
        const waiters = this.readyWaiters;
        this.readyWaiters = [];
        for (const w of waiters) w(this.readyInfo);
        break;
      }
      case "cspViolation":
        this.cspViolations.push({ directive: msg.directive, blockedUri: msg.blockedUri });
        this.log.error(`playground: CSP blocked ${msg.blockedUri} (${msg.directive})`);
        break;
    }
  }

  dispose(): void {
    if (PlaygroundPanel.current === this) PlaygroundPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
