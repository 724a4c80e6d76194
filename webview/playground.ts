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
import { PLAYGROUND_VIEWS, parseExtensionMessage, type GenerationSettings, type PromptFormat, type StepEventMessage, type WebviewMessage } from "./protocol.js";
import { MEMBER_SEPARATOR, type DisplayToken } from "../src/protocol/token-display.js";
import { applyArrivedDecisions } from "../src/protocol/pruning.js";
import { MOVING_SCHEDULES, schedulePreviewText } from "../src/engine/tempo/schedule.js";
import { DEFAULT_CONFIG, NEXT_STEP_POLICIES, oneOf, TEMPO_MODES, THRESHOLD_SCHEDULES } from "../src/protocol/generation.js";
import { MAX_HISTORY_RUNS, collapseContinuation, historyLabel, readState, runKey, stateToStore, type PlaygroundState, type RunRecord } from "./playground-state.js";
import { probabilityBin, visibleText, visibleToken, formatProb } from "./render.js";
import { appendToTree, type TreeNode } from "./token-tree.js";

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
const attentionBox = byId<HTMLElement & { checked: boolean }>("attention");
const formatHint = byId("format-hint");
const formatRadios = [...document.querySelectorAll<HTMLElement & { checked: boolean; value: string }>("#format vscode-radio")];
const views = byId<HTMLElement & { selectedIndex: number }>("views");
const tree = byId("tree");
const historyList = byId("history");
const historyCount = byId("history-count");
const TREE_TAB = PLAYGROUND_VIEWS.indexOf("tree");
const STEPS_TAB = PLAYGROUND_VIEWS.indexOf("steps");
const NUMBER_FIELDS = ["threshold", "thresholdEnd", "maxWidth", "maxSteps", "minSteps", "temperature", "pruneMass", "pruneLookahead"] as const;
const SELECT_FIELDS = ["mode", "policy", "schedule"] as const;
type FieldKey = (typeof NUMBER_FIELDS)[number] | (typeof SELECT_FIELDS)[number] | "stops";
/** The settings controls, by the setting each edits (the ids webviewHtml.ts gives them). */
const fields = Object.fromEntries([...SELECT_FIELDS, ...NUMBER_FIELDS, "stops"].map((k) => [k, byId<ValueElement>(k)])) as Record<FieldKey, ValueElement>;
const schedulePreviewLine = byId("schedule-preview");

function setStatus(text: string, state: string): void {
  status.textContent = text;
  status.dataset.state = state;
}

