// What every TEMPO webview host does the same way: the page itself (scripts from the built
// bundle only, a fresh nonce per load), the "ready" handshake (a message posted before it would
// be lost), CSP violations reported by the page, reloading a page that never starts
// (watchPageStart), and the tests' inspect round trip with a time limit.
import * as vscode from "vscode";
import { makeNonce, type PageResources } from "./webviewHtml.js";
import { watchPageStart } from "./pageStart.js";

export interface PageReady {
  /** Custom elements the page managed to define: proves its bundle ran under the CSP. */
  elements: string[];
  /** The body class VS Code gave the page, when it says. */
  theme?: string;
}

export interface CspViolation {
  directive: string;
  blockedUri: string;
}

export interface PageSpec {
  /** As the log and messages name it ("playground", "comparison view"). */
  name: string;
  /** The page's bundle in dist/webview. */
  script: string;
  title: string;
  html: (r: PageResources) => string;
}

/** How long a test's inspect waits for the page's answer. */
const INSPECT_TIMEOUT_MS = 10_000;

/** Webview options for a TEMPO page: scripts on, and only the built bundle and the stylesheets loadable. */
export function pageOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, "dist", "webview"), vscode.Uri.joinPath(extensionUri, "media")],
  };
}

/** `Out`: the messages the page takes; `Ready`: what its "ready" says. */
export class WebviewPage<Out, Ready extends PageReady = PageReady> {
  readonly cspViolations: CspViolation[] = [];
  private readyInfo: Ready | undefined;
  private waiters: Array<(info: Ready) => void> = [];
  private readonly inspections = new Map<number, (info: unknown) => void>();
  private nextInspection = 1;

  /** `shown`: whether the page is still this host's and on screen (a hidden page cannot start). */
  constructor(
    private readonly webview: vscode.Webview,
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly spec: PageSpec,
    private readonly shown: () => boolean,
  ) {}

  /** Sets the page (again, when it did not start: see watchPageStart). */
  load(attempt = 1): void {
    this.readyInfo = undefined;
    const uri = (...path: string[]) => this.webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...path)).toString();
    this.webview.html = this.spec.html({
      cspSource: this.webview.cspSource,
      scriptUri: uri("dist", "webview", this.spec.script),
      styleUri: uri("media", "playground.css"),
      nonce: makeNonce(),
      title: this.spec.title,
    });
    watchPageStart(this.spec.name, this.log, attempt, () => this.shown() && !this.readyInfo, () => this.load(attempt + 1));
  }

  get ready(): Ready | undefined { return this.readyInfo; }

  /** The page said "ready": what was waiting for it goes now. */
  onReady(info: Ready): void {
    this.readyInfo = info;
    for (const w of this.waiters.splice(0)) w(info);
  }

  /** A hidden page's document is destroyed; shown again, it says "ready" again. */
  onHidden(): void {
    this.readyInfo = undefined;
  }

  onCspViolation(v: CspViolation): void {
    this.cspViolations.push(v);
    this.log.error(`${this.spec.name}: CSP blocked ${v.blockedUri} (${v.directive})`);
  }

  whenReady(): Promise<Ready> {
    if (this.readyInfo) return Promise.resolve(this.readyInfo);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Posts to the page once it is ready (earlier messages would be lost). */
  post(message: Out): void {
    if (this.readyInfo) void this.webview.postMessage(message);
  }

  /** Test hook: posts `request(requestId)` once the page is ready and resolves with its `answer`. */
  async inspect<Info>(request: (requestId: number) => Out): Promise<Info> {
    await this.whenReady();
    const requestId = this.nextInspection++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.inspections.delete(requestId);
        reject(new Error(`the ${this.spec.name} page did not answer (hidden?)`));
      }, INSPECT_TIMEOUT_MS);
      this.inspections.set(requestId, (info) => {
        clearTimeout(timer);
        resolve(info as Info);
      });
      this.post(request(requestId));
    });
  }

  /** The page's answer to inspect `requestId`. */
  answer(requestId: number, info: unknown): void {
    this.inspections.get(requestId)?.(info);
    this.inspections.delete(requestId);
  }
}
