/**
 * Per-arm estimates with intervals and paired comparisons against the baseline arm, as
 * docs/design/metrics-and-stats.md asks: Wilson intervals on proportions, exact McNemar on paired
 * pass/fail, Wilcoxon signed-rank on paired edit similarity, item-level paired bootstrap
 * intervals on every difference, Holm and BH across the comparisons with pass@1 of the
 * primary path named as the primary metric.
 */
import { benjaminiHochberg, bootstrapMean, holm, mcnemarPaired, pairedBootstrapMeanDiff, wilcoxonSignedRank, wilson, type Interval } from "../analysis/stats.js";
import type { TempoMode } from "../types.js";
import { allArms, type EvalArm, type EvalRun, type ItemResult } from "./runner.js";

export const PRIMARY_METRIC = "pass@1 (primary path)";

export interface Proportion { count: number; n: number; wilson: Interval | null }
export interface MeanEstimate { n: number; mean: number; bootstrap: Interval | null }

export interface ArmSummary {
  arm: EvalArm;
  items: number;
  pass1: Proportion;
  bestOfSet: Proportion;
  exact: Proportion;
  editSimilarity: MeanEstimate;
  /** Mean unbiased pass@k over the items with at least k paths. */
  passAtK: Record<string, MeanEstimate>;
  /** Outcome of the primary completion's execution. */
  outcomes: Record<string, number>;
  stopReasons: Record<string, number>;
  cost: {
    forwardPassesPerTask: number;
    evaluatedTokensPerTask: number;
    generateMsPerTask: number;
    executeMsPerTask: number;
    /** Paths used as samples per task (at most the cap). */
    samplesPerTask: number;
    /** Median number of paths through the sets before the cap. */
    medianTotalPaths: number;
    /** Paths per second of generation wall time. */
    samplesPerSecond: number;
    /** Forward passes per path. */
    passesPerSample: number;
    /** Baselines: the rows allowed per task (the matched arm's tokens evaluated), mean over tasks. */
    budgetRowsPerTask?: number;
  };
}

export interface Comparison {
  arm: EvalArm;
  baseline: TempoMode;
  metric: string;
  primary: boolean;
  method: string;
  statistic: number;
  pValue: number;
  pHolm: number;
  pBH: number;
  /** mean(arm) - mean(baseline) with an item-level paired bootstrap interval. */
  difference: Interval;
  /** McNemar: items only the arm passed (b) and only the baseline passed (c). */
  discordant?: { armOnly: number; baselineOnly: number };
}

export interface EvalSummary {
  primaryMetric: string;
  baseline: TempoMode;
  tasks: number;
  /** Tasks some arm could not run here (left out of every arm: not failures). */
  skippedTasks: string[];
  /** Skipped tasks per reason (e.g. no Python interpreter). */
  skipReasons: Record<string, number>;
  arms: ArmSummary[];
  comparisons: Comparison[];
  aborted: boolean;
  wallMs: number;
}

const BOOT = { resamples: 2000, seed: 1 };

function proportion(flags: boolean[]): Proportion {
  const count = flags.filter(Boolean).length;
  return { count, n: flags.length, wilson: flags.length ? wilson(count, flags.length) : null };
}

function meanEstimate(xs: number[]): MeanEstimate {
  return { n: xs.length, mean: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN, bootstrap: xs.length ? bootstrapMean(xs, BOOT) : null };
}

const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function count<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

