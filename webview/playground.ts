// Playground webview entry (bundled to dist/webview/playground.js, loaded with the page's nonce).
// Import only the components the page uses: each import registers one custom element.
// Model text is untrusted: it is only ever put into the page with textContent, never innerHTML.
import "./zod-csp.js"; // first: before any zod schema is built
import "@vscode-elements/elements/dist/vscode-textarea/index.js";
import "@vscode-elements/elements/dist/vscode-label/index.js";
import "@vscode-elements/elements/dist/vscode-button/index.js";
import "@vscode-elements/elements/dist/vscode-textfield/index.js";
import "@vscode-elements/elements/dist/vscode-single-select/index.js";
import "@vscode-elements/elements/dist/vscode-option/index.js";
import { parseExtensionMessage, type GenerationSettings, type StepEventMessage, type WebviewMessage } from "./protocol.js";
import { probabilityBin, visibleText, formatProb } from "./render.js";

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const USED_ELEMENTS = ["vscode-textarea", "vscode-label", "vscode-button", "vscode-textfield", "vscode-single-select", "vscode-option"];

// acquireVsCodeApi may be called once per page.
const vscode = acquireVsCodeApi();

// Report CSP violations so tests (and the log) see a too-strict or too-loose policy at once.
document.addEventListener("securitypolicyviolation", (e) => {
  vscode.postMessage({ type: "cspViolation", directive: e.violatedDirective, blockedUri: e.blockedURI });
});

type ValueElement = HTMLElement & { value: string; disabled: boolean };
const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`playground: #${id} is missing`);
  return el as T;
};
const status = byId("status");
const modelLine = byId("model");
const prompt = byId<ValueElement>("prompt");
const output = byId("output");
const tip = byId("tip");
const tableBody = byId<HTMLTableElement>("steps").tBodies[0];
const runButton = byId<ValueElement>("run");
const stopButton = byId<ValueElement>("stop");
const exportButton = byId<ValueElement>("export");
const fields = {
  mode: byId<ValueElement>("mode"),
  policy: byId<ValueElement>("policy"),
  threshold: byId<ValueElement>("threshold"),
  schedule: byId<ValueElement>("schedule"),
  thresholdEnd: byId<ValueElement>("thresholdEnd"),
  maxWidth: byId<ValueElement>("maxWidth"),
  maxSteps: byId<ValueElement>("maxSteps"),
  temperature: byId<ValueElement>("temperature"),
  stops: byId<ValueElement>("stops"),
};
const NUMBER_FIELDS = ["threshold", "thresholdEnd", "maxWidth", "maxSteps", "temperature"] as const;
const SELECT_FIELDS = ["mode", "policy", "schedule"] as const;

function setStatus(text: string, state: string): void {
  status.textContent = text;
  status.dataset.state = state;
}

// ------------------------------------------------------------------ settings <-> controls
/** Reads the controls; an empty number field means "the default". Throws on a non-number. */
function readSettings(): GenerationSettings {
  const s: GenerationSettings = {};
  for (const k of SELECT_FIELDS) if (fields[k].value) s[k] = fields[k].value;
  for (const k of NUMBER_FIELDS) {
    if (k === "thresholdEnd" && fields.schedule.value !== "linear") continue;
    const raw = fields[k].value.trim();
    if (raw === "") continue;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`${k} is not a number: ${raw}`);
    s[k] = n;
  }
  // One stop string per line; "\n" typed as two characters stands for a newline.
  s.stopStrings = fields.stops.value.split("\n").filter((l) => l.length > 0).map((l) => l.replace(/\\n/g, "\n"));
  return s;
}

function writeSettings(s: GenerationSettings): void {
  for (const k of SELECT_FIELDS) if (s[k] !== undefined) fields[k].value = String(s[k]);
  for (const k of NUMBER_FIELDS) if (s[k] !== undefined) fields[k].value = String(s[k]);
  if (s.stopStrings) fields.stops.value = s.stopStrings.map((x) => x.replace(/\n/g, "\\n")).join("\n");
  syncScheduleField();
}

