import * as vscode from "vscode";
import type { RunOptions } from "../protocol/engine.js";
import { parseWebviewMessage, renderedInfoSchema, type ExtensionMessage, type GenerationSettings, type PlaygroundView, type RenderedInfo } from "../../webview/protocol.js";
import { playgroundHtml } from "./webviewHtml.js";
import { pageOptions, WebviewPage, type CspViolation, type PageReady } from "./webviewPage.js";

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
export type { CspViolation } from "./webviewPage.js";
export type PlaygroundReadyInfo = PageReady & { theme: string };

export const PLAYGROUND_VIEW_TYPE = "tempo.playground";

/** The single playground panel (one per window, like VS Code's own singleton editors). */
export class PlaygroundPanel implements vscode.Disposable {
  private static current: PlaygroundPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private readonly page: WebviewPage<ExtensionMessage, PlaygroundReadyInfo>;

  static get instance(): PlaygroundPanel | undefined {
    return PlaygroundPanel.current;
  }

  static show(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, host: PlaygroundHost): PlaygroundPanel {
    if (PlaygroundPanel.current) {
      PlaygroundPanel.current.panel.reveal(undefined, true);
      return PlaygroundPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(PLAYGROUND_VIEW_TYPE, "TEMPO Playground", vscode.ViewColumn.Active, pageOptions(context.extensionUri));
    return new PlaygroundPanel(panel, context, log, host);
  }

  /** Re-attach to a panel VS Code restored after a window reload. */
  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, log: vscode.LogOutputChannel, host: PlaygroundHost): PlaygroundPanel {
    PlaygroundPanel.current?.dispose();
    panel.webview.options = pageOptions(context.extensionUri);
    return new PlaygroundPanel(panel, context, log, host);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly host: PlaygroundHost,
  ) {
    PlaygroundPanel.current = this;
    this.page = new WebviewPage(panel.webview, context.extensionUri, log, { name: "playground", script: "playground.js", title: "TEMPO Playground", html: playgroundHtml }, () => PlaygroundPanel.current === this && this.panel.visible);
    this.page.load();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  get cspViolations(): readonly CspViolation[] { return this.page.cspViolations; }

  /** Resolves once the page has run its script and defined its elements. */
  whenReady(): Promise<PlaygroundReadyInfo> {
    return this.page.whenReady();
  }

  /** Posts to the page once it is ready (earlier messages would be lost). */
  post(message: ExtensionMessage): void {
    this.page.post(message);
  }

  /** Test hook: asks the page what its output area holds (after switching to `view`, when given). */
  inspect(view?: PlaygroundView): Promise<RenderedInfo> {
    return this.page.inspect((requestId) => ({ type: "inspect", requestId, ...(view ? { view } : {}) }));
  }

  private onMessage(raw: unknown): void {
    const msg = parseWebviewMessage(raw);
    if (!msg) {
      this.log.warn("playground: dropped an invalid message from the webview");
      return;
    }
    switch (msg.type) {
      case "ready":
        this.log.info(`playground ready (theme ${msg.theme}, elements ${msg.elements.join(", ")})`);
        this.page.onReady({ elements: msg.elements, theme: msg.theme });
        this.page.post(this.host.init());
        this.host.restore();
        break;
      case "cspViolation":
        this.page.onCspViolation({ directive: msg.directive, blockedUri: msg.blockedUri });
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
      case "rendered":
        this.page.answer(msg.requestId, renderedInfoSchema.parse(msg)); // the info fields only
        break;
    }
  }

  dispose(): void {
    if (PlaygroundPanel.current === this) PlaygroundPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
