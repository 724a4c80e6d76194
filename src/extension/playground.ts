import * as vscode from "vscode";
import type { RunOptions } from "../protocol/engine.js";
import { parseWebviewMessage, renderedInfoSchema, type ExtensionMessage, type GenerationSettings, type PlaygroundView, type RenderedInfo } from "../../webview/protocol.js";
import { makeNonce, playgroundHtml } from "./webviewHtml.js";
import { watchPageStart } from "./pageStart.js";

/** What the page asks the extension to do (wired in extension.ts). */
export interface PlaygroundHost {
  run(prompt: string, settings: GenerationSettings, options: RunOptions): void;
  stop(): void;
  exportCapture(): void;
  /** The first message after "ready": versions, control defaults, model line. */
  init(): ExtensionMessage;
  /** Called after init, so a re-created page shows the current run again. */
  restore(): void;
}

export type { RenderedInfo } from "../../webview/protocol.js";

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
  private inspections = new Map<number, (info: RenderedInfo) => void>();
  private nextInspection = 1;

  static get instance(): PlaygroundPanel | undefined {
    return PlaygroundPanel.current;
  }

  static show(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, host: PlaygroundHost): PlaygroundPanel {
    if (PlaygroundPanel.current) {
      PlaygroundPanel.current.panel.reveal(undefined, true);
      return PlaygroundPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      PLAYGROUND_VIEW_TYPE,
      "TEMPO Playground",
      vscode.ViewColumn.Active,
      PlaygroundPanel.webviewOptions(context.extensionUri),
    );
    return new PlaygroundPanel(panel, context, log, host);
  }

  /** Re-attach to a panel VS Code restored after a window reload. */
  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, log: vscode.LogOutputChannel, host: PlaygroundHost): PlaygroundPanel {
    PlaygroundPanel.current?.dispose();
    panel.webview.options = PlaygroundPanel.webviewOptions(context.extensionUri);
    return new PlaygroundPanel(panel, context, log, host);
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
    context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly host: PlaygroundHost,
  ) {
    PlaygroundPanel.current = this;
    const webview = panel.webview;
    this.load(context.extensionUri, 1);
    this.disposables.push(
      webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** Sets the page (again, when it did not start: see watchPageStart). */
  private load(extensionUri: vscode.Uri, attempt: number): void {
    const webview = this.panel.webview;
    webview.html = playgroundHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "webview", "playground.js")).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "media", "playground.css")).toString(),
      nonce: makeNonce(),
      title: "TEMPO Playground",
    });
    watchPageStart("playground", this.log, attempt, () => PlaygroundPanel.current === this && this.panel.visible && !this.readyInfo, () => this.load(extensionUri, attempt + 1));
  }

  /** Resolves once the page has run its script and defined its elements. */
  whenReady(): Promise<PlaygroundReadyInfo> {
    if (this.readyInfo) return Promise.resolve(this.readyInfo);
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Posts to the page once it is ready (earlier messages would be lost). */
  post(message: ExtensionMessage): void {
    if (this.readyInfo) void this.panel.webview.postMessage(message);
  }

  /** Test hook: asks the page what its output area holds (after switching to `view`, when given). */
  async inspect(view?: PlaygroundView): Promise<RenderedInfo> {
    await this.whenReady();
    const requestId = this.nextInspection++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the playground page did not answer (hidden?)")), 10_000);
      this.inspections.set(requestId, (info) => {
        clearTimeout(timer);
        resolve(info);
      });
      void this.panel.webview.postMessage({ type: "inspect", requestId, ...(view ? { view } : {}) } satisfies ExtensionMessage);
    });
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
        void this.panel.webview.postMessage(this.host.init());
        this.host.restore();
        const waiters = this.readyWaiters;
        this.readyWaiters = [];
        for (const w of waiters) w(this.readyInfo);
        break;
      }
      case "cspViolation":
        this.cspViolations.push({ directive: msg.directive, blockedUri: msg.blockedUri });
        this.log.error(`playground: CSP blocked ${msg.blockedUri} (${msg.directive})`);
        break;
      case "run":
        this.host.run(msg.prompt, msg.settings, { promptFormat: msg.format, attention: msg.attention, ...(msg.responsePrefix !== undefined ? { responsePrefix: msg.responsePrefix } : {}) });
        break;
      case "log":
        this.log[msg.level](msg.message);
        break;
      case "stop":
        this.host.stop();
        break;
      case "exportCapture":
        this.host.exportCapture();
        break;
      case "rendered": {
        const resolve = this.inspections.get(msg.requestId);
        this.inspections.delete(msg.requestId);
        resolve?.(renderedInfoSchema.parse(msg)); // the info fields only
        break;
      }
    }
  }

  dispose(): void {
    if (PlaygroundPanel.current === this) PlaygroundPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