function syncScheduleField(): void {
  fields.thresholdEnd.disabled = fields.schedule.value !== "linear";
}

function saveState(): void {
  let settings: GenerationSettings | undefined;
  try {
    settings = readSettings();
  } catch {
    settings = undefined;
  }
  vscode.setState({ prompt: prompt.value, settings });
}

// The longest main-thread task, for the streaming benchmark in the in-host tests.
let longestTaskMs = 0;
let parseMs = 0;
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longestTaskMs = Math.max(longestTaskMs, e.duration);
  }).observe({ type: "longtask", buffered: true });
} catch {
  // No long-task timing in this browser: reported as 0.
}

// ------------------------------------------------------------------ the run on screen
interface RunView {
  runId: number;
  prompt: string;
  steps: StepEventMessage[];
}
let current: RunView | undefined;
let running = false;
/** Step batches waiting for the next frame (messages arrive every ~25 ms). */
let queued: StepEventMessage[] = [];
let frameScheduled = false;

function setRunning(on: boolean): void {
  running = on;
  runButton.disabled = on;
  stopButton.disabled = !on;
  if (on) exportButton.disabled = true;
}

function startRun(runId: number, text: string): void {
  current = { runId, prompt: text, steps: [] };
  queued = [];
  output.replaceChildren();
  tableBody.replaceChildren();
  tableRows = 0;
  hideTip();
  const p = document.createElement("span");
  p.className = "prompt-text";
  p.textContent = text;
  output.append(p);
  setRunning(true);
}

function renderStep(step: StepEventMessage, into: DocumentFragment): void {
  if (step.candidates.length === 1) {
    const tok = document.createElement("span");
    tok.className = "tok";
    tok.dataset.step = String(step.index);
    tok.dataset.member = "0";
    tok.textContent = step.candidates[0].text;
    into.append(tok);
  } else {
    const set = document.createElement("span");
    set.className = "set";
    set.setAttribute("role", "group");
    set.setAttribute("aria-label", `step ${step.index}: ${step.candidates.length} parallel tokens`);
    step.candidates.forEach((c, j) => {
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.tabIndex = 0;
      chip.setAttribute("role", "button");
      chip.setAttribute("aria-label", `${visibleText(c.text)}, p ${formatProb(c.prob)}, rank ${c.rank}; Enter collapses the set to this token and continues`);
      chip.dataset.step = String(step.index);
      chip.dataset.member = String(j);
      chip.dataset.pbin = String(probabilityBin(c.prob));
      chip.textContent = visibleText(c.text);
      set.append(chip);
    });
    into.append(set);
  }
}

