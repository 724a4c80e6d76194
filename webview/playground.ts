// Playground webview entry (bundled to dist/webview/playground.js, loaded with the page's nonce).
// Import only the components the page uses: each import registers one custom element.
import "@vscode-elements/elements/dist/vscode-textarea/index.js";
import "@vscode-elements/elements/dist/vscode-label/index.js";
import { parseExtensionMessage, type WebviewMessage } from "./protocol.js";

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const USED_ELEMENTS = ["vscode-textarea", "vscode-label"];

// acquireVsCodeApi may be called once per page.
const vscode = acquireVsCodeApi();

// Report CSP violations so tests (and the log) see a too-strict or too-loose policy at once.
document.addEventListener("securitypolicyviolation", (e) => {
  vscode.postMessage({ type: "cspViolation", directive: e.violatedDirective, blockedUri: e.blockedURI });
});

const status = document.getElementById("status");
const prompt = document.getElementById("prompt") as (HTMLElement & { value: string }) | null;

// Keep the prompt across reloads (webview state survives a window reload with the serializer).
const saved = vscode.getState();
if (prompt && typeof saved === "object" && saved !== null && typeof (saved as { prompt?: unknown }).prompt === "string") {
  prompt.value = (saved as { prompt: string }).prompt;
}
prompt?.addEventListener("input", () => vscode.setState({ prompt: prompt.value }));

window.addEventListener("message", (event: MessageEvent<unknown>) => {
  const msg = parseExtensionMessage(event.data);
  if (!msg) {
    console.warn("TEMPO playground: ignored an unknown message");
    return;
  }
  if (msg.type === "init" && status) {
    // textContent, never innerHTML: anything shown here may come from outside.
    status.textContent = `Connected to TEMPO ${msg.extensionVersion}.`;
    status.dataset.state = "connected";
  }
});

// Say "ready" only after the elements are defined, so the extension never posts into a page
// that cannot render yet.
void Promise.all(USED_ELEMENTS.map((name) => customElements.whenDefined(name))).then(() => {
  const theme = [...document.body.classList].find((c) => c.startsWith("vscode-")) ?? "unknown";
  vscode.postMessage({ type: "ready", elements: USED_ELEMENTS.filter((n) => customElements.get(n)), theme });
});
