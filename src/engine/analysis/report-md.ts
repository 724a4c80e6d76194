/** report.md: summary table with the null baseline beside each metric, then the method. */
import { shownContrasts, type DivergenceReport } from "./report-model.js";
import { escapeMarkdownCell as cell, fmt, fmtInterval, fmtMeanSe, summaryRows } from "./report-format.js";

export function renderReportMarkdown(r: DivergenceReport): string {
  const out: string[] = [];
  out.push(`# Divergence report: ${cell(r.p.label)} vs ${cell(r.q.label)}`, "");
  if (r.model) out.push(`Model: ${cell(r.model.fileName)} (SHA-256 \`${r.model.sha256}\`)  `);
  if (r.settings) out.push(`Settings: ${cell(r.settings)}  `);
  out.push(`Steps: ${r.steps.length}; null baseline: ${cell(r.nullBaseline.mode)} in two layouts (${cell(r.nullBaseline.layouts[0])} vs ${cell(r.nullBaseline.layouts[1])}), ${r.nullBaseline.steps.length} steps.  `);
  out.push(`P = ${cell(r.p.label)}, Q = ${cell(r.q.label)}. Primary metric: Jensen–Shannon (nats).`, "");
  if (r.versusNull) {
    const v = r.versusNull;
    out.push(`**Versus null (JS):** ${fmt(100 * v.fractionAboveNullP99)}% of steps above the null's 99th percentile; ${cell(v.wilcoxon.method)}: V = ${fmt(v.wilcoxon.statistic)}, p = ${fmt(v.wilcoxon.pValue)} (n = ${v.wilcoxon.n}).`, "");
  }
  out.push("## Summary", "");
  out.push("| Metric | Unit | Mean ± SE | 95% CI (bootstrap) | Median | p90 | p95 | p99 | Max | Null mean ± SE | Null p99 | Null max |");
  out.push("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const row of summaryRows(r)) {
    const m = row.main, n = row.nul;
    out.push(`| ${cell(row.label)} | ${row.unit} | ${fmtMeanSe(m)} | ${fmtInterval(m)} | ${fmt(m?.median)} | ${fmt(m?.p90)} | ${fmt(m?.p95)} | ${fmt(m?.p99)} | ${fmt(m?.max)} | ${fmtMeanSe(n)} | ${fmt(n?.p99)} | ${fmt(n?.max)} |`);
  }
  out.push("", "## Per step", "", "| Step | Token | JS | Null JS | KL(P‖Q) | TV | Top-1 | Entropy P | Entropy Q |", "|---|---|---|---|---|---|---|---|---|");
  const nullJs = new Map(r.nullBaseline.steps.map((s) => [s.index, s.js]));
  for (const s of r.steps) {
    out.push(`| ${s.index} | ${s.text === undefined ? "" : cell(s.text)} | ${fmt(s.js)} | ${fmt(nullJs.get(s.index))} | ${fmt(s.klPQ)} | ${fmt(s.tv)} | ${s.top1Agree ? "same" : "differs"} | ${fmt(s.entropyP)} | ${fmt(s.entropyQ)} |`);
  }
  if (r.attention?.length) {
    out.push("", "## Attention between parallel tokens", "");
    out.push(`Captured in the forward pass that holds each set, in three replays of the same sets: P (${cell(r.p.label)}), Q (${cell(r.q.label)}) and the null baseline (${cell(r.nullBaseline.mode)}, the other batch layout). Mean over members and heads of the mass on each target, Q − P, and the largest |P − Q| and |P − null| over members and heads (a difference is real only far above |P − null|). "0 (exact)": exactly zero. report.html has the heatmaps.`, "");
    out.push(`| Step | Layer | Members | Target | P: ${cell(r.p.label)} | Q: ${cell(r.q.label)} | Q − P | max \\|P − Q\\| | max \\|P − null\\| |`, "|---|---|---|---|---|---|---|---|---|");
    const z = (v: number) => (v === 0 ? "0 (exact)" : fmt(v));
    for (const a of r.attention) {
      for (const c of shownContrasts(a)) {
        out.push(`| ${a.step} | ${a.layer} | ${cell(a.members.join(" · "))} | ${c.target} | ${z(c.p)} | ${z(c.q)} | ${z(c.diff)} | ${z(c.maxAbsPQ)} | ${z(c.maxAbsPNull)} |`);
      }
    }
  }
  out.push("", "## Method", "", ...r.method.map((m) => `- ${m}`));
  if (r.notes.length) out.push("", "## Notes", "", ...r.notes.map((n) => `- ${cell(n)}`));
  out.push("", `_Generated ${r.createdAt}; report.json holds every number._`, "");
  return out.join("\n");
}