function armSummary(arm: EvalArm, items: ItemResult[], ks: number[]): ArmSummary {
  const genSeconds = items.reduce((a, i) => a + i.generateMs, 0) / 1000;
  const samples = items.reduce((a, i) => a + i.paths.n, 0);
  return {
    arm,
    items: items.length,
    pass1: proportion(items.map((i) => i.primary.pass)),
    bestOfSet: proportion(items.map((i) => i.best.pass)),
    exact: proportion(items.map((i) => i.primary.exact)),
    editSimilarity: meanEstimate(items.map((i) => i.primary.editSimilarity)),
    passAtK: Object.fromEntries(ks.map((k) => [String(k), meanEstimate(items.map((i) => i.passAtK[String(k)]).filter((v): v is number => v !== null))])),
    outcomes: count(items, (i) => i.completions[i.primary.completion].status),
    stopReasons: count(items, (i) => i.stopReason),
    cost: {
      forwardPassesPerTask: avg(items.map((i) => i.forwardPasses)),
      evaluatedTokensPerTask: avg(items.map((i) => i.evaluatedTokens)),
      generateMsPerTask: avg(items.map((i) => i.generateMs)),
      executeMsPerTask: avg(items.map((i) => i.executeMs)),
      samplesPerTask: avg(items.map((i) => i.paths.n)),
      medianTotalPaths: median(items.map((i) => i.paths.total)),
      samplesPerSecond: genSeconds > 0 ? samples / genSeconds : NaN,
      passesPerSample: samples ? items.reduce((a, i) => a + i.forwardPasses, 0) / samples : NaN,
      ...(items.some((i) => i.budget) ? { budgetRowsPerTask: avg(items.map((i) => i.budget?.rows ?? NaN)) } : {}),
    },
  };
}

export function summarizeEval(run: EvalRun): EvalSummary {
  const arms = allArms(run.settings);
  const modes = run.settings.arms;
  const baseline: TempoMode = modes.includes("standard") ? "standard" : modes[0];
  // Paired analysis: only tasks that every arm finished and none skipped.
  const byTask = new Map<string, Map<EvalArm, ItemResult>>();
  for (const item of run.items) {
    if (!byTask.has(item.taskId)) byTask.set(item.taskId, new Map());
    byTask.get(item.taskId)!.set(item.arm, item);
  }
  const skipped = [...byTask].flatMap(([id, m]) => {
    const item = [...m.values()].find((i) => i.skipped);
    return item ? [{ id, reason: item.error ?? "not runnable here" }] : [];
  });
  const complete = [...byTask.values()].filter((m) => arms.every((a) => m.has(a)) && ![...m.values()].some((i) => i.skipped));
  const itemsOf = (arm: EvalArm) => complete.map((m) => m.get(arm)!);

  const summaries = arms.map((arm) => armSummary(arm, itemsOf(arm), run.settings.ks));
  const comparisons: Omit<Comparison, "pHolm" | "pBH">[] = [];
  if (complete.length > 0) {
    const base = itemsOf(baseline);
    for (const arm of arms.filter((a) => a !== baseline)) {
      const items = itemsOf(arm);
      const binary = (metric: string, pick: (i: ItemResult) => boolean, primary = false) => {
        const a = items.map(pick), b = base.map(pick);
        const t = mcnemarPaired(a, b);
        comparisons.push({
          arm, baseline, metric, primary, method: t.method, statistic: t.statistic, pValue: t.pValue,
          difference: pairedBootstrapMeanDiff(a.map(Number), b.map(Number), BOOT), discordant: { armOnly: t.b, baselineOnly: t.c },
        });
      };
      binary(PRIMARY_METRIC, (i) => i.primary.pass, true);
      binary("pass@1 (best-of-set path)", (i) => i.best.pass);
      binary("exact match (primary path)", (i) => i.primary.exact);
      const a = items.map((i) => i.primary.editSimilarity), b = base.map((i) => i.primary.editSimilarity);
      const w = wilcoxonSignedRank(a, b);
      comparisons.push({ arm, baseline, metric: "edit similarity (primary path)", primary: false, method: w.method, statistic: w.statistic, pValue: w.pValue, difference: pairedBootstrapMeanDiff(a, b, BOOT) });
    }
  }
  const ps = comparisons.map((c) => c.pValue);
  const pHolm = ps.length ? holm(ps) : [];
  const pBH = ps.length ? benjaminiHochberg(ps) : [];
  return {
    primaryMetric: PRIMARY_METRIC,
    baseline,
    tasks: complete.length,
    skippedTasks: skipped.map((s) => s.id),
    skipReasons: count(skipped, (s) => s.reason),
    arms: summaries,
    comparisons: comparisons.map((c, i) => ({ ...c, pHolm: pHolm[i], pBH: pBH[i] })),
    aborted: run.aborted,
    wallMs: run.wallMs,
  };
}
