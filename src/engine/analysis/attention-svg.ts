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

/** Blues for a mass in (0, 1]: from a light tint (never white: white means exactly 0) to dark. */
export function massColour(v: number): string {
  const t = Math.min(1, Math.max(0, v));
  const lo = [222, 235, 247], hi = [8, 48, 107];
  return `rgb(${lo.map((c, i) => Math.round(c + (hi[i] - c) * Math.sqrt(t))).join(",")})`;
}

/** Red (Q above P) or blue (Q below P), by |v| / max; never white for a non-zero value. */
export function diffColour(v: number, max: number): string {
  const t = max > 0 ? Math.min(1, Math.abs(v) / max) : 0;
  const lo = v > 0 ? [253, 219, 199] : [209, 229, 240], hi = v > 0 ? [178, 24, 43] : [33, 102, 172];
  return `rgb(${lo.map((c, i) => Math.round(c + (hi[i] - c) * Math.sqrt(t))).join(",")})`;
}

/** Short display of a value for a tooltip: 0 exactly, else 3 significant digits. */
function show(v: number): string {
  return v === 0 ? "0 (exactly)" : Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toPrecision(3);
}

/** A cell: coloured, or for an exact zero white with the hatch pattern and a "0". */
function cell(x: number, y: number, v: number, colour: string, hatch: string, tip: string, size = CELL): string {
  if (v === 0) {
    return `<g><title>${esc(tip)}</title><rect x="${x}" y="${y}" width="${size}" height="${size}" fill="#fff"/><rect x="${x}" y="${y}" width="${size}" height="${size}" fill="url(#${hatch})" stroke="#bbb" stroke-width="0.5"/>` +
      `<text x="${x + size / 2}" y="${y + size / 2 + 3.5}" font-size="9" text-anchor="middle" fill="#555">0</text></g>`;
  }
  return `<rect x="${x}" y="${y}" width="${size}" height="${size}" fill="${colour}" stroke="#fff" stroke-width="0.5"><title>${esc(tip)}</title></rect>`;
}

function hatchDef(id: string): string {
  return `<defs><pattern id="${id}" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="4" stroke="#c8c8c8" stroke-width="1.2"/></pattern></defs>`;
}

function truncate(s: string, n: number): string {
  const chars = [...s];
  return chars.length > n ? chars.slice(0, n - 1).join("") + "…" : s;
}

/** The legend drawn under every attention figure: the mass ramp, the difference ramp, exact 0. */
function legend(x: number, y: number, hatch: string, maxDiff: number): string {
  const out: string[] = [];
  out.push(`<text x="${x}" y="${y + 10}" font-size="11">mass</text>`);
  ["0.001", "0.05", "0.25", "0.5", "1"].forEach((v, i) => {
    out.push(`<rect x="${x + 40 + i * 42}" y="${y}" width="${CELL}" height="${CELL}" fill="${massColour(Number(v))}"/><text x="${x + 40 + i * 42 + CELL + 2}" y="${y + 11}" font-size="9">${v}</text>`);
  });
  const dx = x + 255;
  out.push(`<text x="${dx}" y="${y + 10}" font-size="11">Q − P</text>`);
  [-maxDiff, -maxDiff / 4, maxDiff / 4, maxDiff].forEach((v, i) => {
    out.push(`<rect x="${dx + 44 + i * 58}" y="${y}" width="${CELL}" height="${CELL}" fill="${diffColour(v, maxDiff)}"/><text x="${dx + 44 + i * 58 + CELL + 2}" y="${y + 11}" font-size="9">${esc(show(v))}</text>`);
  });
  const zx = dx + 290;
  out.push(cell(zx, y, 0, "", hatch, "exactly 0"), `<text x="${zx + CELL + 4}" y="${y + 11}" font-size="11">exactly 0 (not a small value)</text>`);
  return out.join("");
}

/**
 * One set in one layer: for each target (columns of panels) the members (rows) by heads
 * (columns), under P, under Q, and Q − P (rows of panels). `id` makes the hatch pattern's id
 * unique in the page (several SVGs are inlined in one document).
 */
export function attentionFigureSvg(a: SetAttentionSummary, labels: { p: string; q: string }, id: string): string {
  const hatch = `zero-hatch-${id}`;
  const m = a.members.length, H = a.heads;
  const panelW = Math.max(H * CELL, 70), panelH = m * CELL;
  const streams: { label: string; values: number[][][]; diff: boolean }[] = [
    { label: `P: ${labels.p}`, values: a.p, diff: false },
    { label: `Q: ${labels.q}`, values: a.q, diff: false },
    { label: "Q − P", values: a.q.map((rows, t) => rows.map((hs, i) => hs.map((v, h) => v - a.p[t][i][h]))), diff: true },
  ];
  const maxDiff = Math.max(1e-12, ...streams[2].values.flat(2).map(Math.abs));
  const top = 22;
  const blockH = HEADER_H + panelH + GAP;
  const width = Math.max(LABEL_W + a.targets.length * (panelW + GAP), 780); // the legend's width
  const height = top + streams.length * blockH + 30;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui,sans-serif" role="img">`, hatchDef(hatch)];
  out.push(`<title>${esc(`step ${a.step}, layer ${a.layer}: attention mass per member and head`)}</title>`);
  out.push(`<text x="0" y="14" font-size="12" font-weight="bold">${esc(`step ${a.step}, layer ${a.layer}: attention mass of each member (rows) per head (columns)`)}</text>`);
  streams.forEach((s, si) => {
    const y0 = top + si * blockH;
    out.push(`<text x="0" y="${y0 + 12}" font-size="11" font-weight="bold">${esc(truncate(s.label, 24))}</text>`);
    a.members.forEach((mem, i) => out.push(`<text x="${LABEL_W - 6}" y="${y0 + HEADER_H + i * CELL + 11}" font-size="10" text-anchor="end" font-family="monospace">${esc(truncate(`${i}: ${JSON.stringify(mem)}`, 22))}</text>`));
    a.targets.forEach((target, t) => {
      const x0 = LABEL_W + t * (panelW + GAP);
      out.push(`<text x="${x0}" y="${y0 + 12}" font-size="10">${esc(target)}</text>`);
      for (let i = 0; i < m; i++) for (let h = 0; h < H; h++) {
        const v = s.values[t][i][h];
        const tip = `${s.label}, ${target}, member ${i} ${JSON.stringify(a.members[i])}, head ${h}: ${show(v)}`;
        out.push(cell(x0 + h * CELL, y0 + HEADER_H + i * CELL, v, s.diff ? diffColour(v, maxDiff) : massColour(v), hatch, tip));
      }
    });
  });
  out.push(legend(0, top + streams.length * blockH + 4, hatch, maxDiff));
  out.push("</svg>");
  return out.join("");
}
