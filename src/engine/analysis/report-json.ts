/** report.json: the report as machine-readable JSON (steps[i].js = JS in nats at step i). */
import type { DivergenceReport } from "./report-model.js";

/** Non-finite numbers (an infinite KL) become null, as JSON has no Infinity. */
export function renderReportJson(report: DivergenceReport): string {
  return JSON.stringify(report, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) + "\n";
}
