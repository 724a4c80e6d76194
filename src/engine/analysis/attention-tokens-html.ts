/**
 * report.html's token-level view of a set (CircuitsVis-style, without scripts: the page has
 * none): per layer a row of heads; clicking a head (a radio button styled as a chip) shows
 * the member x key-token matrix of that head, under P and under Q. Keys are labelled by
 * their token text, the set's own cells marked. Exact zeros are hatched cells reading "0";
 * every other cell is shaded by its weight and shows it on hover.
 */
import { escapeHtml as esc } from "./report-format.js";
import type { SetAttentionSummary } from "./report-model.js";
import { massColour, showValue as show } from "./attention-svg.js";

/** Shading bins of a weight in (0, 1]: on sqrt(weight), so that small weights still show. */
const BINS = 9;
const binOf = (v: number) => 1 + Math.min(BINS - 1, Math.floor(Math.sqrt(v) * BINS));

/** The CSS the view needs: shading bins, the exact-zero hatch, and the head toggles (up to `maxHeads`). */
export function tokenViewCss(maxHeads: number): string {
  const rules = [
    ".tv{margin:8px 0}.tv>input{position:absolute;opacity:0;pointer-events:none}.tv>div{display:none;overflow-x:auto;margin-top:6px}",
    ".tv>label{display:inline-block;min-width:26px;margin:1px;padding:1px 3px;border:1px solid #999;font-size:11px;text-align:center;cursor:pointer}",
    "table.tm{border-collapse:collapse;font-size:10px;margin:0}table.tm td,table.tm th{border:1px solid #eee;padding:0;width:16px;height:14px;text-align:center}",
    "table.tm th.k{writing-mode:vertical-rl;transform:rotate(180deg);height:auto;max-height:90px;padding:2px 0;font-family:monospace;font-weight:normal;white-space:pre;overflow:hidden}",
    "table.tm th.own{background:#fff3bf;font-weight:bold}table.tm th.r{text-align:right;width:auto;padding:0 4px;font-family:monospace;font-weight:normal;white-space:pre}",
    "table.tm td.z{background:repeating-linear-gradient(45deg,#fff 0 2px,#d8d8d8 2px 4px);color:#555}table.tm tr.sep td{border:0;height:6px}",
  ];
  for (let b = 1; b <= BINS; b++) rules.push(`table.tm td.b${b}{background:${massColour(((b - 0.5) / BINS) ** 2)}}`);
  for (let k = 1; k <= maxHeads; k++) {
    rules.push(`.tv>input:nth-of-type(${k}):checked~div:nth-of-type(${k}){display:block}.tv>input:nth-of-type(${k}):checked~label:nth-of-type(${k}){outline:2px solid #000;font-weight:bold}`);
  }
  return rules.join("\n");
}

const truncate = (s: string, n: number) => ([...s].length > n ? [...s].slice(0, n - 1).join("") + "…" : s);

/** The head grid and matrices of one set in one layer; `id` is unique in the page. */
export function tokenViewHtml(a: SetAttentionSummary, labels: { p: string; q: string }, id: string): string {
  const t = a.tokens;
  if (!t) return "";
  const m = a.members.length;
  const name = `tv-${id}`;
  const out: string[] = [`<div class="tv"><span>layer ${a.layer}, heads: </span>`];
  for (let h = 0; h < a.heads; h++) out.push(`<input type="radio" name="${name}" id="${name}-${h}">`);
  for (let h = 0; h < a.heads; h++) {
    // A head's chip is shaded by the most any of its weights moves between P and Q.
    let moved = 0;
    for (let i = 0; i < m; i++) t.q[h][i].forEach((v, k) => { moved = Math.max(moved, Math.abs(v - t.p[h][i][k])); });
    out.push(`<label for="${name}-${h}" style="background:${moved === 0 ? "#fff" : massColour(moved)};color:${moved > 0.3 ? "#fff" : "#000"}" title="${esc(`head ${h}: largest |Q − P| weight ${show(moved)}`)}">h${h}</label>`);
  }
  for (let h = 0; h < a.heads; h++) {
    const rows: string[] = [];
    rows.push(`<tr><th class="r">head ${h} · key →</th>${t.keys.map((k) => `<th class="k${k.step === a.step ? " own" : ""}" title="${esc(`${k.text} (${k.step === -1 ? "prompt" : k.step === a.step ? "this set" : `step ${k.step}`})`)}">${esc(truncate(k.text, 10))}</th>`).join("")}</tr>`);
    for (const [side, w] of [[`P ${labels.p}`, t.p], [`Q ${labels.q}`, t.q]] as const) {
      if (side.startsWith("Q")) rows.push(`<tr class="sep"><td colspan="${t.keys.length + 1}"></td></tr>`);
      for (let i = 0; i < m; i++) {
        // The value alone on hover (row and column say whose): a view of every layer holds tens of thousands of cells.
        const cells = w[h][i].map((v) => (v === 0 ? '<td class="z" title="0 (exactly)">0</td>' : `<td class="b${binOf(v)}" title="${show(v)}"></td>`));
        rows.push(`<tr><th class="r">${esc(truncate(`${side.split(" ")[0]} ${i}: ${JSON.stringify(a.members[i])}`, 24))}</th>${cells.join("")}</tr>`);
      }
    }
    const hidden = t.hidden.keys ? `<p><small>${t.hidden.keys} earlier prompt keys not shown (together at most ${esc(show(t.hidden.maxMass))} of a row's weight).</small></p>` : "";
    out.push(`<div><table class="tm">${rows.join("")}</table>${hidden}</div>`);
  }
  out.push("</div>");
  return out.join("");
}
