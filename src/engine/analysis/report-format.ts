/** Number formatting and escaping shared by the Markdown and HTML renderers. */
import { metricDefs, type DivergenceReport, type MetricSummary } from "./report-model.js";

export function fmt(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return "—";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e5 ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

export function fmtMeanSe(s: MetricSummary | undefined): string {
  return s ? `${fmt(s.mean)} ± ${fmt(s.se)}` : "—";
}

export function fmtInterval(s: MetricSummary | undefined): string {
  return s ? `[${fmt(s.bootstrap.lo)}, ${fmt(s.bootstrap.hi)}]` : "—";
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** For a Markdown table cell: HTML-escaped (Markdown passes HTML through), pipes and newlines neutralised. */
export function escapeMarkdownCell(s: string): string {
  return escapeHtml(s).replace(/\|/g, "\\|").replace(/`/g, "\\`").replace(/\r?\n/g, "↵").replace(/([*_[\]\\])/g, "\\$1");
}

export interface SummaryRow {
  key: string;
  label: string;
  unit: string;
  main?: MetricSummary;
  nul?: MetricSummary;
}

/** Rows of the summary table: every metric present in the comparison, beside its null baseline. */
export function summaryRows(r: DivergenceReport): SummaryRow[] {
  return metricDefs(r.ks)
    .filter((d) => r.summary[d.key] || r.nullBaseline.summary[d.key])
    .map((d) => ({ key: d.key, label: d.label, unit: d.unit, main: r.summary[d.key], nul: r.nullBaseline.summary[d.key] }));
}
