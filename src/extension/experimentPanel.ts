// The completion experiment's results panel (one per window). The results stay here, on the
// extension side: a page re-created after being hidden says "ready" and gets them again.
import * as vscode from "vscode";
import {
  parseExperimentWebviewMessage,
  type ExperimentExtensionMessage,
  type ExperimentRendered,
  type ExperimentView,
} from "../../webview/experiment-protocol.js";
import { experimentHtml, makeNonce } from "./webviewHtml.js";

export const EXPERIMENT_VIEW_TYPE = "tempo.experiment";

export class ExperimentPanel implements vscode.Disposable {
  private static current: ExperimentPanel | undefined;

  readonly cspViolations: string[] = [];
  /** Custom elements the page reported defined in its last "ready". */
  elements: string[] = [];
  private ready = false;
  private readyWaiters: Array<() => void> = [];
  private inspections = new Map<number, (info: ExperimentRendered) => void>();
  private nextInspection = 1;
  private readonly disposables: vscode.Disposable[] = [];

  static get instance(): ExperimentPanel | undefined {
    return ExperimentPanel.current;
  }

  /** Shows `view` in the panel (created or revealed). */
  static show(extensionUri: vscode.Uri, log: vscode.LogOutputChannel, view: ExperimentView, onExport: (view: ExperimentView) => void): ExperimentPanel {
    const existing = ExperimentPanel.current;
    if (existing) {
      existing.view = view;
      existing.panel.reveal(undefined, true);
      existing.post({ type: "show", view });
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(EXPERIMENT_VIEW_TYPE, "TEMPO Experiment", vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, "dist", "webview"), vscode.Uri.joinPath(extensionUri, "media")],
    });
    return new ExperimentPanel(panel, extensionUri, log, view, onExport);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    public view: ExperimentView,
    private readonly onExport: (view: ExperimentView) => void,
  ) {
    ExperimentPanel.current = this;
    const webview = panel.webview;
    webview.html = experimentHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "webview", "experiment.js")).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "media", "playground.css")).toString(),
      nonce: makeNonce(),
      title: "TEMPO Experiment",
    });
    this.disposables.push(
      webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      // A hidden panel's page is destroyed; shown again, it says "ready" again.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private post(message: ExperimentExtensionMessage): void {
    if (this.ready) void this.panel.webview.postMessage(message);
  }

  private whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private onMessage(raw: unknown): void {
    const msg = parseExperimentWebviewMessage(raw);
    if (!msg) {
      this.log.warn("experiment page: dropped an invalid message");
      return;
    }
    switch (msg.type) {
      case "ready":
        this.ready = true;
        this.elements = msg.elements;
        this.post({ type: "show", view: this.view });
        for (const w of this.readyWaiters.splice(0)) w();
        break;
      case "cspViolation":
        this.cspViolations.push(`${msg.directive} ${msg.blockedUri}`);
        this.log.error(`experiment page: CSP blocked ${msg.blockedUri} (${msg.directive})`);
        break;
      case "export":
        this.onExport(this.view);
        break;
      case "rendered": {
        this.inspections.get(msg.requestId)?.({ tableRows: msg.tableRows, taskRows: msg.taskRows, drillDown: msg.drillDown, hasInjectedElement: msg.hasInjectedElement });
        this.inspections.delete(msg.requestId);
        break;
      }
    }
  }

  /** Test hook: what the page shows; with `taskId`, after opening that task's drill-down. */
  async inspect(taskId?: string): Promise<ExperimentRendered> {
    await this.whenReady();
    if (taskId !== undefined) this.post({ type: "selectTask", taskId });
    const requestId = this.nextInspection++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the experiment page did not answer (hidden?)")), 10_000);
      this.inspections.set(requestId, (info) => {
        clearTimeout(timer);
        resolve(info);
      });
      this.post({ type: "inspect", requestId });
    });
  }

  dispose(): void {
    if (ExperimentPanel.current === this) ExperimentPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