// ------------------------------------------------------------------ settings <-> controls
/** Reads the controls; an empty number field means "the default". Throws on a non-number. */
function readSettings(): GenerationSettings {
  // The selects offer only the lists' values; anything else (none chosen) means the default.
  const s: GenerationSettings = {
    mode: oneOf(TEMPO_MODES, fields.mode.value),
    policy: oneOf(NEXT_STEP_POLICIES, fields.policy.value),
    schedule: oneOf(THRESHOLD_SCHEDULES, fields.schedule.value),
  };
  for (const k of NUMBER_FIELDS) {
    if (k === "thresholdEnd" && !scheduleMoves()) continue;
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

const scheduleMoves = () => (MOVING_SCHEDULES as readonly string[]).includes(fields.schedule.value);

/** End threshold only for a moving schedule, and its curve previewed with the engine's function. */
function syncScheduleField(): void {
  fields.thresholdEnd.disabled = !scheduleMoves();
  const value = (field: ValueElement, fallback: number) => (field.value.trim() === "" || !Number.isFinite(Number(field.value)) ? fallback : Number(field.value));
  const threshold = value(fields.threshold, DEFAULT_CONFIG.threshold);
  schedulePreviewLine.hidden = !scheduleMoves();
  schedulePreviewLine.textContent = `threshold per step: ${schedulePreviewText({
    schedule: oneOf(THRESHOLD_SCHEDULES, fields.schedule.value) ?? DEFAULT_CONFIG.schedule, threshold, thresholdEnd: value(fields.thresholdEnd, threshold),
    maxSteps: Math.max(1, Math.round(value(fields.maxSteps, DEFAULT_CONFIG.maxSteps))),
  })}`;
}

// ------------------------------------------------------------------ prompt format (raw / chat)
function readFormat(): PromptFormat {
  return formatRadios.find((r) => r.checked)?.value === "chat" ? "chat" : "raw";
}

function writeFormat(format: PromptFormat): void {
  for (const r of formatRadios) r.checked = r.value === format;
  syncFormatHint();
}

/** Whether the loaded model's GGUF has a chat template (undefined until a model loaded). */
let modelChatTemplate: boolean | undefined;

function syncFormatHint(): void {
  formatHint.hidden = readFormat() !== "chat";
  const base = "Chat: the prompt becomes one user turn in the model's chat template, and the run generates the reply.";
  formatHint.textContent =
    modelChatTemplate === false
      ? `${base} This model's GGUF has no chat template, so chat uses node-llama-cpp's generic "### Human / ### Assistant" format, which the model was not trained on.`
      : modelChatTemplate === true
        ? `${base} This model's GGUF has one.`
        : `${base} Whether the model has one is known once it has loaded; without one, a generic format is used.`;
}

function setModelLine(model: { fileName: string; backend?: string; chatTemplate?: boolean }): void {
  modelLine.textContent = `${model.fileName}${model.backend ? ` · ${model.backend}` : ""}`;
  if (model.chatTemplate !== undefined) modelChatTemplate = model.chatTemplate;
  syncFormatHint();
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
      settings = readSettings();
    } catch {
      settings = undefined;
    }
    const state: PlaygroundState = { prompt: prompt.value, format: readFormat(), history, ...(settings ? { settings } : {}), ...(shown ? { shownKey: shown.key } : {}) };
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
  output.replaceChildren();
  tableBody.replaceChildren();
  tableRows = 0;
  tree.replaceChildren();
  treeNodes = [];
  treeItems = [];
  treeSteps = 0;
  hideTip();
  const p = document.createElement("span");
  p.className = "prompt-text";
  p.textContent = promptText(run);
  output.append(p);
  renderNewSteps(0);
  exportButton.disabled = running || exportableKey !== run.key;
  if (run === live && running) setStatus(`Generating... ${run.steps.length} steps`, "running");
  else setStatus(describe(run), run.error ? "error" : "done");
  renderHistory();
  saveState();
}

/** A set member's accessible name, as a chip or a tree item: what it is, and that Enter (or a click) collapses to it. */
function memberLabel(c: DisplayToken & { prob: number; rank: number }, member: number): string {
  return `${visibleToken(c)}, p ${formatProb(c.prob)}, rank ${c.rank}${member === 0 ? ", primary path" : ""}; Enter or a click collapses the set to this token and continues`;
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
      chip.setAttribute("aria-label", memberLabel(c, j));
      chip.dataset.step = String(step.index);
      chip.dataset.member = String(j);
      chip.dataset.pbin = String(probabilityBin(c.prob));
      chip.textContent = visibleToken(c);
      markChipPruned(chip, c);
      set.append(chip);
    });
    into.append(set);
  }
}

/** A member retroactive pruning removed is struck through (docs/pruning.md); its score is in the hover. */
function markChipPruned(chip: HTMLElement, c: StepEventMessage["candidates"][number]): void {
  chip.classList.toggle("pruned", c.pruned === true);
  if (c.pruned) chip.setAttribute("aria-label", `${chip.getAttribute("aria-label")}; pruned: later tokens no longer see it`);
}

/**
 * A step's pruning decision concerns an earlier set: its members get their scores (in the
 * run's stored steps) and, when that set is on screen, the pruned ones are struck through.
 */
function applyPruning(run: RunRecord, arrived: readonly StepEventMessage[]): void {
  for (const step of applyArrivedDecisions(run.steps, arrived)) {
    if (shown !== run) continue;
    for (const chip of output.querySelectorAll<HTMLElement>(`.chip[data-step="${step}"]`)) markChipPruned(chip, run.steps[step].candidates[Number(chip.dataset.member)]);
  }
}

