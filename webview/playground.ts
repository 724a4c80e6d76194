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
import "@vscode-elements/elements/dist/vscode-radio-group/index.js";
import "@vscode-elements/elements/dist/vscode-radio/index.js";
import "@vscode-elements/elements/dist/vscode-tabs/index.js";
import "@vscode-elements/elements/dist/vscode-tab-header/index.js";
import "@vscode-elements/elements/dist/vscode-tab-panel/index.js";
import "@vscode-elements/elements/dist/vscode-tree/index.js";
import "@vscode-elements/elements/dist/vscode-tree-item/index.js";
import "@vscode-elements/elements/dist/vscode-checkbox/index.js";
import { PLAYGROUND_VIEWS, parseExtensionMessage, type GenerationSettings, type StepEventMessage, type WebviewMessage } from "./protocol.js";
import { MAX_HISTORY_RUNS, collapseContinuation, historyLabel, readState, runKey, stateToStore, type PlaygroundState, type RunRecord } from "./playground-state.js";
import { byId, type ValueElement } from "./playground-dom.js";
import { SettingsForm } from "./playground-settings.js";
import { TextView } from "./playground-text.js";
import { StepsTable } from "./playground-table.js";
import { TreeView } from "./playground-tree.js";
import { MemberTip } from "./playground-tip.js";

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const USED_ELEMENTS = [
  "vscode-textarea", "vscode-label", "vscode-button", "vscode-textfield", "vscode-single-select", "vscode-option",
  "vscode-radio-group", "vscode-radio", "vscode-tabs", "vscode-tab-header", "vscode-tab-panel", "vscode-tree", "vscode-tree-item",
  "vscode-checkbox",
];

// acquireVsCodeApi may be called once per page.
const vscode = acquireVsCodeApi();

// Report CSP violations so tests (and the log) see a too-strict or too-loose policy at once.
document.addEventListener("securitypolicyviolation", (e) => {
  vscode.postMessage({ type: "cspViolation", directive: e.violatedDirective, blockedUri: e.blockedURI });
});

const status = byId("status");
const modelLine = byId("model");
const prompt = byId<ValueElement>("prompt");
const output = byId("output");
const runButton = byId<ValueElement>("run");
const stopButton = byId<ValueElement>("stop");
const exportButton = byId<ValueElement>("export");
const attentionBox = byId<HTMLElement & { checked: boolean }>("attention");
const views = byId<HTMLElement & { selectedIndex: number }>("views");
const tree = byId("tree");
const historyList = byId("history");
const historyCount = byId("history-count");
const TREE_TAB = PLAYGROUND_VIEWS.indexOf("tree");
const STEPS_TAB = PLAYGROUND_VIEWS.indexOf("steps");

// The page's sections, each owning its state (webview/playground-*.ts).
const form = new SettingsForm();
const text = new TextView(output);
const table = new StepsTable(byId<HTMLTableElement>("steps").tBodies[0], () => views.selectedIndex === STEPS_TAB);
const treeView = new TreeView(tree, () => views.selectedIndex === TREE_TAB);
const tip = new MemberTip(byId("tip"), output, memberOf);

function setStatus(message: string, state: string): void {
  status.textContent = message;
  status.dataset.state = state;
}

function setModelLine(model: { fileName: string; backend?: string; chatTemplate?: boolean }): void {
  modelLine.textContent = `${model.fileName}${model.backend ? ` · ${model.backend}` : ""}`;
  form.setChatTemplate(model.chatTemplate);
}

// ------------------------------------------------------------------ stored state (survives reloads)
const stored = readState(vscode.getState());
if (stored.problem) vscode.postMessage({ type: "log", level: "warn", message: `playground: ${stored.problem}` });
/** Runs shown in this panel, oldest first (bounded only when stored). */
const history: RunRecord[] = stored.state.history;
let saveTimer: ReturnType<typeof setTimeout> | undefined;

