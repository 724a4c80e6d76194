// Completion-experiment results page (dist/webview/experiment.js): the report's tables, a
// per-task overview and a drill-down with each arm's completion and test output. Model and
// task text only ever goes in through textContent.
import "./zod-csp.js"; // first: before any zod schema is built
import "@vscode-elements/elements/dist/vscode-button/index.js";
import "@vscode-elements/elements/dist/vscode-label/index.js";
import "@vscode-elements/elements/dist/vscode-single-select/index.js";
import "@vscode-elements/elements/dist/vscode-option/index.js";
import "@vscode-elements/elements/dist/vscode-collapsible/index.js";
import { outcomeLabel, parseExperimentExtensionMessage, type ExperimentView, type ExperimentWebviewMessage } from "./experiment-protocol.js";
import { countText } from "../src/protocol/experiment.js";

interface VsCodeApi {
  postMessage(message: ExperimentWebviewMessage): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

const USED_ELEMENTS = ["vscode-button", "vscode-label", "vscode-single-select", "vscode-option", "vscode-collapsible"];

document.addEventListener("securitypolicyviolation", (e) => {
  vscode.postMessage({ type: "cspViolation", directive: e.violatedDirective.slice(0, 200), blockedUri: e.blockedURI.slice(0, 500) });
});

const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`experiment page: #${id} is missing`);
  return el as T;
};
type ValueElement = HTMLElement & { value: string; disabled: boolean };
const status = byId("status");
const meta = byId("meta");
const tables = byId("tables");
const exportButton = byId<ValueElement>("export");
const taskSelect = byId<ValueElement>("task");
const overview = byId<HTMLTableElement>("overview");
const detail = byId("task-detail");

let view: ExperimentView | null = null;
let selected: string | null = null;

exportButton.addEventListener("click", () => vscode.postMessage({ type: "export" }));
taskSelect.addEventListener("change", () => selectTask(taskSelect.value));

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function renderTables(v: ExperimentView): void {
  tables.replaceChildren();
  for (const t of v.tables) {
    const section = el("section");
    section.append(el("h2", t.title));
    if (t.note) section.append(el("p", t.note, "muted"));
    const table = el("table", undefined, "stats");
    const head = el("tr");
    for (const h of t.head) head.append(Object.assign(el("th", h), { scope: "col" }));
    table.createTHead().append(head);
    const body = table.createTBody();
    for (const row of t.rows) {
      const tr = el("tr");
      // The primary metric's comparison row is marked (the report writes it in bold).
      if (row.some((c) => c.endsWith("(primary)"))) tr.className = "primary";
      row.forEach((c, i) => tr.append(i === 0 ? Object.assign(el("th", c), { scope: "row" }) : el("td", c)));
      body.append(tr);
    }
    section.append(table);
    tables.append(section);
  }
}

function renderOverview(v: ExperimentView): void {
  const head = el("tr");
  for (const h of ["task", "language", ...v.arms]) head.append(Object.assign(el("th", h), { scope: "col" }));
  overview.tHead?.remove();
  overview.createTHead().append(head);
  const body = overview.tBodies[0] ?? overview.createTBody();
  body.replaceChildren();
  taskSelect.replaceChildren();
  for (const t of v.tasks) {
    const tr = el("tr", undefined, "task-row");
    tr.tabIndex = 0;
    tr.dataset.taskId = t.taskId;
    tr.append(Object.assign(el("th", t.taskId), { scope: "row" }), el("td", t.language));
    for (const arm of v.arms) {
      const unit = t.arms.find((u) => u.arm === arm);
      const label = unit ? outcomeLabel(unit) : "—";
      tr.append(el("td", label, `outcome outcome-${label}`));
    }
    tr.addEventListener("click", () => selectTask(t.taskId));
    tr.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        selectTask(t.taskId);
      }
    });
    body.append(tr);
    const option = el("vscode-option" as keyof HTMLElementTagNameMap, t.taskId) as HTMLElement & { value: string };
    option.value = t.taskId;
    taskSelect.append(option);
  }
  overview.hidden = v.tasks.length === 0;
}

function pre(text: string, className: string, label: string): HTMLElement {
  const block = el("pre", text === "" ? "(empty)" : text, className);
  block.setAttribute("aria-label", label);
  return block;
}