function tableRow(step: StepEventMessage): HTMLTableRowElement {
  const tr = document.createElement("tr");
  const cells = [
    String(step.index),
    String(step.position),
    step.candidates.map((c) => `${visibleText(c.text)} ${formatProb(c.prob)}`).join("  |  "),
    step.setMass.toFixed(3),
    step.entropy.toFixed(3),
    step.threshold.toFixed(3),
    step.timings.decodeMs.toFixed(1),
  ];
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

// The step table is built only while it is open (it is three times the DOM of the output).
const tableDetails = byId<HTMLDetailsElement>("table-details");
let tableRows = 0;
function syncTable(): void {
  if (!tableDetails.open || !current) return;
  const rows = document.createDocumentFragment();
  for (; tableRows < current.steps.length; tableRows++) rows.append(tableRow(current.steps[tableRows]));
  tableBody.append(rows);
}
tableDetails.addEventListener("toggle", syncTable);

function flushQueued(): void {
  frameScheduled = false;
  if (!current || queued.length === 0) return;
  const into = document.createDocumentFragment();
  for (const step of queued) {
    current.steps.push(step);
    renderStep(step, into);
  }
  queued = [];
  output.append(into);
  syncTable();
  setStatus(`Generating... ${current.steps.length} steps`, "running");
}

function enqueueSteps(runId: number, steps: StepEventMessage[]): void {
  if (!current || current.runId !== runId) return;
  queued.push(...steps);
  if (!frameScheduled) {
    frameScheduled = true;
    requestAnimationFrame(flushQueued);
  }
}

// ------------------------------------------------------------------ hover / focus details
function memberOf(target: EventTarget | null): { step: StepEventMessage; member: number; el: HTMLElement } | undefined {
  const el = (target as HTMLElement | null)?.closest?.<HTMLElement>("[data-step]");
  if (!el || !current) return undefined;
  const step = current.steps[Number(el.dataset.step)];
  const member = Number(el.dataset.member);
  if (!step || !step.candidates[member]) return undefined;
  return { step, member, el };
}

function row(label: string, value: string): HTMLElement {
  const div = document.createElement("div");
  const b = document.createElement("b");
  b.textContent = `${label} `;
  const span = document.createElement("span");
  span.textContent = value;
  div.append(b, span);
  return div;
}

function showTip(target: EventTarget | null): void {
  const hit = memberOf(target);
  if (!hit) return;
  const { step, member, el } = hit;
  const c = step.candidates[member];
  const inSet = new Set(step.candidates.map((x) => x.token));
  const runnersUp = step.top.filter((t) => !inSet.has(t.token)).slice(0, 5);
  const title = document.createElement("div");
  title.className = "tip-title";
  title.textContent = visibleText(c.text);
  const list = document.createElement("ol");
  list.className = "runners-up";
  for (const t of runnersUp) {
    const li = document.createElement("li");
    li.textContent = `${visibleText(t.text)}  ${formatProb(t.prob)}`;
    list.append(li);
  }
  tip.replaceChildren(
    title,
    row("probability", formatProb(c.prob)),
    row("log-probability", c.logprob.toFixed(3)),
    row("rank", String(c.rank)),
    row("step", `${step.index} (position ${step.position}, ${step.candidates.length} in set, mass ${step.setMass.toFixed(3)})`),
    row("entropy", `${step.entropy.toFixed(3)} nats`),
    row("threshold", step.threshold.toFixed(3)),
    row("runner-ups", runnersUp.length ? "" : "none"),
    ...(runnersUp.length ? [list] : []),
  );
  tip.hidden = false;
  el.setAttribute("aria-describedby", "tip");
  // Positioned through the CSSOM (allowed by the CSP; inline style attributes are not).
  const r = el.getBoundingClientRect();
  tip.style.left = `${Math.max(4, Math.min(r.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 8))}px`;
  tip.style.top = `${r.bottom + window.scrollY + 4}px`;
}

function hideTip(): void {
  tip.hidden = true;
}

output.addEventListener("mouseover", (e) => showTip(e.target));
output.addEventListener("mouseleave", hideTip);
output.addEventListener("focusin", (e) => showTip(e.target));
output.addEventListener("focusout", hideTip);

// "Collapse and continue": a new run whose prompt commits the primary path up to this step and
// then the chosen member.
function collapseAndContinue(target: EventTarget | null): void {
  const hit = memberOf(target);
  if (!hit || !current || running || !hit.el.classList.contains("chip")) return;
  const path = current.steps.slice(0, hit.step.index).map((s) => s.candidates[0].text).join("");
  prompt.value = current.prompt + path + hit.step.candidates[hit.member].text;
  saveState();
  requestRun();
}
output.addEventListener("click", (e) => collapseAndContinue(e.target));
output.addEventListener("keydown", (e) => {
  if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    collapseAndContinue(e.target);
  } else if (e.key === "Escape") {
    hideTip();
  }
});

