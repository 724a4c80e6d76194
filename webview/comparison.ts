// Comparison view entry (dist/webview/comparison.js): a table aligned by step, one column per
// mode. Model text only ever goes in through textContent.
import "./zod-csp.js"; // first: before any zod schema is built
import "@vscode-elements/elements/dist/vscode-button/index.js";
import {
  COMPARED_MODES,
  comparisonState,
  divergentSteps,
  parseComparisonExtensionMessage,
  readComparisonState,
  type ComparisonData,
  type ComparisonWebviewMessage,
} from "./comparison-protocol.js";
import { formatProb, visibleToken } from "./render.js";
import { attentionSection, renderedAttention } from "./comparison-attention.js";
import type { StepEventMessage } from "./protocol.js";

interface VsCodeApi {
  postMessage(message: ComparisonWebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

document.addEventListener("securitypolicyviolation", (e) => {
  vscode.postMessage({ type: "cspViolation", directive: e.violatedDirective.slice(0, 200), blockedUri: e.blockedURI.slice(0, 500) });
});

const status = document.getElementById("status") as HTMLElement;
const table = document.getElementById("compare") as HTMLTableElement;
const body = table.tBodies[0];
const attention = document.getElementById("attention") as HTMLElement;
const reportButton = document.getElementById("open-report") as HTMLElement;
document.getElementById("compare-run")?.addEventListener("click", () => vscode.postMessage({ type: "runCompare" }));
reportButton.addEventListener("click", () => vscode.postMessage({ type: "openReport" }));

function cell(step: StepEventMessage | undefined): HTMLTableCellElement {
  const td = document.createElement("td");
  if (!step) {
    td.textContent = "—";
    td.className = "muted";
    return td;
  }
  for (const c of step.candidates) {
    const chip = document.createElement("span");
    chip.className = step.candidates.length > 1 ? "chip" : "tok";
    chip.textContent = visibleToken(c);
    chip.title = `p ${formatProb(c.prob)}, rank ${c.rank}`;
    td.append(chip);
  }
  return td;
}

function render(data: ComparisonData | null): void {
  // Stored (bounded) so the last comparison survives a window reload.
  vscode.setState(comparisonState(data));
  body.replaceChildren();
  attention.replaceChildren(...(data ? attentionSection(data) : []));
  reportButton.hidden = !data?.reportHtml;
  if (!data) {
    table.hidden = true;
    status.textContent = "No comparison yet: run TEMPO: Compare Isolated vs Visible.";
    status.dataset.state = "empty";
    return;
  }
  const divergent = divergentSteps(data);
  const rows = document.createDocumentFragment();
  divergent.forEach((diverges, i) => {
    const tr = document.createElement("tr");
    if (diverges) tr.className = "divergent";
    const idx = document.createElement("th");
    idx.scope = "row";
    idx.textContent = String(i);
    tr.append(idx, ...COMPARED_MODES.map((m) => cell(data.runs[m][i])));
    const js = document.createElement("td");
    const v = data.js?.[i];
    js.textContent = v === undefined || v === null ? "" : v.toExponential(2);
    tr.append(js);
    rows.append(tr);
  });
  body.append(rows);
  table.hidden = false;
  const count = divergent.filter(Boolean).length;
  const js = (data.js ?? []).filter((v): v is number => v !== null);
  const meanJs = js.length ? ` Mean JS (isolated vs visible, same sets) ${(js.reduce((a, b) => a + b, 0) / js.length).toExponential(2)} nats.` : "";
  status.textContent = `${divergent.length} steps; ${count} where the modes diverge (highlighted).${meanJs} Prompt: ${data.prompt.slice(0, 80)}`;
  status.dataset.state = "shown";
}

window.addEventListener("message", (event: MessageEvent<unknown>) => {
  const msg = parseComparisonExtensionMessage(event.data);
  if (!msg) return;
  if (msg.type === "show") render(msg.data);
  else vscode.postMessage({ type: "rendered", requestId: msg.requestId, rows: body.rows.length, divergent: body.querySelectorAll("tr.divergent").length, attention: renderedAttention(attention) });
});

// The last comparison as stored before a reload: shown at once (the extension sends it again on "ready").
const saved = readComparisonState(vscode.getState());
if (saved.problem) vscode.postMessage({ type: "log", message: `comparison view: ${saved.problem}` });
if (saved.data) render(saved.data);

vscode.postMessage({ type: "ready" });
