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
import { DEFAULT_READING_MODE, MAX_HISTORY_RUNS, READING_MODES, collapseContinuation, forcedContinuation, historyLabel, readState, runKey, stateToStore, type Continuation, type ParentLink, type PlaygroundState, type RunRecord } from "./playground-state.js";
import { branchParent, type PendingBranch } from "./run-tree.js";
import { Breadcrumbs } from "./playground-crumbs.js";
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
const text = new TextView(output, DEFAULT_READING_MODE);
const table = new StepsTable(byId<HTMLTableElement>("steps").tBodies[0], () => views.selectedIndex === STEPS_TAB);
const treeView = new TreeView(tree, () => views.selectedIndex === TREE_TAB, () => history);
const crumbs = new Breadcrumbs(byId("breadcrumbs"), (key) => {
  const run = history.find((r) => r.key === key);
  if (run) show(run);
});
const tip = new MemberTip(byId("tip"), output, memberOf, forceRunnerUp);

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
    const state: PlaygroundState = { prompt: prompt.value, format: form.readFormat(), reading: text.reading, history, ...(settings ? { settings } : {}), ...(shown ? { shownKey: shown.key } : {}) };
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
  crumbs.render(history, run.key);
  exportButton.disabled = running || exportableKey !== run.key;
  if (run === live && running) setStatus(`Generating... ${run.steps.length} steps`, "running");
  else setStatus(describe(run), run.error ? "error" : "done");
  renderHistory();
  saveState();
}

// The tree and the table are built when their tab opens.
views.addEventListener("vsc-tabs-select", () => {
  tip.hide();
  treeView.sync(shown);
  table.sync(shown?.steps ?? []);
});

// ------------------------------------------------------------------ reading mode (Text tab)
const readingRadios = [...document.querySelectorAll<HTMLElement & { checked: boolean; value: string }>("#reading vscode-radio")];
const legends = [...document.querySelectorAll<HTMLElement>(".legend[data-reading]")];

