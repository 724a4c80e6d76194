/**
 * The report's attention heatmaps as plain SVG, drawn here rather than through vega: a compare
 * shows hundreds of small grids (sets x layers x targets x streams), vega took ~0.2 s for each
 * figure, and a heatmap needs only rectangles. Exact zeros are drawn unlike any small value:
 * a white cell with hatching and "0" (isolation makes sibling attention exactly 0, and the
 * reader must be able to tell that from 1e-4). Every cell has a <title> with its value, so a
 * browser shows it on hover without scripts. All text goes through escapeHtml.
 */
import { escapeHtml as esc } from "./report-format.js";
import type { SetAttentionSummary } from "./report-model.js";

const CELL = 14;
const GAP = 10;
const LABEL_W = 150;
const HEADER_H = 16;

const hex = (rgb: number[]) => "#" + rgb.map((c) => Math.round(c).toString(16).padStart(2, "0")).join("");

/** Blues for a mass in (0, 1]: from a light tint (never white: white means exactly 0) to dark. */
export function massColour(v: number): string {
  const t = Math.sqrt(Math.min(1, Math.max(0, v)));
  const lo = [222, 235, 247], hi = [8, 48, 107];
  return hex(lo.map((c, i) => c + (hi[i] - c) * t));
}

/** Red (Q above P) or blue (Q below P), by |v| / max; never white for a non-zero value. */
export function diffColour(v: number, max: number): string {
  const t = Math.sqrt(max > 0 ? Math.min(1, Math.abs(v) / max) : 0);
  const lo = v > 0 ? [253, 219, 199] : [209, 229, 240], hi = v > 0 ? [178, 24, 43] : [33, 102, 172];
  return hex(lo.map((c, i) => c + (hi[i] - c) * t));
}

/** Short display of a value for a tooltip: 0 exactly, else 3 significant digits. */
export function showValue(v: number): string {
  return v === 0 ? "0 (exactly)" : Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toPrecision(3);
}

/**
 * A cell: coloured, or for an exact zero a `<use>` of the figure's zero cell (white, hatched,
 * "0"). Compact on purpose: a compare of every layer draws tens of thousands of cells.
 */
function cell(x: number, y: number, v: number, colour: string, zero: string, tip: string): string {
  if (v === 0) return `<use href="#${zero}" x="${x}" y="${y}"><title>${esc(tip)}</title></use>`;
  return `<rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill="${colour}"><title>${esc(tip)}</title></rect>`;
}

/** The hatch pattern and the zero cell drawn with it, once per figure. */
function zeroDefs(id: string): string {
  return `<defs><pattern id="${id}-h" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="4" stroke="#c8c8c8" stroke-width="1.2"/></pattern>` +
    `<g id="${id}"><rect width="${CELL}" height="${CELL}" fill="#fff" stroke="none"/><rect width="${CELL}" height="${CELL}" fill="url(#${id}-h)" stroke="#999" stroke-width="0.5"/><text x="${CELL / 2}" y="${CELL / 2 + 3.5}" font-size="9" text-anchor="middle" fill="#333" stroke="none">0</text></g></defs>`;
}

function truncate(s: string, n: number): string {
  const chars = [...s];
  return chars.length > n ? chars.slice(0, n - 1).join("") + "…" : s;
}

/** The legend drawn under every attention figure: the mass ramp, the difference ramp, exact 0. */
function legend(x: number, y: number, zero: string, maxDiff: number): string {
  const out: string[] = [];
  out.push(`<text x="${x}" y="${y + 10}" font-size="11">mass</text>`);
  ["0.001", "0.05", "0.25", "0.5", "1"].forEach((v, i) => {
    out.push(`<rect x="${x + 40 + i * 42}" y="${y}" width="${CELL}" height="${CELL}" fill="${massColour(Number(v))}"/><text x="${x + 40 + i * 42 + CELL + 2}" y="${y + 11}" font-size="9">${v}</text>`);
  });
  const dx = x + 255;
  out.push(`<text x="${dx}" y="${y + 10}" font-size="11">Q − P</text>`);
  [-maxDiff, -maxDiff / 4, maxDiff / 4, maxDiff].forEach((v, i) => {
    out.push(`<rect x="${dx + 44 + i * 58}" y="${y}" width="${CELL}" height="${CELL}" fill="${diffColour(v, maxDiff)}"/><text x="${dx + 44 + i * 58 + CELL + 2}" y="${y + 11}" font-size="9">${esc(showValue(v))}</text>`);
  });
  const zx = dx + 290;
  out.push(cell(zx, y, 0, "", zero, "exactly 0"), `<text x="${zx + CELL + 4}" y="${y + 11}" font-size="11">exactly 0 (not a small value)</text>`);
  return out.join("");
}

