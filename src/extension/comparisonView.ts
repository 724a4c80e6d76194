// The comparison view (its own view container): the same prompt run isolated, visible and
// standard, aligned by step, with the steps where they diverge highlighted.
import { existsSync } from "node:fs";
import * as vscode from "vscode";
import { parseComparisonWebviewMessage, readComparisonState, type ComparisonData, type ComparisonExtensionMessage } from "../../webview/comparison-protocol.js";
import { comparisonHtml, makeNonce } from "./webviewHtml.js";
import { watchPageStart } from "./pageStart.js";

export const COMPARISON_VIEW_ID = "tempo.comparison";

export class ComparisonViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private readyWaiters: Array<() => void> = [];
  data: ComparisonData | undefined;
  readonly cspViolations: string[] = [];
  private readonly reportEmitter = new vscode.EventEmitter<string>();
  /** The view's "Open Report" button: fires with the report.html path. */
  readonly onDidRequestReport = this.reportEmitter.event;

  constructor(private readonly extensionUri: vscode.Uri, private readonly log: vscode.LogOutputChannel) {}

  resolveWebviewView(view: vscode.WebviewView, context: vscode.WebviewViewResolveContext<unknown>): void {
    this.view = view;
    this.ready = false;
    // After a window reload: the comparison the page stored (validated; bad state is logged and dropped).
    if (!this.data && context.state !== undefined) {
      const stored = readComparisonState(context.state);
      if (stored.problem) this.log.warn(`comparison view: ${stored.problem}`);
      this.data = stored.data;
    }
    const webview = view.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, "dist", "webview"), vscode.Uri.joinPath(this.extensionUri, "media")],
    };
    this.load(view, 1);
    webview.onDidReceiveMessage((raw: unknown) => {
      const msg = parseComparisonWebviewMessage(raw);
      if (!msg) {
        this.log.warn("comparison view: dropped an invalid message from the webview");
        return;
      }
      if (msg.type === "ready") {
        this.ready = true;
        this.post({ type: "show", data: this.data ?? null });
        for (const w of this.readyWaiters.splice(0)) w();
      } else if (msg.type === "cspViolation") {
        this.cspViolations.push(`${msg.directive} ${msg.blockedUri}`);
        this.log.error(`comparison view: CSP blocked ${msg.blockedUri} (${msg.directive})`);
      } else if (msg.type === "runCompare") {
        void vscode.commands.executeCommand("tempo.compareModes");
      } else if (msg.type === "openReport") {
        const report = this.data?.reportHtml;
        // A comparison restored after a reload may point at a report that staging has since pruned.
        if (report && existsSync(report)) this.reportEmitter.fire(report);
        else if (report) void vscode.window.showInformationMessage("TEMPO: this comparison's report is no longer on disk; run the comparison again.");
      } else if (msg.type === "log") {
        this.log.warn(msg.message);
      } else if (msg.type === "rendered") {
        this.renderedWaiter?.(msg);
        this.renderedWaiter = undefined;
      }
    });
    // A hidden view's page is destroyed; it says "ready" again when shown.
    view.onDidChangeVisibility(() => {
      if (!view.visible) this.ready = false;
    });
    view.onDidDispose(() => {
      this.view = undefined;
      this.ready = false;
    });
  }

  /** Sets the page (again, when it did not start: see watchPageStart). */
  private load(view: vscode.WebviewView, attempt: number): void {
    const webview = view.webview;
    webview.html = comparisonHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, "dist", "webview", "comparison.js")).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, "media", "playground.css")).toString(),
      nonce: makeNonce(),
      title: "TEMPO Comparison",
    });
    watchPageStart("comparison view", this.log, attempt, () => this.view === view && view.visible && !this.ready, () => this.load(view, attempt + 1));
  }

  private renderedWaiter: ((info: { rows: number; divergent: number }) => void) | undefined;

  private post(message: ComparisonExtensionMessage): void {
    if (this.view && this.ready) void this.view.webview.postMessage(message);
  }

  /** Shows (and reveals) new comparison data. */
  async show(data: ComparisonData): Promise<void> {
    this.data = data;
    await vscode.commands.executeCommand(`${COMPARISON_VIEW_ID}.focus`);
    this.post({ type: "show", data });
  }

  /** Test hook: the rows the view rendered and how many are marked divergent. */
  async inspect(): Promise<{ rows: number; divergent: number }> {
    await vscode.commands.executeCommand(`${COMPARISON_VIEW_ID}.focus`);
    if (!this.ready) await new Promise<void>((r) => this.readyWaiters.push(r));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the comparison view did not answer")), 10_000);
      this.renderedWaiter = (info) => {
        clearTimeout(timer);
        resolve(info);
      };
      this.post({ type: "inspect" });
    });
  }

  dispose(): void {
    this.reportEmitter.dispose();
    this.view = undefined;
  }
}
