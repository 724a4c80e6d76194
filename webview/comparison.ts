// Comparison view entry (dist/webview/comparison.js): the replay (the isolated run's sets,
// each mode's next token, JS as a bar against the null band), the free runs and where they
// part, and attention. Sized for a 300 px side bar. Model text only ever goes in through textContent.
import "./zod-csp.js"; // first: before any zod schema is built
import "@vscode-elements/elements/dist/vscode-button/index.js";
import {
  COMPARED_MODES,
  comparisonState,
  parseComparisonExtensionMessage,
  readComparisonState,
  type CompareProgress,
  type ComparisonData,
  type ComparisonWebviewMessage,
} from "./comparison-protocol.js";
import { barFraction, barScale, firstParting, formatJs, formatMultiple, highlightedRows, progressText, scaleText, type BarScale } from "./comparison-model.js";
import { formatProb, visibleToken } from "./render.js";
import { attentionSection, renderedAttention } from "./comparison-attention.js";
import type { ReplayRow, StepEventMessage } from "../src/protocol/engine.js";

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

const byId = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;
const status = byId("status");
const progressLine = byId("progress");
const replaySection = byId("replay");
const scaleLine = byId("scale");
const replayBody = (byId("replay-rows") as HTMLTableElement).tBodies[0];
const freeSection = byId("free");
const freeNote = byId("free-note");
const freeRuns = byId("free-runs");
const attention = byId("attention");
const buttons = { run: byId("compare-run"), cancel: byId("cancel"), report: byId("open-report"), export: byId("export"), reveal: byId("reveal") };
for (const [button, type] of [[buttons.run, "runCompare"], [buttons.cancel, "cancelCompare"], [buttons.report, "openReport"], [buttons.export, "exportCapture"], [buttons.reveal, "revealCapture"]] as const) {
  button.addEventListener("click", () => vscode.postMessage({ type }));
}

/** A token as a chip (sets) or plain (a single choice), its probability and rank on hover. */
function tokenChip(c: { text: string; token: number; special?: string; prob: number; rank?: number }, set: boolean): HTMLSpanElement {
  const chip = document.createElement("span");
  chip.className = set ? "chip" : "tok";
  chip.textContent = visibleToken(c);
  chip.title = `p ${formatProb(c.prob)}${c.rank === undefined ? "" : `, rank ${c.rank}`}`;
  return chip;
}

/** A step's choice: its members as chips, or its one token. */
function stepChoice(candidates: StepEventMessage["candidates"]): HTMLSpanElement {
  const span = document.createElement("span");
  span.className = candidates.length > 1 ? "set" : "single";
  span.append(...candidates.map((c) => tokenChip(c, candidates.length > 1)));
  return span;
}

function nextCell(row: ReplayRow): HTMLTableCellElement {
  const td = document.createElement("td");
  td.className = "next";
  if (row.next.p.token !== row.next.q.token) td.classList.add("differs");
  for (const [label, entry] of [["I", row.next.p], ["V", row.next.q]] as const) {
    const line = document.createElement("div");
    const mode = document.createElement("span");
    mode.className = "mode";
    mode.textContent = label;
    line.append(mode, tokenChip(entry, false));
    td.append(line);
  }
  return td;
}

function jsCell(row: ReplayRow, scale: BarScale | null): HTMLTableCellElement {
  const td = document.createElement("td");
  td.className = "js";
  if (row.js === null) {
    td.textContent = "—";
    td.title = "undefined at this step";
    return td;
  }
  if (scale) {
    const bar = document.createElement("div");
    bar.className = "bar";
    // CSSOM, not a style attribute: the CSP allows it.
    bar.style.setProperty("--fill", String(barFraction(row.js, scale)));
    if (scale.unitIsNullP99) bar.style.setProperty("--tick", String(barFraction(scale.unit, scale)));
    else bar.classList.add("no-tick");
    td.append(bar);
  }
  const num = document.createElement("span");
  num.className = "num";
  num.textContent = formatJs(row.js);
  td.append(num);
  const multiple = scale ? `, ${formatMultiple(row.js / scale.unit)} the bar's unit` : "";
  td.title = `JS ${row.js} nats${multiple}; null baseline at this step ${row.nullJs === null ? "undefined" : formatJs(row.nullJs)}`;
  return td;
}

function renderReplay(data: ComparisonData, final: boolean): void {
  const { rows, nullBand } = data.replay;
  const scale = barScale(rows, nullBand);
  const highlighted = highlightedRows(rows, nullBand);
  const fragment = document.createDocumentFragment();
  rows.forEach((row, i) => {
    const tr = document.createElement("tr");
    if (highlighted[i]) tr.className = "above-null";
    const step = document.createElement("th");
    step.scope = "row";
    step.textContent = String(row.step);
    const set = document.createElement("td");
    set.className = "members";
    set.append(stepChoice(row.set));
    tr.append(step, set, nextCell(row), jsCell(row, scale));
    fragment.append(tr);
  });
  replayBody.replaceChildren(fragment);
  replaySection.hidden = rows.length === 0;
  const above = highlighted.filter(Boolean).length;
  const differs = rows.filter((r) => r.next.p.token !== r.next.q.token).length;
  scaleLine.textContent = `${scaleText(scale, nullBand, final)} Highlighted: the ${above} of ${rows.length} steps whose JS is above the null band${final ? "" : " so far"}. Bold next tokens: the ${differs} steps where the modes' top choices differ.`;
}