/** The targets drawn ("other", cells the table does not map, is a consistency check ~0: report.json has it). */
const DRAWN_TARGETS = ["self", "siblings", "prompt", "earlierSets", "bos"];

/**
 * One set in one layer: for each target (columns of panels) the members (rows) by heads
 * (columns), under P, under Q, and Q − P (rows of panels). `id` makes the ids of the figure's
 * zero cell unique in the page (several SVGs are inlined in one document).
 */
export function attentionFigureSvg(a: SetAttentionSummary, labels: { p: string; q: string }, id: string): string {
  const zero = `z${id}`;
  const m = a.members.length, H = a.heads;
  const targets = DRAWN_TARGETS.map((t) => a.targets.indexOf(t)).filter((t) => t >= 0);
  const panelW = Math.max(H * CELL, 70), panelH = m * CELL;
  const streams: { label: string; short: string; values: number[][][]; diff: boolean }[] = [
    { label: `P: ${labels.p}`, short: "P", values: a.p, diff: false },
    { label: `Q: ${labels.q}`, short: "Q", values: a.q, diff: false },
    { label: "Q − P", short: "Q−P", values: a.q.map((rows, t) => rows.map((hs, i) => hs.map((v, h) => v - a.p[t][i][h]))), diff: true },
  ];
  const maxDiff = Math.max(1e-12, ...targets.flatMap((t) => streams[2].values[t].flat().map(Math.abs)));
  const top = 22;
  const blockH = HEADER_H + panelH + GAP;
  const width = Math.max(LABEL_W + targets.length * (panelW + GAP), 780); // the legend's width
  const height = top + streams.length * blockH + 30;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui,sans-serif" role="img">`, zeroDefs(zero)];
  out.push(`<title>${esc(`step ${a.step}, layer ${a.layer}: attention mass per member and head`)}</title>`);
  out.push(`<text x="0" y="14" font-size="12" font-weight="bold">${esc(`step ${a.step}, layer ${a.layer}: attention mass of each member (rows) per head (columns)`)}</text>`);
  streams.forEach((s, si) => {
    const y0 = top + si * blockH;
    out.push(`<text x="0" y="${y0 + 12}" font-size="11" font-weight="bold">${esc(truncate(s.label, 24))}</text>`);
    a.members.forEach((mem, i) => out.push(`<text x="${LABEL_W - 6}" y="${y0 + HEADER_H + i * CELL + 11}" font-size="10" text-anchor="end" font-family="monospace">${esc(truncate(`${i}: ${JSON.stringify(mem)}`, 22))}</text>`));
    targets.forEach((t, col) => {
      const target = a.targets[t];
      const x0 = LABEL_W + col * (panelW + GAP);
      out.push(`<text x="${x0}" y="${y0 + 12}" font-size="10">${esc(target)}</text><g stroke="#fff" stroke-width="0.5">`);
      for (let i = 0; i < m; i++) for (let h = 0; h < H; h++) {
        const v = s.values[t][i][h];
        out.push(cell(x0 + h * CELL, y0 + HEADER_H + i * CELL, v, s.diff ? diffColour(v, maxDiff) : massColour(v), zero, `${s.short} ${target} m${i} h${h}: ${showValue(v)}`));
      }
      out.push("</g>");
    });
  });
  out.push(legend(0, top + streams.length * blockH + 4, zero, maxDiff));
  out.push("</svg>");
  return out.join("");
}
