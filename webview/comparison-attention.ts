// The comparison view's attention section: per set and layer, where the members looked in the
// isolated replay and in the visible replay of the same sets, the difference, and its noise
// (the null baseline: the isolated replay in another batch layout). The same numbers as the
// report's attention table (src/engine/analysis/report-model.ts setContrasts).
import type { AttentionContrast, SetAttentionContrast } from "../src/protocol/attention.js";
import { SET_CLOSE, SET_OPEN, SET_SEPARATOR } from "../src/protocol/token-display.js";
import { visibleToken } from "./render.js";
import type { ComparisonData } from "./comparison-protocol.js";

/** Plain names for the contrast targets, in the order the engine lists them. */
const TARGET_LABELS: Record<string, string> = { siblings: "siblings", self: "itself", prompt: "prompt", earlierSets: "earlier sets", bos: "BOS" };

/** A mass as a cell: an exact zero is its own mark (hatched "0"), never a small number. */
function massCell(v: number, exactZero: boolean): HTMLTableCellElement {
  const td = document.createElement("td");
  if (exactZero) {
    td.className = "zero";
    td.textContent = "0";
    td.title = "exactly 0: every member and head puts nothing there";
  } else {
    td.textContent = formatMass(v);
  }
  return td;
}

function formatMass(v: number): string {
  if (v === 0) return "0";
  return Math.abs(v) >= 0.01 ? v.toFixed(3) : v.toExponential(1);
}

/** Mean over the set's layers of one target's P and Q, and whether every layer is an exact zero. */
function acrossLayers(rows: readonly SetAttentionContrast[], target: string): { p: number; q: number; pZero: boolean; qZero: boolean } {
  const cs = rows.map((r) => r.contrasts.find((c) => c.target === target)).filter((c): c is AttentionContrast => c !== undefined);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  return { p: mean(cs.map((c) => c.p)), q: mean(cs.map((c) => c.q)), pZero: cs.every((c) => c.pZero), qZero: cs.every((c) => c.qZero) };
}

function setLabel(data: ComparisonData, step: number, fallback: readonly string[]): string {
  const candidates = data.runs.isolated[step]?.candidates;
  const members = candidates ? candidates.map((c) => visibleToken(c)) : fallback.map((m) => JSON.stringify(m));
  return `${SET_OPEN}${members.join(SET_SEPARATOR)}${SET_CLOSE}`;
}

function layerTable(rows: readonly SetAttentionContrast[]): HTMLTableElement {
  const table = document.createElement("table");
  table.className = "attention";
  const head = table.createTHead().insertRow();
  for (const [text, title] of [
    ["Target", "where the members' attention went"],
    ["Iso", "isolated replay: mean mass over members and heads"],
    ["Vis", "visible replay of the same sets: mean mass over members and heads"],
    ["Δ", "visible − isolated (of the means)"],
    ["Noise", "max |isolated − null| over members and heads: the same isolated replay in another batch layout, i.e. what rounding alone moves"],
  ]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = text;
    th.title = title;
    head.append(th);
  }
  const body = table.createTBody();
  for (const r of rows) {
    const group = body.insertRow();
    group.className = "layer";
    const th = document.createElement("th");
    th.colSpan = 5;
    th.scope = "rowgroup";
    th.textContent = `layer ${r.layer}`;
    group.append(th);
    for (const c of r.contrasts) {
      const tr = body.insertRow();
      tr.dataset.target = c.target;
      tr.dataset.layer = String(r.layer);
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = TARGET_LABELS[c.target] ?? c.target;
      const diff = massCell(c.diff, c.pZero && c.qZero);
      diff.title = `max |isolated − visible| over members and heads ${formatMass(c.maxAbsPQ)}`;
      const noise = massCell(c.maxAbsPNull, false);
      noise.className = "noise";
      tr.append(name, massCell(c.p, c.pZero), massCell(c.q, c.qZero), diff, noise);
    }
  }
  return table;
}

/** The section for `data.attention` (empty when the comparison captured none). */
export function attentionSection(data: ComparisonData): HTMLElement[] {
  const attention = data.attention ?? [];
  if (!attention.length) return [];
  const heading = document.createElement("h2");
  heading.textContent = "Attention: isolated vs visible";
  const intro = document.createElement("p");
  intro.className = "muted";
  intro.textContent = "Captured in the forward pass that holds each set. Iso and Vis: the members' mean attention mass on each target in the isolated and the visible replay of the same sets. A hatched 0 is exactly zero. A difference means something only far above Noise.";
  const sets: HTMLElement[] = [];
  const steps = [...new Set(attention.map((a) => a.step))];
  steps.forEach((step, i) => {
    const rows = attention.filter((a) => a.step === step);
    const details = document.createElement("details");
    details.className = "attention-set";
    details.dataset.step = String(step);
    // The first set opens by itself: the difference isolation makes is visible at once.
    details.open = i === 0;
    const summary = document.createElement("summary");
    const sib = acrossLayers(rows, "siblings");
    const label = document.createElement("span");
    label.className = "tok";
    label.textContent = setLabel(data, step, rows[0].members);
    const fmt = (v: number, zero: boolean) => (zero ? "0 (exact)" : formatMass(v));
    summary.append(`step ${step} `, label, ` siblings: iso ${fmt(sib.p, sib.pZero)}, vis ${fmt(sib.q, sib.qZero)}`);
    details.append(summary, layerTable(rows));
    sets.push(details);
  });
  return [heading, intro, ...sets];
}

/** What the view shows of attention, read back from the page (the extension's test hook). */
export function renderedAttention(root: ParentNode): { sets: number; isolatedSiblingsZero: number; visibleSiblingsPositive: number } {
  const siblingRows = [...root.querySelectorAll<HTMLTableRowElement>("table.attention tr[data-target='siblings']")];
  return {
    sets: root.querySelectorAll("details.attention-set").length,
    isolatedSiblingsZero: siblingRows.filter((tr) => tr.cells[1]?.classList.contains("zero")).length,
    visibleSiblingsPositive: siblingRows.filter((tr) => !tr.cells[2]?.classList.contains("zero") && Number(tr.cells[2]?.textContent) > 0).length,
  };
}