function renderFree(data: ComparisonData): void {
  const n = Math.max(...COMPARED_MODES.map((m) => data.runs[m].length));
  freeSection.hidden = n === 0;
  const parting = firstParting(data.runs);
  freeSection.dataset.parting = parting === null ? "" : String(parting);
  freeNote.textContent = parting === null
    ? "Each mode generated from the prompt on its own; the three chose the same at every step."
    : `Each mode generated from the prompt on its own. They part at step ${parting} (▸): from there each continues its own text, so later steps are not comparable one by one.`;
  const common = parting ?? n;
  const blocks: HTMLElement[] = [];
  if (common > 0) blocks.push(freeBlock(`steps 0–${common - 1}, all three`, data.runs.isolated.slice(0, common), "common"));
  if (parting !== null) for (const m of COMPARED_MODES) blocks.push(freeBlock(`${m} ▸ ${parting}`, data.runs[m].slice(parting), m));
  freeRuns.replaceChildren(...blocks);
}

function freeBlock(label: string, steps: readonly StepEventMessage[], kind: string): HTMLElement {
  const div = document.createElement("div");
  div.className = "free-run";
  div.dataset.kind = kind;
  const name = document.createElement("span");
  name.className = "label";
  name.textContent = label;
  div.append(name, ...steps.map((s) => stepChoice(s.candidates)));
  if (!steps.length) div.append(" (ended)");
  return div;
}

/** Free-run steps on the page: the common ones plus the longest continuation. */
function freeStepsShown(): number {
  const count = (kind: string) => freeRuns.querySelectorAll(`.free-run[data-kind="${kind}"] > .set, .free-run[data-kind="${kind}"] > .single`).length;
  return count("common") + Math.max(...COMPARED_MODES.map(count));
}

let shown: ComparisonData | null = null;
let running: CompareProgress | null = null;

function render(data: ComparisonData | null): void {
  shown = data;
  // Stored (bounded) so the last comparison survives a window reload.
  vscode.setState(comparisonState(data));
  attention.replaceChildren(...(data ? attentionSection(data) : []));
  buttons.report.hidden = !data?.reportHtml;
  buttons.export.hidden = buttons.reveal.hidden = !data?.captureDir;
  if (!data) {
    replaySection.hidden = freeSection.hidden = true;
    status.textContent = "No comparison yet: run TEMPO: Compare Isolated vs Visible.";
    status.dataset.state = "empty";
    return;
  }
  // The band is the engine's over every step once the replay is done; before, over those so far.
  renderReplay(data, running === null || (running.phase !== "generate" && running.phase !== "replay"));
  renderFree(data);
  const ended = data.cancelled ? `cancelled after ${data.replay.rows.length} steps replayed (the capture keeps them). ` : "";
  status.textContent = `${ended}Prompt: ${data.prompt.slice(0, 80)}`;
  status.dataset.state = running ? "running" : "shown";
}

function showProgress(p: CompareProgress | null): void {
  running = p;
  progressLine.hidden = buttons.cancel.hidden = p === null;
  buttons.run.hidden = p !== null;
  progressLine.textContent = p ? progressText(p) : "";
  if (p) status.dataset.state = "running";
  else if (shown) status.dataset.state = "shown";
}

window.addEventListener("message", (event: MessageEvent<unknown>) => {
  const msg = parseComparisonExtensionMessage(event.data);
  if (!msg) return;
  if (msg.type === "show") render(msg.data);
  else if (msg.type === "progress") {
    showProgress(msg.progress);
    if (shown) render(shown);
  } else {
    vscode.postMessage({
      type: "rendered", requestId: msg.requestId,
      rows: replayBody.rows.length, aboveNull: replayBody.querySelectorAll("tr.above-null").length, scale: scaleLine.textContent ?? "",
      freeSteps: freeStepsShown(),
      parting: freeSection.dataset.parting ? Number(freeSection.dataset.parting) : null,
      progress: progressLine.hidden ? "" : progressLine.textContent ?? "", cancellable: !buttons.cancel.hidden,
      attention: renderedAttention(attention),
    });
  }
});

// The last comparison as stored before a reload: shown at once (the extension sends it again on "ready").
const saved = readComparisonState(vscode.getState());
if (saved.problem) vscode.postMessage({ type: "log", message: `comparison view: ${saved.problem}` });
if (saved.data) render(saved.data);

vscode.postMessage({ type: "ready" });