function selectTask(taskId: string): void {
  const task = view?.tasks.find((t) => t.taskId === taskId);
  detail.replaceChildren();
  selected = task ? taskId : null;
  for (const row of overview.querySelectorAll<HTMLTableRowElement>("tr.task-row")) row.classList.toggle("selected", row.dataset.taskId === selected);
  if (!task) return;
  if (taskSelect.value !== taskId) taskSelect.value = taskId;
  detail.append(el("h3", task.taskId));
  const prompt = el("vscode-collapsible" as keyof HTMLElementTagNameMap) as HTMLElement;
  prompt.setAttribute("title", "Prompt and reference solution");
  prompt.append(el("h4", "Prompt"), pre(task.prompt, "code", "prompt"), el("h4", "Reference"), pre(task.reference, "code", "reference solution"));
  detail.append(prompt);
  for (const unit of task.arms) {
    const box = el("section", undefined, "arm-detail");
    box.dataset.arm = unit.arm;
    // A baseline's paths are its samples or beams, and its cost is read against the rows it was given.
    const b = unit.budget;
    const paths = b ? `${unit.arm === "sample" ? "samples" : "beams"} ${unit.paths.passed}/${unit.paths.n} passed` : `paths ${unit.paths.passed}/${unit.paths.n} passed (${countText(unit.paths.total)} in all)`;
    const rows = b ? `${unit.rowsDecoded} of ${b.rows} rows (what ${b.matchedTo} decoded)${b.beamWidth !== undefined ? ` · beam width ${b.beamWidth}` : ""}` : `${unit.rowsDecoded} rows decoded`;
    const facts = unit.skipped
      ? `skipped: ${unit.error ?? "not runnable here"}`
      : `${outcomeLabel(unit)} · exact ${unit.exact ? "yes" : "no"} · edit similarity ${unit.editSimilarity.toFixed(3)} · best-of-set ${unit.bestOfSetPass ? "pass" : "fail"} · ${paths} · ${unit.forwardPasses} forward passes · ${rows} · stop ${unit.stopReason}`;
    box.append(el("h4", unit.arm), el("p", facts, `muted facts outcome-${outcomeLabel(unit)}`));
    if (!unit.skipped) box.append(el("h5", "Primary completion"), pre(unit.completion, "code completion", `${unit.arm} completion`), el("h5", "Test output"), pre(unit.output, "output", `${unit.arm} test output`));
    detail.append(box);
  }
}

function render(v: ExperimentView | null): void {
  view = v;
  exportButton.disabled = !v;
  if (!v) {
    tables.replaceChildren();
    detail.replaceChildren();
    overview.hidden = true;
    status.textContent = "No results yet: run TEMPO: Run Completion Experiment.";
    status.dataset.state = "empty";
    return;
  }
  meta.textContent = `${v.model} · ${v.source} · arms ${v.arms.join(", ")} · ${(v.wallMs / 1000).toFixed(1)} s`;
  const skipped = v.skipped.count ? ` ${v.skipped.summary}.` : "";
  status.textContent = `${v.aborted ? "Cancelled: partial results. " : ""}${v.analysed} task${v.analysed === 1 ? "" : "s"} in the paired analysis against ${v.baseline}; primary metric ${v.primaryMetric}.${skipped}`;
  status.dataset.state = v.aborted ? "aborted" : "shown";
  renderTables(v);
  renderOverview(v);
  selectTask(selected && v.tasks.some((t) => t.taskId === selected) ? selected : (v.tasks[0]?.taskId ?? ""));
}

function inspect(requestId: number): void {
  const arms = [...detail.querySelectorAll<HTMLElement>("section.arm-detail")].map((box) => ({
    arm: box.dataset.arm ?? "",
    facts: box.querySelector("p.facts")?.textContent ?? "",
    completion: box.querySelector("pre.completion")?.textContent ?? "",
    output: box.querySelector("pre.output")?.textContent ?? "",
  }));
  // Everything the page builds is one of these; anything else came from text turned into markup.
  const allowed = new Set(["SECTION", "H2", "H3", "H4", "H5", "P", "TABLE", "THEAD", "TBODY", "TR", "TH", "TD", "PRE", "VSCODE-OPTION", "VSCODE-COLLAPSIBLE"]);
  const injected = [...tables.querySelectorAll("*"), ...overview.querySelectorAll("*"), ...detail.querySelectorAll("*"), ...taskSelect.querySelectorAll("*")].some((e) => !allowed.has(e.tagName));
  vscode.postMessage({
    type: "rendered",
    requestId,
    tableRows: [...tables.querySelectorAll("table.stats")].map((t) => (t as HTMLTableElement).tBodies[0]?.rows.length ?? 0),
    taskRows: overview.tBodies[0]?.rows.length ?? 0,
    drillDown: selected ? { taskId: selected, arms } : null,
    hasInjectedElement: injected,
  });
}

window.addEventListener("message", (event: MessageEvent<unknown>) => {
  const msg = parseExperimentExtensionMessage(event.data);
  if (!msg) return;
  if (msg.type === "show") render(msg.view);
  else if (msg.type === "selectTask") selectTask(msg.taskId);
  else inspect(msg.requestId);
});

vscode.postMessage({ type: "ready", elements: USED_ELEMENTS.filter((name) => customElements.get(name) !== undefined) });