function tableRow(step: StepEventMessage): HTMLTableRowElement {
  const tr = document.createElement("tr");
  const cells = [
    String(step.index),
    String(step.position),
    step.candidates.map((c) => `${visibleToken(c)} ${formatProb(c.prob)}`).join(MEMBER_SEPARATOR),
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

// The step table and the tree are built only while their tab is open (each is several times
// the DOM of the text view).
let tableRows = 0;
function syncTable(): void {
  if (views.selectedIndex !== STEPS_TAB || !shown) return;
  const rows = document.createDocumentFragment();
  for (; tableRows < shown.steps.length; tableRows++) rows.append(tableRow(shown.steps[tableRows]));
  tableBody.append(rows);
}

// ------------------------------------------------------------------ token tree
let treeNodes: TreeNode[] = [];
/** One vscode-tree-item per node of treeNodes. */
let treeItems: HTMLElement[] = [];
/** Steps of the shown run already in treeNodes. */
let treeSteps = 0;

function treeItem(label: string, description: string): HTMLElement {
  const item = document.createElement("vscode-tree-item");
  const text = document.createElement("span");
  text.className = "tree-token";
  text.textContent = label;
  const desc = document.createElement("span");
  desc.slot = "description";
  desc.textContent = description;
  item.append(text, desc);
  return item;
}

function treeNodeItem(node: TreeNode): HTMLElement {
  if (node.kind === "text") {
    return treeItem(visibleText(node.text), node.firstStep === node.lastStep ? `step ${node.firstStep}` : `steps ${node.firstStep}–${node.lastStep}`);
  }
  const item = treeItem(visibleToken(node.branches[0]), `step ${node.step} · ${node.branches.length} members · mass ${node.mass.toFixed(3)} · entropy ${node.entropy.toFixed(3)}`);
  for (const b of node.branches) {
    const child = treeItem(visibleToken(b), `p ${formatProb(b.prob)} · rank ${b.rank}${b.primary ? " · primary path" : ""}`);
    child.slot = "children";
    child.setAttribute("aria-label", memberLabel(b, b.member));
    // The hover / focus details and collapse-and-continue read these, as for the chips.
    child.dataset.step = String(node.step);
    child.dataset.member = String(b.member);
    item.append(child);
  }
  return item;
}

function syncTree(): void {
  if (views.selectedIndex !== TREE_TAB || !shown || treeSteps === shown.steps.length) return;
  const from = appendToTree(treeNodes, shown.steps.slice(treeSteps));
  treeSteps = shown.steps.length;
  const added = document.createDocumentFragment();
  for (let i = from; i < treeNodes.length; i++) {
    const item = treeNodeItem(treeNodes[i]);
    if (i < treeItems.length) treeItems[i].replaceWith(item);
    else added.append(item);
    treeItems[i] = item;
  }
  tree.append(added);
}

views.addEventListener("vsc-tabs-select", () => {
  hideTip();
  syncTree();
  syncTable();
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
  const into = document.createDocumentFragment();
  for (let i = from; i < shown.steps.length; i++) renderStep(shown.steps[i], into);
  output.append(into);
  syncTable();
  syncTree();
}

function flushQueued(): void {
  frameScheduled = false;
  if (!live || queued.length === 0) return;
  const from = live.steps.length;
  const arrived = queued;
  live.steps.push(...arrived);
  queued = [];
  applyPruning(live, arrived);
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
  const title = document.createElement("div");
  title.className = "tip-title";
  title.textContent = visibleToken(c);
  tip.replaceChildren(
    title,
    row("probability", `${formatProb(c.prob)} (log ${c.logprob.toFixed(3)}), rank ${c.rank + 1}, token id ${c.token}`),
    row("step", `${step.index} (position ${step.position}, ${step.candidates.length} in set, mass ${step.setMass.toFixed(3)}, entropy ${step.entropy.toFixed(3)} nats)`),
    ...(c.pruneScore === undefined ? [] : [row(c.pruned ? "pruned" : "kept by pruning", `mean attention from the next steps ${c.pruneScore.toFixed(4)}`)]),
    rankedList(step, c.token),
    ...attentionRows(step, member),
  );
  showAttention(step, member);
  tip.hidden = false;
  el.setAttribute("aria-describedby", "tip");
  // Positioned through the CSSOM (allowed by the CSP; inline style attributes are not).
  const r = el.getBoundingClientRect();
  tip.style.left = `${Math.max(4, Math.min(r.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 8))}px`;
  tip.style.top = `${r.bottom + window.scrollY + 4}px`;
}

/**
 * The step's distribution as one ranked list (ranks from 1, as everywhere on the page): the
 * set's members, then the runner-ups that missed the threshold, with a bar for each
 * probability and the threshold as a line between them.
 */
function rankedList(step: StepEventMessage, hovered: number): HTMLElement {
  const list = document.createElement("ol");
  list.className = "ranked";
  const members = new Set(step.candidates.map((x) => x.token));
  // Members first (a member may rank below a runner-up only past the head of `top`).
  type Entry = DisplayToken & { token: number; prob: number; member: boolean; rank?: number };
  const entries: Entry[] = [
    ...step.candidates.map((x): Entry => ({ token: x.token, text: x.text, special: x.special, prob: x.prob, rank: x.rank, member: true })),
    ...step.top.filter((t) => !members.has(t.token)).slice(0, 5).map((t): Entry => ({ token: t.token, text: t.text, special: t.special, prob: t.prob, member: false })),
  ];
  const ranks = new Map(step.top.map((t, i) => [t.token, i + 1]));
  const top = Math.max(...entries.map((e) => e.prob));
  let lineDrawn = false;
  for (const e of entries) {
    if (!e.member && !lineDrawn) {
      lineDrawn = true;
      const line = document.createElement("li");
      line.className = "threshold-line";
      line.textContent = `threshold ${step.threshold.toFixed(3)}`;
      list.append(line);
    }
    const li = document.createElement("li");
    li.className = e.member ? "member" : "runner-up";
    if (e.token === hovered) li.classList.add("hovered");
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.dataset.width = String(Math.round((10 * e.prob) / top)); // CSS draws 0-10 tenths (no inline styles under the CSP)
    const rank = e.rank !== undefined ? e.rank + 1 : ranks.get(e.token);
    li.append(`#${rank ?? "?"} `, bar, ` ${visibleToken(e)} ${formatProb(e.prob)}  id ${e.token}`);
    list.append(li);
  }
  return list;
}

function hideTip(): void {
  tip.hidden = true;
  clearAttention();
}

// ------------------------------------------------------------------ attention overlay
/** Weight buckets for shading the tokens a member attended to (CSS .attn-key[data-attn]). */
const ATTENTION_BUCKETS = [0.02, 0.05, 0.15, 0.4];
/** An exact 0 (isolated siblings) is said as such, never as a small number. */
const massText = (x: number) => (x === 0 ? "0 (exact)" : x.toFixed(4));

/** The hovered member's attention in the tooltip: masses by target, then its heaviest keys. */
function attentionRows(step: StepEventMessage, member: number): HTMLElement[] {
  const a = step.attention?.members[member];
  if (!a || !step.attention) return [];
  const t = a.targets;
  const keys = document.createElement("ol");
  keys.className = "attention-keys";
  for (const k of a.top) {
    const li = document.createElement("li");
    li.textContent = `${visibleToken(k)}  ${k.weight.toFixed(3)}  ${k.step < 0 ? "prompt" : `step ${k.step}`}`;
    keys.append(li);
  }
  return [
    row(`attention (mean of layers ${step.attention.layers.join(",")} and their heads)`, ""),
    row("self / siblings", `${massText(t.self)} / ${massText(t.siblings)}`),
    row("prompt / BOS / earlier sets", `${massText(t.prompt)} / ${massText(t.bos)} / ${massText(t.earlierSets)}`),
    keys,
  ];
}

/** Shades the generated tokens the hovered member attended to most (prompt keys are in the tooltip). */
function showAttention(step: StepEventMessage, member: number): void {
  clearAttention();
  for (const k of step.attention?.members[member]?.top ?? []) {
    if (k.step < 0) continue;
    const bucket = ATTENTION_BUCKETS.filter((b) => k.weight >= b).length;
    for (const el of output.querySelectorAll<HTMLElement>(`[data-step="${k.step}"][data-member="${k.member}"]`)) {
      el.classList.add("attn-key");
      el.dataset.attn = String(bucket);
    }
  }
}

function clearAttention(): void {
  for (const el of output.querySelectorAll<HTMLElement>(".attn-key")) {
    el.classList.remove("attn-key");
    delete el.dataset.attn;
  }
}

for (const view of [output, tree]) {
  view.addEventListener("mouseover", (e) => showTip(e.target));
  view.addEventListener("mouseleave", hideTip);
  view.addEventListener("focusin", (e) => showTip(e.target));
  view.addEventListener("focusout", hideTip);
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
    hideTip();
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
    settings = readSettings();
  } catch (e) {
    setStatus((e as Error).message, "error");
    return;
  }
  if (prompt.value.length === 0) {
    setStatus("Write a prompt first.", "error");
    return;
  }
  const format = continuation ? "chat" : readFormat();
  vscode.postMessage({ type: "run", prompt: continuation?.prompt ?? prompt.value, settings, format, attention: attentionBox.checked, ...(continuation ? { responsePrefix: continuation.responsePrefix } : {}) });
}
runButton.addEventListener("click", () => requestRun());
stopButton.addEventListener("click", () => vscode.postMessage({ type: "stop" }));
exportButton.addEventListener("click", () => vscode.postMessage({ type: "exportCapture" }));
prompt.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === "Enter") requestRun();
});
byId("format").addEventListener("change", () => {
  syncFormatHint();
  saveState();
});
for (const el of [prompt, ...Object.values(fields)]) {
  el.addEventListener("input", () => { syncScheduleField(); saveState(); });
  el.addEventListener("change", () => {
    syncScheduleField();
    saveState();
  });
}

// Restore the prompt, controls, history and the run on screen (webview state survives reloads
// through the panel serializer).
prompt.value = stored.state.prompt;
const restored = stored.state.settings !== undefined;
if (stored.state.settings) writeSettings(stored.state.settings);
writeFormat(stored.state.format);
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
      if (msg.defaults && !restored) writeSettings(msg.defaults);
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
        writeSettings(msg.settings);
        writeFormat(msg.format);
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
        syncTree();
        syncTable();
      }
      const selectedView = [output, tree, tableBody][views.selectedIndex] ?? output;
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
  syncScheduleField();
  syncFormatHint();
  const theme = [...document.body.classList].find((c) => c.startsWith("vscode-")) ?? "unknown";
  vscode.postMessage({ type: "ready", elements: USED_ELEMENTS.filter((n) => customElements.get(n)), theme });
});
