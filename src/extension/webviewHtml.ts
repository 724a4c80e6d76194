import { randomBytes } from "node:crypto";
import { NEXT_STEP_POLICIES, NUMBER_RANGES, TEMPO_MODES, THRESHOLD_SCHEDULES, type NumberRange } from "../protocol/generation.js";

/** A fresh CSP nonce for each page load (128 random bits). */
export function makeNonce(): string {
  return randomBytes(16).toString("base64");
}

export interface PageResources {
  /** webview.cspSource */
  cspSource: string;
  /** asWebviewUri(...) of the page's script and stylesheet */
  scriptUri: string;
  styleUri: string;
  nonce: string;
  title: string;
}

/**
 * Strict CSP: nothing by default; scripts only with this load's nonce; styles, fonts and images
 * only from the extension's own resources. Lit's component styles are constructable
 * stylesheets (adoptedStyleSheets), which style-src does not govern, so no 'unsafe-inline'.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join("; ");
}

const escapeAttr = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A page with the strict CSP, its stylesheet, `body` (static markup, no model text) and its one script. */
function pageHtml(r: PageResources, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(r.cspSource, r.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(r.styleUri)}">
<title>${escapeAttr(r.title)}</title>
</head>
<body>
${body}
<script nonce="${escapeAttr(r.nonce)}" src="${escapeAttr(r.scriptUri)}"></script>
</body>
</html>`;
}

const select = (id: string, label: string, options: readonly string[]): string =>
  `<div class="field"><vscode-label for="${id}">${label}</vscode-label><vscode-single-select id="${id}">${options
    .map((o) => `<vscode-option value="${o}">${o}</vscode-option>`)
    .join("")}</vscode-single-select></div>`;
/**
 * A number control bounded like its setting. HTML's `min` is inclusive, so an exclusive minimum
 * (threshold, temperature: 0 is refused) becomes the first step above it.
 */
const numberField = (id: keyof typeof NUMBER_RANGES, label: string): string => {
  const r: NumberRange = NUMBER_RANGES[id];
  const max = r.max === undefined ? "" : ` max="${r.max}"`;
  return `<div class="field"><vscode-label for="${id}">${label}</vscode-label><vscode-textfield id="${id}" type="number" min="${r.exclusiveMin ? r.min + r.step : r.min}"${max} step="${r.step}"></vscode-textfield></div>`;
};

export function playgroundHtml(r: PageResources): string {
  return pageHtml(
    r,
    `<main>
  <header>
    <h1>TEMPO Playground</h1>
    <span id="model" class="muted"></span>
  </header>
  <div class="prompt-head">
    <vscode-label for="prompt">Prompt</vscode-label>
    <!-- No "checked" here: the page checks one from its stored state (a checked attribute would override that). -->
    <vscode-radio-group id="format" aria-label="Prompt format">
      <vscode-radio name="format" value="raw">Raw</vscode-radio>
      <vscode-radio name="format" value="chat">Chat</vscode-radio>
    </vscode-radio-group>
  </div>
  <vscode-textarea id="prompt" rows="4" resize="vertical" placeholder="Write a prompt..."></vscode-textarea>
  <p id="format-hint" class="muted" hidden></p>
  <!-- The settings a run is tuned by stay in one row; the rest fold away (the summary names those changed), so the output shows without scrolling. -->
  <section id="controls" aria-label="Generation settings">
    ${select("mode", "Mode", TEMPO_MODES)}
    ${select("policy", "Policy", NEXT_STEP_POLICIES)}
    ${numberField("threshold", "Threshold")}
    ${numberField("maxWidth", "Max width")}
    ${numberField("maxSteps", "Max steps")}
    ${numberField("temperature", "Temperature")}
    <details id="more-settings" class="wide">
      <summary>More settings <span id="more-changed" class="muted"></span></summary>
      <div class="controls-grid">
        ${select("schedule", "Schedule", THRESHOLD_SCHEDULES)}
        ${numberField("thresholdEnd", "End threshold")}
        ${numberField("minSteps", "Min steps")}
        ${numberField("pruneMass", "Prune below attention (0: off)")}
        ${numberField("pruneLookahead", "Prune lookahead")}
        <p id="schedule-preview" class="muted field wide" hidden></p>
        <div class="field wide"><vscode-label for="stops">Stop strings (one per line, \\n for a newline)</vscode-label><vscode-textarea id="stops" rows="2" resize="vertical"></vscode-textarea></div>
      </div>
    </details>
  </section>
  <div class="actions">
    <vscode-button id="run">Run</vscode-button>
    <vscode-button id="stop" secondary disabled>Stop</vscode-button>
    <vscode-button id="export" secondary disabled>Export Capture</vscode-button>
    <vscode-checkbox id="attention" title="Capture each set's attention (every layer) in its own forward pass; hover a token to see what it attended to. Slower.">Attention overlay</vscode-checkbox>
  </div>
  <p id="status" role="status" aria-live="polite" data-state="loading">Loading...</p>
  <details id="history-details">
    <summary>Run history (<span id="history-count">0</span>)</summary>
    <ol id="history" aria-label="Previous runs in this panel: choose one to show it again"></ol>
  </details>
  <nav id="breadcrumbs" aria-label="This branch, from its root run: choose a run to show it" hidden></nav>
  <vscode-tabs id="views" aria-label="Views of the run">
    <vscode-tab-header slot="header">Text</vscode-tab-header>
    <vscode-tab-panel>
      <div class="legend-row">
      <!-- No "checked" here: the page checks one from its stored state. -->
      <vscode-radio-group id="reading" aria-label="Reading mode">
        <vscode-radio name="reading" value="code" title="The primary path as plain code; each set's position marked, its members in the hover">Primary path as code</vscode-radio>
        <vscode-radio name="reading" value="sets" title="Every set's members inline, as chips; a click on one collapses the set to it and continues">Sets inline</vscode-radio>
      </vscode-radio-group>
      <p id="legend-code" class="muted legend" data-reading="code" aria-label="What the marks in the code mean" hidden>
        The primary path (each set's first member) as the model would write it, whitespace kept;
        <span class="tok mark">name</span> a parallel set at this position (dotted underline), <span class="tok mark blank"> </span> one whose first member is whitespace;
        <code>&lt;s&gt; #1</code> a special token by name and id.
        Hover or focus a mark for its members, ranked, with probabilities and runner-ups (click one, or R then Enter, to force it and continue); choose another member under Sets inline or in the Tree.
      </p>
      <p id="legend-sets" class="muted legend" data-reading="sets" aria-label="What the marks in the text mean" hidden>
        <span class="set" aria-hidden="true"><span class="chip" data-pbin="0">a</span><span class="chip" data-pbin="4">b</span></span> a parallel set (dashed box): its members at one position, the first on the primary path;
        member probability <span class="chip" data-pbin="0">&lt;0.1</span><span class="chip" data-pbin="1">0.1</span><span class="chip" data-pbin="2">0.2</span><span class="chip" data-pbin="3">0.35</span><span class="chip" data-pbin="4">≥0.6</span>;
        <code>·</code> a space at a member's edge, <code>↵</code> newline, <code>⇥</code> tab, <code>&lt;s&gt; #1</code> a special token by name and id;
        <span class="chip pruned">x</span> pruned; hover a token for its ranks and runner-ups (click a runner-up to force it and continue; with the overlay, what it attended to).
      </p>
      </div>
      <div id="output" aria-label="Generated text: parallel sets are buttons; Enter on one collapses the set to it and continues"></div>
    </vscode-tab-panel>
    <vscode-tab-header slot="header">Tree</vscode-tab-header>
    <vscode-tab-panel>
      <p class="muted">The runs as a tree: each run's primary path, each parallel set forking into its members (the first one continues the path). Clicking a member (or Enter on it) collapses the set to it and continues: the new run is a branch (↳) under that member. A runner-up forced from the hover is a branch too, in italics, under its step. Choosing an item of another run shows that run. Arrow keys move, Right/Left open and close an item.</p>
      <vscode-tree id="tree" aria-label="Token tree of the run: Enter on a set member collapses the set to it and continues"></vscode-tree>
    </vscode-tab-panel>
    <vscode-tab-header slot="header">Steps</vscode-tab-header>
    <vscode-tab-panel>
      <table id="steps">
        <thead><tr><th scope="col">Step</th><th scope="col">Pos</th><th scope="col">Set (p)</th><th scope="col">Mass</th><th scope="col">Entropy</th><th scope="col">Threshold</th><th scope="col">Decode ms</th></tr></thead>
        <tbody></tbody>
      </table>
    </vscode-tab-panel>
  </vscode-tabs>
  <div id="tip" role="tooltip" hidden></div>
</main>`,
  );
}

export function comparisonHtml(r: PageResources): string {
  return pageHtml(
    r,
    `<main class="comparison">
  <p id="status" role="status" aria-live="polite" data-state="loading">Loading...</p>
  <p id="progress" role="progressbar" aria-live="polite" hidden></p>
  <div class="actions">
    <vscode-button id="compare-run">Compare Isolated vs Visible</vscode-button>
    <vscode-button id="cancel" secondary hidden>Cancel</vscode-button>
    <vscode-button id="open-report" secondary hidden>Open Report</vscode-button>
    <vscode-button id="export" secondary hidden title="Copy the comparison's capture folder into the workspace's .tempo/captures">Export</vscode-button>
    <vscode-button id="reveal" secondary hidden title="Show the comparison's capture folder in the file manager">Reveal</vscode-button>
  </div>
  <section id="replay" aria-labelledby="replay-title" hidden>
    <h2 id="replay-title">Same sets, isolated vs visible</h2>
    <p id="scale" class="muted"></p>
    <table id="replay-rows">
      <colgroup><col class="c-step"><col class="c-set"><col class="c-next"><col class="c-js"></colgroup>
      <thead><tr><th scope="col" title="step">#</th><th scope="col" title="the isolated run's set at this step, replayed in both modes">Set</th><th scope="col" title="each mode's most probable next token after the same set: I isolated, V visible">Next</th><th scope="col" title="Jensen-Shannon divergence (nats) of the two modes' next-token distributions after the same set">JS</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section id="free" aria-labelledby="free-title" hidden>
    <h2 id="free-title">Free runs</h2>
    <p id="free-note" class="muted"></p>
    <div id="free-runs"></div>
  </section>
  <section id="attention" aria-label="Attention, isolated vs visible"></section>
</main>`,
  );
}

export function experimentHtml(r: PageResources): string {
  return pageHtml(
    r,
    `<main class="experiment">
  <header>
    <h1>TEMPO Completion Experiment</h1>
    <span id="meta" class="muted"></span>
  </header>
  <p id="status" role="status" aria-live="polite" data-state="loading">Loading...</p>
  <div class="actions"><vscode-button id="export" disabled title="Write results.jsonl, summary.json, report.md and experiment.json (tempo run reruns it) into the workspace's .tempo/experiments">Export</vscode-button></div>
  <div id="tables"></div>
  <h2>Per task</h2>
  <p class="muted">Outcome of each arm's primary completion; choose a task (or click its row) to see each arm's completion and test output.</p>
  <table id="overview" hidden><tbody></tbody></table>
  <div class="field"><vscode-label for="task">Task</vscode-label><vscode-single-select id="task"></vscode-single-select></div>
  <div id="task-detail"></div>
</main>`,
  );
}