/** Debounced: the history can be megabytes, and typing saves too. */
function saveState(): void {
  if (saveTimer) return;
  saveTimer = setTimeout(() => {
    saveTimer = undefined;
    let settings: GenerationSettings | undefined;
    try {
      settings = form.read();
    } catch {
      settings = undefined;
    }
    const state: PlaygroundState = { prompt: prompt.value, format: form.readFormat(), reading: stored.state.reading, history, ...(settings ? { settings } : {}), ...(shown ? { shownKey: shown.key } : {}) };
    vscode.setState(stateToStore(state));
  }, 300);
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
/** The run on screen (from the history). */
let shown: RunRecord | undefined;
/** The run the engine is streaming (or last streamed) in this page's life. */
let live: RunRecord | undefined;
/** The run whose capture the extension can still export (not one restored after a reload). */
let exportableKey: string | undefined;
let running = false;
/** Step batches of the live run waiting for the next frame (messages arrive every ~25 ms). */
let queued: StepEventMessage[] = [];
let frameScheduled = false;

function setRunning(on: boolean): void {
  running = on;
  runButton.disabled = on;
  stopButton.disabled = !on;
  if (on) exportButton.disabled = true;
}

/** The prompt as the model saw it (chat markup included) once the engine said, else as typed. */
function promptText(run: RunRecord): string {
  return run.rendered?.text ?? run.prompt;
}

function chatNote(run: RunRecord): string {
  const chat = run.rendered?.chat;
  if (!chat) return "";
  return ` Chat format: ${chat.wrapper}${chat.fromTemplate ? " (the model's own template)." : " (generic: the GGUF has no usable chat template)."}`;
}

/** The status line for a run that is not streaming. */
function describe(run: RunRecord): string {
  const kept = run.stepsDropped ? ` Showing the first ${run.steps.length} steps; ${run.stepsDropped} more were not kept across the reload.` : "";
  if (run.summary) {
    const s = run.summary;
    return `Done (${s.stopReason}): ${s.steps} steps in ${s.seconds.toFixed(2)} s, ${s.stepsPerSecond.toFixed(1)} steps/s on ${s.backend}.${chatNote(run)}${kept}`;
  }
  if (run.error) return run.error;
  return `Ended early (the window reloaded during the run): ${run.steps.length} steps.${kept}`;
}

/** Puts `run` on screen: its prompt, every step, and (when open) its tree and table. */
function show(run: RunRecord): void {
  shown = run;
  text.reset(promptText(run));
  table.reset();
  treeView.reset();
  tip.hide();
  renderNewSteps(0);
  exportButton.disabled = running || exportableKey !== run.key;
  if (run === live && running) setStatus(`Generating... ${run.steps.length} steps`, "running");
  else setStatus(describe(run), run.error ? "error" : "done");
  renderHistory();
  saveState();
}

// The tree and the table are built when their tab opens.
views.addEventListener("vsc-tabs-select", () => {
  tip.hide();
  const steps = shown?.steps ?? [];
  treeView.sync(steps);
  table.sync(steps);
});

// ------------------------------------------------------------------ run history
function renderHistory(): void {
  historyCount.textContent = String(history.length);
  const items = [...history].reverse().map((run) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "history-item";
    button.textContent = historyLabel(run);
    if (run === shown) button.setAttribute("aria-current", "true");
    button.addEventListener("click", () => show(run));
    li.append(button);
    return li;
  });
  historyList.replaceChildren(...items);
}

/** Renders the shown run's steps from `from` on (text always; tree and table when open). */
function renderNewSteps(from: number): void {
  if (!shown) return;
  text.append(shown.steps.slice(from));
  table.sync(shown.steps);
  treeView.sync(shown.steps);
}

function flushQueued(): void {
  frameScheduled = false;
  if (!live || queued.length === 0) return;
  const from = live.steps.length;
  const arrived = queued;
  live.steps.push(...arrived);
  queued = [];
  text.applyPruning(live, arrived, shown === live);
  if (shown !== live) return;
  renderNewSteps(from);
  setStatus(`Generating... ${live.steps.length} steps`, "running");
}

function enqueueSteps(runId: number, steps: StepEventMessage[]): void {
  if (!live || live.runId !== runId) return;
  queued.push(...steps);
  if (!frameScheduled) {
    frameScheduled = true;
    requestAnimationFrame(flushQueued);
  }
}

