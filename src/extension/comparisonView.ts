// The comparison view (its own view container): the isolated run's sets replayed isolated and
// visible against the null band, the free runs, attention; while Compare runs, its progress and
// partial rows. Its buttons open the report, export or reveal the capture, and cancel.
import { existsSync } from "node:fs";
import * as vscode from "vscode";
import { parseComparisonWebviewMessage, readComparisonState, type CompareProgress, type ComparisonData, type ComparisonExtensionMessage } from "../../webview/comparison-protocol.js";
import { exportCapture } from "./exportCapture.js";
import { comparisonHtml } from "./webviewHtml.js";
import { pageOptions, WebviewPage, type CspViolation } from "./webviewPage.js";

export const COMPARISON_VIEW_ID = "tempo.comparison";

/** The view's commands (its title bar and buttons): on the shown comparison's capture, and cancelling a running one. */
export const COMPARISON_COMMANDS = {
  exportCapture: "tempo.exportComparisonCapture",
  revealCapture: "tempo.revealComparisonCapture",
  cancel: "tempo.cancelComparison",
} as const;

export type RenderedComparison = Omit<Extract<ReturnType<typeof parseComparisonWebviewMessage>, { type: "rendered" }>, "type" | "requestId">;

export class ComparisonViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private page: WebviewPage<ComparisonExtensionMessage> | undefined;
  /** Waiting for the view to be resolved (VS Code creates its page when it is first shown). */
  private pageWaiters: Array<(page: WebviewPage<ComparisonExtensionMessage>) => void> = [];
  data: ComparisonData | undefined;
  /** Every page's CSP violations, across re-creations of the view. */
  readonly cspViolations: CspViolation[] = [];
  private readonly reportEmitter = new vscode.EventEmitter<string>();
  /** The view's "Open Report" button: fires with the report.html path. */
  readonly onDidRequestReport = this.reportEmitter.event;
  private readonly cancelEmitter = new vscode.EventEmitter<void>();
  /** The view's "Cancel" button, shown while a comparison runs. */
  readonly onDidRequestCancel = this.cancelEmitter.event;
  private progress: CompareProgress | null = null;

  constructor(private readonly extensionUri: vscode.Uri, private readonly log: vscode.LogOutputChannel) {}

  resolveWebviewView(view: vscode.WebviewView, context: vscode.WebviewViewResolveContext<unknown>): void {
    this.view = view;
    // After a window reload: the comparison the page stored (validated; bad state is logged and dropped).
    if (!this.data && context.state !== undefined) {
      const stored = readComparisonState(context.state);
      if (stored.problem) this.log.warn(`comparison view: ${stored.problem}`);
      this.data = stored.data;
    }
    view.webview.options = pageOptions(this.extensionUri);
    const page = new WebviewPage<ComparisonExtensionMessage>(view.webview, this.extensionUri, this.log, { name: "comparison view", script: "comparison.js", title: "TEMPO Comparison", html: comparisonHtml }, () => this.view === view && view.visible);
    this.page = page;
    page.load();
    for (const w of this.pageWaiters.splice(0)) w(page);
    view.webview.onDidReceiveMessage((raw: unknown) => {
      const msg = parseComparisonWebviewMessage(raw);
      if (!msg) {
        this.log.warn("comparison view: dropped an invalid message from the webview");
        return;
      }
      if (msg.type === "ready") {
        page.onReady({ elements: [] });
        page.post({ type: "progress", progress: this.progress });
        page.post({ type: "show", data: this.data ?? null });
      } else if (msg.type === "cspViolation") {
        const v = { directive: msg.directive, blockedUri: msg.blockedUri };
        this.cspViolations.push(v);
        page.onCspViolation(v);
      } else if (msg.type === "runCompare") {
        void vscode.commands.executeCommand("tempo.compareModes");
      } else if (msg.type === "cancelCompare" || msg.type === "exportCapture" || msg.type === "revealCapture") {
        void vscode.commands.executeCommand(COMPARISON_COMMANDS[msg.type === "cancelCompare" ? "cancel" : msg.type]);
      } else if (msg.type === "openReport") {
        const report = this.onDisk(this.data?.reportHtml, "report");
        if (report) this.reportEmitter.fire(report);
      } else if (msg.type === "log") {
        this.log.warn(msg.message);
      } else if (msg.type === "rendered") {
        page.answer(msg.requestId, msg);
      }
    });
    view.onDidChangeVisibility(() => {
      if (!view.visible) page.onHidden();
    });
    view.onDidDispose(() => {
      this.view = undefined;
      this.page = undefined;
    });
  }

  /** Shows (and reveals) new comparison data. */
  async show(data: ComparisonData): Promise<void> {
    await vscode.commands.executeCommand(`${COMPARISON_VIEW_ID}.focus`);
    this.update(data);
  }

  /** Shows `data` (a running comparison's partial rows, or its end) without revealing the view. */
  update(data: ComparisonData): void {
    if (Boolean(data.captureDir) !== Boolean(this.data?.captureDir)) void vscode.commands.executeCommand("setContext", "tempo.hasComparisonCapture", Boolean(data.captureDir));
    this.data = data;
    this.page?.post({ type: "show", data });
  }

  /** A running comparison's progress; null when it ended. */
  setProgress(progress: CompareProgress | null): void {
    if ((progress === null) !== (this.progress === null)) void vscode.commands.executeCommand("setContext", "tempo.comparing", progress !== null);
    this.progress = progress;
    this.page?.post({ type: "progress", progress });
  }

  /** The view's commands; `reportError` shows what went wrong (an export that failed). */
  registerCommands(reportError: (e: unknown, what: string) => unknown): vscode.Disposable[] {
    return [
      vscode.commands.registerCommand(COMPARISON_COMMANDS.exportCapture, async () => {
        const dir = this.onDisk(this.data?.captureDir, "capture");
        // Into the workspace's .tempo/captures, as the playground's captures go.
        return dir ? exportCapture(dir, this.log).catch((e: unknown) => void reportError(e, "export")) : undefined;
      }),
      vscode.commands.registerCommand(COMPARISON_COMMANDS.revealCapture, async () => {
        const dir = this.onDisk(this.data?.captureDir, "capture");
        if (!dir) return;
        // Staged under the extension's storage, outside any workspace: the file manager shows it; a browser has none.
        if (vscode.env.uiKind === vscode.UIKind.Web) void vscode.window.showInformationMessage(`TEMPO: the comparison's capture is ${dir} (Export copies it into the workspace).`);
        else await vscode.commands.executeCommand("revealFileInOS", vscode.Uri.file(dir));
      }),
      vscode.commands.registerCommand(COMPARISON_COMMANDS.cancel, () => this.cancelEmitter.fire()),
    ];
  }

  /** `path` when it is still on disk; a comparison restored after a reload may point at files staging has since pruned. */
  private onDisk(path: string | undefined, what: string): string | undefined {
    if (path && existsSync(path)) return path;
    if (path) void vscode.window.showInformationMessage(`TEMPO: this comparison's ${what} is no longer on disk; run the comparison again.`);
    return undefined;
  }

  /** Test hook: the rows the view rendered, how many are marked divergent, and its attention section. */
  async inspect(): Promise<RenderedComparison> {
    await vscode.commands.executeCommand(`${COMPARISON_VIEW_ID}.focus`);
    const page = this.page ?? await new Promise<WebviewPage<ComparisonExtensionMessage>>((resolve) => this.pageWaiters.push(resolve));
    return page.inspect((requestId) => ({ type: "inspect", requestId }));
  }

  dispose(): void {
    this.reportEmitter.dispose();
    this.cancelEmitter.dispose();
    this.view = undefined;
  }
}
