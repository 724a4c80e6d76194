/**
 * Paired statistics over several prompts (`tempo compare --prompts`): for each metric, the
 * per-prompt value of the comparison (e.g. mean JS of isolated vs visible over the prompt's
 * steps) is paired with the same prompt's null baseline. Each metric gets the mean paired
 * difference with a t interval and a paired bootstrap interval, a Wilcoxon signed-rank and a
 * paired t test; p-values are adjusted across metrics (Holm and BH), primary metric named.
 */
import { benjaminiHochberg, holm, pairedBootstrapMeanDiff, pairedT, wilcoxonSignedRank, type BootstrapOptions, type Interval } from "./stats.js";

export interface PromptMetricValues {
  id: string;
  /** metric key -> per-prompt value under the comparison. */
  comparison: Record<string, number>;
  /** metric key -> the same prompt's null-baseline value. */
  nullBaseline: Record<string, number>;
}

export interface PairedMetricResult {
  metric: string;
  n: number;
  meanComparison: number;
  meanNull: number;
  /** mean(comparison - null), with a t interval and a paired (item-level) bootstrap interval. */
  meanDiff: number;
  tInterval: Interval;
  bootstrap: Interval;
  tPValue: number;
  wilcoxonPValue: number;
  wilcoxonMethod: string;
  /** Wilcoxon p adjusted across the metrics. */
  holm: number;
  bh: number;
}

export interface PairedPromptStats {
  primaryMetric: string;
  prompts: number;
  metrics: PairedMetricResult[];
}

export function pairedPromptStats(items: readonly PromptMetricValues[], metrics: readonly string[], opts: { primaryMetric?: string; level?: number; bootstrap?: BootstrapOptions } = {}): PairedPromptStats {
  const level = opts.level ?? 0.95;
  const results: Omit<PairedMetricResult, "holm" | "bh">[] = [];
  for (const metric of metrics) {
    const pairs = items.filter((it) => Number.isFinite(it.comparison[metric]) && Number.isFinite(it.nullBaseline[metric]));
    if (pairs.length < 2) continue; // a paired test needs two prompts with finite values
    const a = pairs.map((p) => p.comparison[metric]), b = pairs.map((p) => p.nullBaseline[metric]);
    const t = pairedT(a, b, level);
    const w = wilcoxonSignedRank(a, b);
    results.push({
      metric, n: pairs.length,
      meanComparison: a.reduce((s, v) => s + v, 0) / a.length,
      meanNull: b.reduce((s, v) => s + v, 0) / b.length,
      meanDiff: t.meanDiff, tInterval: t.ci,
      bootstrap: pairedBootstrapMeanDiff(a, b, { level, ...opts.bootstrap }),
      tPValue: t.pValue, wilcoxonPValue: w.pValue, wilcoxonMethod: w.method,
    });
  }
  const ps = results.map((r) => r.wilcoxonPValue);
  const h = holm(ps), bh = benjaminiHochberg(ps);
  return {
    primaryMetric: opts.primaryMetric ?? "js",
    prompts: items.length,
    metrics: results.map((r, i) => ({ ...r, holm: h[i], bh: bh[i] })),
  };
}