// ------------------------------------------------------------------ hover / focus details
function memberOf(target: EventTarget | null): { step: StepEventMessage; member: number; el: HTMLElement } | undefined {
  const el = (target as HTMLElement | null)?.closest?.<HTMLElement>("[data-step]");
  if (!el || !shown) return undefined;
  const step = shown.steps[Number(el.dataset.step)];
  const member = Number(el.dataset.member);
  if (!step || !step.candidates[member]) return undefined;
  return { step, member, el };
}

for (const view of [output, tree]) {
  view.addEventListener("mouseover", (e) => tip.show(e.target));
  view.addEventListener("mouseleave", () => tip.hide());
  view.addEventListener("focusin", (e) => tip.show(e.target));
  view.addEventListener("focusout", () => tip.hide());
}

// "Collapse and continue" from a chip or a tree member: a new run that commits the primary path
// up to this step and then the chosen member (see collapseContinuation).
function collapseAndContinue(target: EventTarget | null): void {
  const hit = memberOf(target);
  if (!hit || !shown || running) return;
  const next = collapseContinuation(shown, hit.step.index, hit.member);
  if (next?.format === "chat") {
    requestRun(next);
  } else if (next) {
    prompt.value = next.prompt;
    saveState();
    requestRun();
  }
}
output.addEventListener("click", (e) => collapseAndContinue(e.target));
output.addEventListener("keydown", (e) => {
  if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    collapseAndContinue(e.target);
  } else if (e.key === "Escape") {
    tip.hide();
  }
});
// A tree item stops its click from bubbling, and the tree handles Enter / Space itself; both end
// in a "vsc-tree-select" event for that item, so a set member's click or Enter arrives here.
tree.addEventListener("vsc-tree-select", (e) => collapseAndContinue(selectedTreeItem(e.detail)));

/**
 * The item of a "vsc-tree-select" event. @vscode-elements/elements 2.5.1 declares the detail as
 * { selectedItems } but dispatches the array of selected items itself; both shapes are read.
 */
function selectedTreeItem(detail: unknown): HTMLElement | null {
  const items = Array.isArray(detail) ? detail : (detail as { selectedItems?: unknown } | null)?.selectedItems;
  const first: unknown = Array.isArray(items) ? items[0] : undefined;
  return first instanceof HTMLElement ? first : null;
}

// ------------------------------------------------------------------ actions
/** Runs the prompt box's text; a chat continuation passes the run's own prompt and the reply so far. */
function requestRun(continuation?: { prompt: string; responsePrefix: string }): void {
  let settings: GenerationSettings;
  try {
    settings = form.read();
  } catch (e) {
    setStatus((e as Error).message, "error");
    return;
  }
  if (prompt.value.length === 0) {
    setStatus("Write a prompt first.", "error");
    return;
  }
  const format = continuation ? "chat" : form.readFormat();
  vscode.postMessage({ type: "run", prompt: continuation?.prompt ?? prompt.value, settings, format, attention: attentionBox.checked, ...(continuation ? { responsePrefix: continuation.responsePrefix } : {}) });
}
runButton.addEventListener("click", () => requestRun());
stopButton.addEventListener("click", () => vscode.postMessage({ type: "stop" }));
exportButton.addEventListener("click", () => vscode.postMessage({ type: "exportCapture" }));
prompt.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === "Enter") requestRun();
});
byId("format").addEventListener("change", () => {
  form.syncFormatHint();
  saveState();
});
for (const el of [prompt, ...Object.values(form.fields)]) {
  el.addEventListener("input", () => { form.syncSchedule(); saveState(); });
  el.addEventListener("change", () => {
    form.syncSchedule();
    saveState();
  });
}

