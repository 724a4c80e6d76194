/**
 * report.html: one self-contained page (inline CSS, charts inline as SVG, no scripts, no
 * external resources). Every piece of model or user text goes through escapeHtml.
 */
import { shownContrasts, type DivergenceReport } from "./report-model.js";
import { tokenViewCss, tokenViewHtml } from "./attention-tokens-html.js";
import { renderAttentionCharts, renderCharts, stepAnchor, type ReportCharts } from "./report-charts.js";
import { escapeHtml as esc, fmt, fmtInterval, fmtMeanSe, summaryRows } from "./report-format.js";

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:8px 0 20px;display:block;overflow-x:auto;max-width:100%}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.null{background:#f7f7f7;color:#555}
figure{margin:12px 0}code{background:#f3f3f3;padding:0 3px}.tok{font-family:monospace;white-space:pre}
td.zero{background:repeating-linear-gradient(45deg,#fff 0 3px,#e2e2e2 3px 5px);font-weight:bold}
span.zero{display:inline-block;padding:0 4px;border:1px solid #bbb;background:repeating-linear-gradient(45deg,#fff 0 3px,#e2e2e2 3px 5px)}
details{margin:6px 0}summary{cursor:pointer}figure svg{max-width:100%;height:auto}tr:target{outline:2px solid #f28e2b}`;

export async function renderReportHtml(r: DivergenceReport, charts?: ReportCharts): Promise<string> {
  const c = charts ?? (await renderCharts(r));
  const h: string[] = [];
  const title = `Divergence report: ${r.p.label} vs ${r.q.label}`;
  h.push("<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', `<title>${esc(title)}</title>`, `<style>${CSS}${tokenCss(r)}</style></head><body>`);
  h.push(`<h1>${esc(title)}</h1>`);
  if (r.model) h.push(`<p>Model: <code>${esc(r.model.fileName)}</code>, SHA-256 <code>${esc(r.model.sha256)}</code></p>`);
  if (r.settings) h.push(`<p>Settings: ${esc(r.settings)}</p>`);
  h.push(`<p>${r.steps.length} steps. P = ${esc(r.p.label)}, Q = ${esc(r.q.label)}. Null baseline: ${esc(r.nullBaseline.mode)} in two layouts (${esc(r.nullBaseline.layouts[0])} vs ${esc(r.nullBaseline.layouts[1])}). Primary metric: Jensen–Shannon (nats).</p>`);
  if (r.versusNull) {
    const v = r.versusNull;
    h.push(`<p><b>Versus null (JS):</b> ${esc(fmt(100 * v.fractionAboveNullP99))}% of steps above the null's 99th percentile; ${esc(v.wilcoxon.method)}: V = ${esc(fmt(v.wilcoxon.statistic))}, p = ${esc(fmt(v.wilcoxon.pValue))} (n = ${v.wilcoxon.n}).</p>`);
  }
  h.push("<h2>Charts</h2>");
  h.push(`<figure>${c.timeline}<figcaption>Shaded band: the null baseline's range (min to 99th percentile). Zeros are drawn at 1e-12. The largest spikes are labelled with their sets; every point links to its step's row below (hover for its values).</figcaption></figure>`);
  h.push(`<figure>${c.overlap}</figure>`, `<figure>${c.entropy}</figure>`);
  h.push("<h2>Summary</h2><table><thead><tr>");
  for (const t of ["Metric", "Unit", "Mean ± SE", "95% CI (bootstrap)", "Median", "p90", "p95", "p99", "Max", "Null mean ± SE", "Null p99", "Null max"]) h.push(`<th${t === "Metric" ? ' class="l"' : ""}>${esc(t)}</th>`);
  h.push("</tr></thead><tbody>");
  for (const row of summaryRows(r)) {
    const m = row.main, n = row.nul;
    const cells = [fmtMeanSe(m), fmtInterval(m), fmt(m?.median), fmt(m?.p90), fmt(m?.p95), fmt(m?.p99), fmt(m?.max)].map((x) => `<td>${esc(x)}</td>`);
    const nulls = [fmtMeanSe(n), fmt(n?.p99), fmt(n?.max)].map((x) => `<td class="null">${esc(x)}</td>`);
    h.push(`<tr><td class="l">${esc(row.label)}</td><td>${esc(row.unit)}</td>${cells.join("")}${nulls.join("")}</tr>`);
  }
  h.push("</tbody></table>");
  h.push('<h2>Per step</h2><table><thead><tr><th>Step</th><th class="l">Token</th><th>JS</th><th>Null JS</th><th>KL(P‖Q)</th><th>KL(Q‖P)</th><th>TV</th><th>Top-1</th><th>Entropy P</th><th>Entropy Q</th></tr></thead><tbody>');
  const nullJs = new Map(r.nullBaseline.steps.map((s) => [s.index, s.js]));
  for (const s of r.steps) {
    const nums = [fmt(s.js), fmt(nullJs.get(s.index)), fmt(s.klPQ), fmt(s.klQP), fmt(s.tv), s.top1Agree ? "same" : "differs", fmt(s.entropyP), fmt(s.entropyQ)];
    h.push(`<tr id="${stepAnchor(s.index)}"><td>${s.index}</td><td class="l tok">${esc(s.text ?? "")}</td>${nums.map((x) => `<td>${esc(x)}</td>`).join("")}</tr>`);
  }
  h.push("</tbody></table>");
  if (r.attention?.length) h.push(...attentionSection(r));
  h.push("<h2>Method</h2><ul>", ...r.method.map((m) => `<li>${esc(m)}</li>`), "</ul>");
  if (r.notes.length) h.push("<h2>Notes</h2><ul>", ...r.notes.map((n) => `<li>${esc(n)}</li>`), "</ul>");
  h.push(`<p><small>Generated ${esc(r.createdAt)}; report.json holds every number.</small></p></body></html>`, "");
  return h.join("\n");
}

/**
 * Per set: P vs Q per layer and target, the difference beside its null baseline (|P − null|,
 * the same mode in another batch layout: what the difference would be from rounding alone),
 * then the heatmaps. Exact zeros are hatched cells reading "0".
 */
function attentionSection(r: DivergenceReport): string[] {
  const a = r.attention!;
  const heatmaps = renderAttentionCharts(r);
  const h: string[] = ["<h2>Attention between parallel tokens</h2>"];
  h.push(`<p>Captured in the forward pass that holds each set (flash attention off), in three replays of the same sets: P (${esc(r.p.label)}), Q (${esc(r.q.label)}) and the null baseline (${esc(r.nullBaseline.mode)}, the other batch layout). Per layer and target: the mean attention mass of the set's members over members and heads under P and Q, Q − P, and beside it max |P − Q| and max |P − null| over members and heads. A difference means something only where |P − Q| stands far above |P − null|. <span class="zero">0</span> is an exact zero (nothing there at all), not a small value.</p>`);
  for (const step of [...new Set(a.map((x) => x.step))]) {
    const items = a.map((x, i) => ({ x, svg: heatmaps[i] })).filter((it) => it.x.step === step);
    const sib = (side: "p" | "q") => Math.max(...items.flatMap((it) => it.x[side][it.x.targets.indexOf("siblings")].flat()));
    h.push(`<details><summary>step ${step}: <span class="tok">${esc(items[0].x.members.map((m) => JSON.stringify(m)).join(" | "))}</span> (max sibling attention: P ${esc(fmt(sib("p")))}, Q ${esc(fmt(sib("q")))})</summary>`);
    h.push(`<table><thead><tr><th>Layer</th><th class="l">Target</th><th>P: ${esc(r.p.label)}</th><th>Q: ${esc(r.q.label)}</th><th>Q − P</th><th>max |P − Q|</th><th class="null">max |P − null|</th></tr></thead><tbody>`);
    for (const { x } of items) {
      for (const c of shownContrasts(x)) {
        const td = (v: number, cls = "") => `<td class="${[v === 0 ? "zero" : "", cls].filter(Boolean).join(" ")}">${esc(fmt(v))}</td>`;
        h.push(`<tr><td>${x.layer}</td><td class="l">${esc(c.target)}</td>${td(c.p)}${td(c.q)}${td(c.diff)}${td(c.maxAbsPQ)}${td(c.maxAbsPNull, "null")}</tr>`);
      }
    }
    h.push("</tbody></table>");
    const tokenViews = items.filter((it) => it.x.tokens);
    if (tokenViews.length) {
      h.push("<p><b>Token by token:</b> click a head (shaded by the most one of its weights moves between P and Q) to see the weight each member (rows, P above Q) puts on each key (columns, labelled by token text; the set's own cells highlighted).</p>");
      for (const it of tokenViews) h.push(tokenViewHtml(it.x, { p: r.p.label, q: r.q.label }, `${step}-${it.x.layer}`));
    }
    for (const it of items) h.push(`<figure>${it.svg}</figure>`);
    h.push("</details>");
  }
  return h;
}

/** The token view's CSS, when the report has token-level attention. */
function tokenCss(r: DivergenceReport): string {
  const withTokens = (r.attention ?? []).filter((a) => a.tokens);
  return withTokens.length ? "\n" + tokenViewCss(Math.max(...withTokens.map((a) => a.heads))) : "";
}