/** Shows the Text tab in `mode`, with the legend of that mode's marks, and redraws the shown run. */
function setReading(mode: PlaygroundState["reading"]): void {
  text.reading = mode;
  for (const r of readingRadios) r.checked = r.value === mode;
  for (const l of legends) l.hidden = l.dataset.reading !== mode;
  if (!shown) return;
  tip.hide();
  text.reset(promptText(shown));
  text.append(shown.steps);
}
byId("reading").addEventListener("change", () => {
  const mode = READING_MODES.find((m) => readingRadios.some((r) => r.checked && r.value === m));
  if (mode && mode !== text.reading) {
    setReading(mode);
    saveState();
  }
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
  treeView.sync(shown);
}

function flushQueued(): void {
  frameScheduled = false;
  if (!live || queued.length === 0) return;
  const from = live.steps.length;
  const arrived = queued;
  live.steps.push(...arrived);
  queued = [];
  text.applyPruning(live, arrived, shown === live);
  if (shown !== live) {
    // The shown run's tree may hold the live run (a branch streaming while its parent is shown).
    treeView.sync(shown);
    return;
  }
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
/** The run an element draws: a tree item names its run (the tree holds a run's branches too); the text is the shown run. */
function runOf(el: HTMLElement): RunRecord | undefined {
  const key = el.dataset.run;
  return key === undefined ? shown : history.find((r) => r.key === key);
}

function memberOf(target: EventTarget | null): { run: RunRecord; step: StepEventMessage; member: number; el: HTMLElement } | undefined {
  const el = (target as HTMLElement | null)?.closest?.<HTMLElement>("[data-step]");
  const run = el && runOf(el);
  if (!el || !run) return undefined;
  const step = run.steps[Number(el.dataset.step)];
  const member = Number(el.dataset.member);
  if (!step || !step.candidates[member]) return undefined;
  return { run, step, member, el };
}

tip.attach(output);
tip.attach(tree);

// A branch: a new run that commits the primary path up to a step and then a chosen token, linked
// to the run it came from. "Collapse and continue" chooses a set member (a chip or a tree member;
// see collapseContinuation); the hover forces a runner-up (see forcedContinuation). The prompt
// box keeps what the user wrote: the branch's prompt is in its run record.
/** The branch asked for, until the extension starts it. */
let pendingBranch: PendingBranch | undefined;
function startBranch(continuation: Continuation | undefined, parent: ParentLink): void {
  if (continuation && !running && requestRun(continuation)) pendingBranch = { parent, continuation };
}
function collapseAndContinue(target: EventTarget | null): void {
  const hit = memberOf(target);
  if (hit) startBranch(collapseContinuation(hit.run, hit.step.index, hit.member), { key: hit.run.key, step: hit.step.index, member: hit.member });
}
function forceRunnerUp(anchor: HTMLElement, token: number): void {
  const hit = memberOf(anchor);
  const forced = hit && forcedContinuation(hit.run, hit.step.index, token);
  if (hit && forced) startBranch(forced.continuation, { key: hit.run.key, step: hit.step.index, forced: forced.forced });
}
// Only a chip: a mark in the code reading is the primary path already (its members are chosen as chips or in the tree).
const onChip = (e: Event) => (e.target as HTMLElement | null)?.closest?.(".chip") != null;
output.addEventListener("click", (e) => {
  if (onChip(e)) collapseAndContinue(e.target);
});
output.addEventListener("keydown", (e) => {
  if ((e.key === "Enter" || e.key === " ") && onChip(e)) {
    e.preventDefault();
    collapseAndContinue(e.target);
  } else if (e.key === "Escape") {
    tip.hide();
  }
});
// A tree item stops its click from bubbling, and the tree handles Enter / Space itself; both end
// in a "vsc-tree-select" event for that item, so a set member's click or Enter arrives here.
// A member collapses and continues; any other item of another run (a branch, its text or forks) shows that run.
tree.addEventListener("vsc-tree-select", (e) => {
  const item = selectedTreeItem(e.detail);
  if (!item) return;
  if (item.dataset.step !== undefined) {
    collapseAndContinue(item);
    return;
  }
  const run = runOf(item);
  if (run && run !== shown) show(run);
});

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
/** Runs the prompt box's text, or a continuation (a branch); false when the form refused. */
function requestRun(continuation?: Continuation): boolean {
  let settings: GenerationSettings;
  try {
    settings = form.read();
  } catch (e) {
    setStatus((e as Error).message, "error");
    return false;
  }
  if (!continuation && prompt.value.length === 0) {
    setStatus("Write a prompt first.", "error");
    return false;
  }
  const { format, prompt: text } = continuation ?? { format: form.readFormat(), prompt: prompt.value };
  vscode.postMessage({ type: "run", prompt: text, settings, format, attention: attentionBox.checked, ...(continuation?.format === "chat" ? { responsePrefix: continuation.responsePrefix } : {}) });
  return true;
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
  el.addEventListener("input", () => { form.sync(); saveState(); });
  el.addEventListener("change", () => {
    form.sync();
    saveState();
  });
}

// Restore the prompt, controls, history and the run on screen (webview state survives reloads
// through the panel serializer).
prompt.value = stored.state.prompt;
const restored = stored.state.settings !== undefined;
if (stored.state.settings) form.write(stored.state.settings);
form.writeFormat(stored.state.format);
setReading(stored.state.reading);
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
        const parent = branchParent(pendingBranch, msg);
        run = { key, runId: msg.runId, startedAt: msg.startedAt, prompt: msg.prompt, settings: msg.settings, format: msg.format, steps: [], stepsDropped: 0, ...(msg.responsePrefix ? { responsePrefix: msg.responsePrefix } : {}), ...(parent ? { parent } : {}) };
        history.push(run);
        if (history.length > MAX_HISTORY_RUNS) history.splice(0, history.length - MAX_HISTORY_RUNS);
        form.write(msg.settings);
        if (parent) {
          pendingBranch = undefined;
        } else {
          // A branch leaves the prompt box and format as they were: its prompt is the parent's plus the path it chose.
          prompt.value = msg.prompt;
          form.writeFormat(msg.format);
        }
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
        treeView.sync(shown);
        table.sync(shown?.steps ?? []);
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
        treeBranches: tree.querySelectorAll("vscode-tree-item.branch").length,
        reading: text.reading,
        legend: legends.find((l) => !l.hidden)?.textContent?.replace(/\s+/g, " ").trim() ?? "",
        breadcrumbs: crumbs.labels(),
      });
      break;
    }
  }
});

// Say "ready" only after the elements are defined, so the extension never posts into a page
// that cannot render yet.
void Promise.all(USED_ELEMENTS.map((name) => customElements.whenDefined(name))).then(() => {
  form.sync();
  form.syncFormatHint();
  const theme = [...document.body.classList].find((c) => c.startsWith("vscode-")) ?? "unknown";
  vscode.postMessage({ type: "ready", elements: USED_ELEMENTS.filter((n) => customElements.get(n)), theme });
});