// ------------------------------------------------------------------ actions
function requestRun(): void {
  let settings: GenerationSettings;
  try {
    settings = readSettings();
  } catch (e) {
    setStatus((e as Error).message, "error");
    return;
  }
  if (prompt.value.length === 0) {
    setStatus("Write a prompt first.", "error");
    return;
  }
  vscode.postMessage({ type: "run", prompt: prompt.value, settings });
}
runButton.addEventListener("click", requestRun);
stopButton.addEventListener("click", () => vscode.postMessage({ type: "stop" }));
exportButton.addEventListener("click", () => vscode.postMessage({ type: "exportCapture" }));
prompt.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === "Enter") requestRun();
});
for (const el of [prompt, ...Object.values(fields)]) {
  el.addEventListener("input", saveState);
  el.addEventListener("change", () => {
    syncScheduleField();
    saveState();
  });
}

// Restore the prompt and settings across reloads (webview state survives with the serializer).
const saved = vscode.getState() as { prompt?: unknown; settings?: GenerationSettings } | undefined;
let restored = false;
if (saved && typeof saved === "object") {
  if (typeof saved.prompt === "string") prompt.value = saved.prompt;
  if (saved.settings && typeof saved.settings === "object") {
    writeSettings(saved.settings);
    restored = true;
  }
}

window.addEventListener("message", (event: MessageEvent<unknown>) => {
  const t0 = performance.now();
  const msg = parseExtensionMessage(event.data);
  parseMs += performance.now() - t0;
  if (!msg) {
    console.warn("TEMPO playground: ignored an unknown message");
    return;
  }
  switch (msg.type) {
    case "init":
      if (msg.defaults && !restored) writeSettings(msg.defaults);
      if (msg.model) modelLine.textContent = `${msg.model.fileName}${msg.model.backend ? ` · ${msg.model.backend}` : ""}`;
      if (!running) setStatus(`Connected to TEMPO ${msg.extensionVersion}.`, "connected");
      break;
    case "model":
      modelLine.textContent = `${msg.model.fileName}${msg.model.backend ? ` · ${msg.model.backend}` : ""}`;
      break;
    case "setPrompt":
      prompt.value = msg.prompt;
      saveState();
      break;
    case "runStarted":
      startRun(msg.runId, msg.prompt);
      prompt.value = msg.prompt;
      writeSettings(msg.settings);
      saveState();
      setStatus("Starting...", "running");
      break;
    case "progress":
      if (current?.runId === msg.runId) setStatus(msg.message, "running");
      break;
    case "steps":
      enqueueSteps(msg.runId, msg.steps);
      break;
    case "runDone":
      if (current?.runId !== msg.runId) break;
      flushQueued();
      setRunning(false);
      exportButton.disabled = !msg.exportable;
      setStatus(
        `Done (${msg.run.stopReason}): ${msg.run.steps} steps in ${msg.run.seconds.toFixed(2)} s, ${msg.run.stepsPerSecond.toFixed(1)} steps/s on ${msg.run.backend}.`,
        "done",
      );
      break;
    case "runError":
      if (current?.runId !== msg.runId) break;
      flushQueued();
      setRunning(false);
      setStatus(msg.message, "error");
      break;
    case "inspect": {
      flushQueued();
      vscode.postMessage({
        type: "rendered",
        requestId: msg.requestId,
        chips: output.querySelectorAll(".chip").length,
        text: output.textContent ?? "",
        // Anything but our own spans inside the output means model text became markup.
        hasInjectedElement: output.querySelector(":not(span)") !== null,
        longestTaskMs,
        parseMs,
      });
      break;
    }
  }
});

// Say "ready" only after the elements are defined, so the extension never posts into a page
// that cannot render yet.
void Promise.all(USED_ELEMENTS.map((name) => customElements.whenDefined(name))).then(() => {
  syncScheduleField();
  const theme = [...document.body.classList].find((c) => c.startsWith("vscode-")) ?? "unknown";
  vscode.postMessage({ type: "ready", elements: USED_ELEMENTS.filter((n) => customElements.get(n)), theme });
});
