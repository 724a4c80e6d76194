// The completion experiment's results panel (one per window). The results stay here, on the
// extension side: a page re-created after being hidden says "ready" and gets them again.
import * as vscode from "vscode";
import {
  parseExperimentWebviewMessage,
  type ExperimentExtensionMessage,
  type ExperimentRendered,
  type ExperimentView,
} from "../../webview/experiment-protocol.js";
import { experimentHtml } from "./webviewHtml.js";
import { pageOptions, WebviewPage } from "./webviewPage.js";

export const EXPERIMENT_VIEW_TYPE = "tempo.experiment";

export class ExperimentPanel implements vscode.Disposable {
  private static current: ExperimentPanel | undefined;

  private readonly page: WebviewPage<ExperimentExtensionMessage>;
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
      existing.page.post({ type: "show", view });
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(EXPERIMENT_VIEW_TYPE, "TEMPO Experiment", vscode.ViewColumn.Active, pageOptions(extensionUri));
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
    this.page = new WebviewPage(panel.webview, extensionUri, log, { name: "experiment page", script: "experiment.js", title: "TEMPO Experiment", html: experimentHtml }, () => ExperimentPanel.current === this && panel.visible);
    this.page.load();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.page.onHidden();
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  get cspViolations(): readonly string[] { return this.page.cspViolations.map((v) => `${v.directive} ${v.blockedUri}`); }
  /** Custom elements the page reported defined in its last "ready". */
  get elements(): readonly string[] { return this.page.ready?.elements ?? []; }

  private onMessage(raw: unknown): void {
    const msg = parseExperimentWebviewMessage(raw);
    if (!msg) {
      this.log.warn("experiment page: dropped an invalid message");
      return;
    }
    switch (msg.type) {
      case "ready":
        this.page.onReady({ elements: msg.elements });
        this.page.post({ type: "show", view: this.view });
        break;
      case "cspViolation":
        this.page.onCspViolation({ directive: msg.directive, blockedUri: msg.blockedUri });
        break;
      case "export":
        this.onExport(this.view);
        break;
      case "rendered":
        this.page.answer(msg.requestId, { tableRows: msg.tableRows, taskRows: msg.taskRows, drillDown: msg.drillDown, hasInjectedElement: msg.hasInjectedElement } satisfies ExperimentRendered);
        break;
    }
  }

  /** Test hook: what the page shows; with `taskId`, after opening that task's drill-down. */
  async inspect(taskId?: string): Promise<ExperimentRendered> {
    await this.page.whenReady();
    if (taskId !== undefined) this.page.post({ type: "selectTask", taskId });
    return this.page.inspect((requestId) => ({ type: "inspect", requestId }));
  }

  dispose(): void {
    if (ExperimentPanel.current === this) ExperimentPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