// Restore the prompt, controls, history and the run on screen (webview state survives reloads
// through the panel serializer).
prompt.value = stored.state.prompt;
const restored = stored.state.settings !== undefined;
if (stored.state.settings) form.write(stored.state.settings);
form.writeFormat(stored.state.format);
const restoredRun = history.find((r) => r.key === stored.state.shownKey) ?? history[history.length - 1];
if (restoredRun) show(restoredRun);
else renderHistory();

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
      if (msg.defaults && !restored) form.write(msg.defaults);
      if (msg.model) setModelLine(msg.model);
      if (!running && !shown) setStatus(`Connected to TEMPO ${msg.extensionVersion}.`, "connected");
      break;
    case "model":
      setModelLine(msg.model);
      break;
    case "setPrompt":
      prompt.value = msg.prompt;
      saveState();
      break;
    case "runStarted": {
      const key = runKey(msg.startedAt, msg.runId);
      queued = [];
      let run = history.find((r) => r.key === key);
      const replay = run !== undefined;
      if (run) {
        // The extension replays its current run to a re-created page: refill that entry.
        run.steps = [];
        run.stepsDropped = 0;
        run.summary = undefined;
        run.error = undefined;
      } else {
        run = { key, runId: msg.runId, startedAt: msg.startedAt, prompt: msg.prompt, settings: msg.settings, format: msg.format, steps: [], stepsDropped: 0, ...(msg.responsePrefix ? { responsePrefix: msg.responsePrefix } : {}) };
        history.push(run);
        if (history.length > MAX_HISTORY_RUNS) history.splice(0, history.length - MAX_HISTORY_RUNS);
        prompt.value = msg.prompt;
        form.write(msg.settings);
        form.writeFormat(msg.format);
      }
      live = run;
      setRunning(true);
      // A new run goes on screen; a replay only if nothing else is shown.
      if (!replay || !shown || shown === run) {
        show(run);
        setStatus("Starting...", "running");
      } else {
        renderHistory();
      }
      break;
    }
    case "promptRendered":
      if (live?.runId !== msg.runId) break;
      live.rendered = msg.prompt;
      if (shown === live) output.querySelector(".prompt-text")!.textContent = promptText(live);
      break;
    case "progress":
      if (live?.runId === msg.runId && shown === live) setStatus(msg.message, "running");
      break;
    case "steps":
      enqueueSteps(msg.runId, msg.steps);
      break;
    case "runDone":
    case "runError": {
      if (live?.runId !== msg.runId) break;
      flushQueued();
      setRunning(false);
      if (msg.type === "runDone") {
        live.summary = msg.run;
        exportableKey = msg.exportable ? live.key : undefined;
      } else {
        live.error = msg.message;
      }
      if (shown === live) show(live);
      else renderHistory();
      saveState();
      break;
    }
    case "inspect": {
      flushQueued();
      if (msg.view) {
        views.selectedIndex = PLAYGROUND_VIEWS.indexOf(msg.view);
        const steps = shown?.steps ?? [];
        treeView.sync(steps);
        table.sync(steps);
      }
      const selectedView = [output, tree, table.body][views.selectedIndex] ?? output;
      vscode.postMessage({
        type: "rendered",
        requestId: msg.requestId,
        chips: output.querySelectorAll(".chip").length,
        prunedChips: output.querySelectorAll(".chip.pruned").length,
        text: selectedView.textContent ?? "",
        // Anything but our own spans inside the output means model text became markup.
        hasInjectedElement: output.querySelector(":not(span)") !== null || tree.querySelector(":not(vscode-tree-item, span)") !== null,
        longestTaskMs,
        parseMs,
        history: [...historyList.querySelectorAll(".history-item")].map((b) => b.textContent ?? ""),
        treeItems: tree.querySelectorAll("vscode-tree-item").length,
      });
      break;
    }
  }
});

// Say "ready" only after the elements are defined, so the extension never posts into a page
// that cannot render yet.
void Promise.all(USED_ELEMENTS.map((name) => customElements.whenDefined(name))).then(() => {
  form.syncSchedule();
  form.syncFormatHint();
  const theme = [...document.body.classList].find((c) => c.startsWith("vscode-")) ?? "unknown";
  vscode.postMessage({ type: "ready", elements: USED_ELEMENTS.filter((n) => customElements.get(n)), theme });
});
