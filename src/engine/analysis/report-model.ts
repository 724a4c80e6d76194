/**
 * The divergence report's data: per-step metrics of P vs Q (e.g. isolated vs visible under
 * teacher forcing), the null baseline (the same mode in two batch layouts) with the same
 * metrics, and summary statistics. The renderers (report-json/md/html) only format this.
 */
import type { TempoMode } from "../types.js";
import type { DivergenceMetrics } from "./divergence.js";
import type { AttentionContrast, SetAttentionContrast } from "../../protocol/attention.js";
import { aboveNullBand } from "../../protocol/null-band.js";
import { bootstrapMean, summarize, wilcoxonSignedRank, type BootstrapOptions, type Interval, type Summary, type TestResult } from "./stats.js";

/** 2: attention summaries hold P, Q and the null baseline (p / q / nullBaseline, was mass). */
export const REPORT_SCHEMA_VERSION = 2;

/** One step's metrics. `js` is the Jensen–Shannon divergence in nats between P and Q. */
export type StepMetrics = DivergenceMetrics & {
  index: number;
  /** Token(s) chosen at this step, for display only (model text: always escaped). */
  text?: string;
};

export interface MetricDef {
  key: string;
  label: string;
  unit: string;
  /** Whether a larger value means the distributions differ more (for the null comparison). */
  largerIsMoreDifferent: boolean;
  get(m: DivergenceMetrics): number | undefined;
}

/** The metrics summarised, in table order. `js` is the primary metric. */
export function metricDefs(ks: readonly number[]): MetricDef[] {
  const defs: MetricDef[] = [
    { key: "js", label: "Jensen–Shannon", unit: "nats", largerIsMoreDifferent: true, get: (m) => m.js },
    { key: "klPQ", label: "KL(P‖Q)", unit: "nats", largerIsMoreDifferent: true, get: (m) => m.klPQ },
    { key: "klQP", label: "KL(Q‖P)", unit: "nats", largerIsMoreDifferent: true, get: (m) => m.klQP },
    { key: "tv", label: "Total variation", unit: "", largerIsMoreDifferent: true, get: (m) => m.tv },
    { key: "cosineLogp", label: "Cosine of log-probs", unit: "", largerIsMoreDifferent: false, get: (m) => m.cosineLogp },
    { key: "top1Agree", label: "Top-1 agreement", unit: "fraction", largerIsMoreDifferent: false, get: (m) => (m.top1Agree ? 1 : 0) },
  ];
  for (const k of ks) {
    defs.push({ key: `overlap@${k}`, label: `Top-${k} overlap`, unit: "fraction", largerIsMoreDifferent: false, get: (m) => m.topK.find((t) => t.k === k)?.overlap });
    defs.push({ key: `jaccard@${k}`, label: `Top-${k} Jaccard`, unit: "fraction", largerIsMoreDifferent: false, get: (m) => m.topK.find((t) => t.k === k)?.jaccard });
  }
  defs.push(
    { key: "entropyP", label: "Entropy of P", unit: "nats", largerIsMoreDifferent: false, get: (m) => m.entropyP },
    { key: "entropyQ", label: "Entropy of Q", unit: "nats", largerIsMoreDifferent: false, get: (m) => m.entropyQ },
    { key: "massP", label: "Set mass under P", unit: "prob", largerIsMoreDifferent: false, get: (m) => m.massP },
    { key: "massQ", label: "Set mass under Q", unit: "prob", largerIsMoreDifferent: false, get: (m) => m.massQ },
  );
  return defs;
}

export type MetricSummary = Summary & { bootstrap: Interval };

export interface NullBaseline {
  /** The one mode decoded twice. */
  mode: TempoMode;
  /** The two batch layouts compared, in words (e.g. "set alone", "set + unrelated row"). */
  layouts: [string, string];
  steps: StepMetrics[];
  summary: Record<string, MetricSummary>;
}

/**
 * Where one set's members looked, in one layer, under P, under Q and in the null baseline (P's
 * mode in the other batch layout): each captured in the replay's forward pass that holds the
 * set. p[t][m][h] = attention of member m, head h, on target t (self, siblings, prompt,
 * earlier sets, BOS, other). In isolated mode the siblings row is exactly zero.
 */
export interface SetAttentionSummary {
  step: number;
  layer: number;
  /** Member texts, in member order (model text: always escaped). */
  members: string[];
  heads: number;
  targets: string[];
  p: number[][][];
  q: number[][][];
  nullBaseline: number[][][];
  /** Token-level weights for the report's head grid (the first sets only: it is large). */
  tokens?: SetTokenAttention;
}

/**
 * One set in one layer, token by token: the weight each member puts on each key, per head,
 * under P and under Q (the two replays lay out the same cells, so keys align).
 */
export interface SetTokenAttention {
  /** The keys shown, in cell order: token text (display form), the step that made it (-1: prompt). */
  keys: { text: string; step: number }[];
  /** Earlier prompt keys left out (after BOS, before the shown ones) and their total weight, max over members, heads and P/Q. */
  hidden: { keys: number; maxMass: number };
  /** p[h][m][k] and q[h][m][k]. */
  p: number[][][];
  q: number[][][];
}

/** The targets the reports' comparison tables show ("other" is a consistency check, kept in report.json). */
export const CONTRAST_TARGETS: readonly string[] = ["siblings", "self", "prompt", "earlierSets", "bos"];

/** One set's attention in one layer as contrasts by target (every target, "other" included). */
function attentionContrast(a: SetAttentionSummary): AttentionContrast[] {
  return a.targets.map((target, t) => {
    const p = a.p[t].flat(), q = a.q[t].flat(), n = a.nullBaseline[t].flat();
    const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
    const maxAbs = (x: number[], y: number[]) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
    return {
      target, p: mean(p), q: mean(q), diff: mean(q) - mean(p), maxAbsPQ: maxAbs(p, q), maxAbsPNull: maxAbs(p, n),
      pZero: p.every((v) => v === 0), qZero: q.every((v) => v === 0),
    };
  });
}

/** The contrasts on the targets the reports and the comparison view show. */
export function shownContrasts(a: SetAttentionSummary): AttentionContrast[] {
  return attentionContrast(a).filter((c) => CONTRAST_TARGETS.includes(c.target));
}

/** Each set and layer with its shown contrasts (what the comparison view gets). */
export function setContrasts(attention: readonly SetAttentionSummary[]): SetAttentionContrast[] {
  return attention.map((a) => ({ step: a.step, layer: a.layer, members: a.members, contrasts: shownContrasts(a) }));
}

export interface DivergenceReport {
  schemaVersion: number;
  createdAt: string;
  /** P and Q: what was compared. KL(P‖Q) is klPQ. */
  p: { mode: TempoMode; label: string };
  q: { mode: TempoMode; label: string };
  model?: { fileName: string; sha256: string };
  /** Every setting of the run as one line (tempo compare fills it from its experiment.json), shown at the top. */
  settings?: string;
  /** Primary metric's name (corrections for many metrics name one primary). */
  primaryMetric: "js";
  ks: number[];
  steps: StepMetrics[];
  summary: Record<string, MetricSummary>;
  nullBaseline: NullBaseline;
  /** Per-step paired comparison of the primary metric against the null baseline. */
  versusNull: {
    metric: "js";
    /** Fraction of steps whose JS exceeds the null baseline's 99th percentile. */
    fractionAboveNullP99: number;
    /** Wilcoxon signed-rank on per-step JS (comparison minus null), two-sided. */
    wilcoxon: TestResult & { n: number; zeros: number; exact: boolean };
  } | null;
  /** Lines describing the method (metric definitions, settings). */
  method: string[];
  notes: string[];
  /** Attention between parallel tokens for some sets, under P, Q and the null baseline, when captured. */
  attention?: SetAttentionSummary[];
}

export interface BuildReportInput {
  p: { mode: TempoMode; label?: string };
  q: { mode: TempoMode; label?: string };
  model?: { fileName: string; sha256: string };
  steps: StepMetrics[];
  nullBaseline: { mode: TempoMode; layouts: [string, string]; steps: StepMetrics[] };
  ks?: readonly number[];
  bootstrap?: BootstrapOptions;
  notes?: string[];
  now?: Date;
  attention?: SetAttentionSummary[];
}

export function summarizeSteps(steps: readonly StepMetrics[], defs: readonly MetricDef[], boot?: BootstrapOptions): Record<string, MetricSummary> {
  const out: Record<string, MetricSummary> = {};
  for (const d of defs) {
    const vals = steps.map((s) => d.get(s)).filter((v): v is number => v !== undefined && Number.isFinite(v));
    if (!vals.length) continue;
    out[d.key] = { ...summarize(vals), bootstrap: bootstrapMean(vals, boot) };
  }
  return out;
}

export function buildDivergenceReport(input: BuildReportInput): DivergenceReport {
  const ks = [...(input.ks ?? input.steps[0]?.topK.map((t) => t.k) ?? [])];
  const defs = metricDefs(ks);
  const boot = { resamples: 2000, level: 0.95, seed: 1, ...input.bootstrap };
  const nul = input.nullBaseline;
  const summary = summarizeSteps(input.steps, defs, boot);
  const nullSummary = summarizeSteps(nul.steps, defs, boot);
  // Pair comparison and null by step index (the same teacher-forced steps).
  const nullByIndex = new Map(nul.steps.map((s) => [s.index, s.js]));
  const paired = input.steps.filter((s) => nullByIndex.has(s.index));
  let versusNull: DivergenceReport["versusNull"] = null;
  if (paired.length >= 2 && nullSummary.js) {
    const above = paired.filter((s) => aboveNullBand(s.js, nullSummary.js)).length;
    versusNull = {
      metric: "js",
      fractionAboveNullP99: above / paired.length,
      wilcoxon: wilcoxonSignedRank(paired.map((s) => s.js), paired.map((s) => nullByIndex.get(s.index)!)),
    };
  }
  const pLabel = input.p.label ?? input.p.mode, qLabel = input.q.label ?? input.q.mode;
  const method = [
    `P = next-token distribution under ${pLabel}, Q = under ${qLabel}, at the same teacher-forced steps (the same parallel sets replayed), over the full vocabulary.`,
    "Log-probabilities from a float64 log-softmax of the logits; all divergences in nats (natural log).",
    "KL(P‖Q) = Σ p ln(p/q) and KL(Q‖P) (both directions reported); Jensen–Shannon = ½KL(P‖M) + ½KL(Q‖M), M = (P+Q)/2, bounded by ln 2 ≈ 0.693; total variation = ½Σ|p−q|.",
    "Cosine similarity is of the two log-probability vectors (raw logits carry an arbitrary offset).",
    `Top-k overlap = |A∩B|/k and Jaccard = |A∩B|/|A∪B| of the top-k token sets, k ∈ {${ks.join(", ")}}; top-1 agreement = same most probable token.`,
    "Set mass = probability each distribution puts on the step's parallel set.",
    `Null baseline: ${nul.mode} mode decoded in two batch layouts (${nul.layouts[0]} vs ${nul.layouts[1]}), same steps and metrics: divergence below it is numerical noise.`,
    `Summaries over steps: mean ± standard error, median, 90/95/99th percentiles (R type 7), max; ${Math.round(boot.level * 100)}% percentile bootstrap interval of the mean (${boot.resamples} step-level resamples, seed ${boot.seed}).`,
    "Primary metric: Jensen–Shannon. Versus null: Wilcoxon signed-rank on per-step JS (comparison − null), two-sided, and the share of steps above the null's 99th percentile.",
    "Non-finite values (e.g. an infinite KL when one side gives a token zero probability) are left out of the summaries and written as null in report.json.",
  ];
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    createdAt: (input.now ?? new Date()).toISOString(),
    p: { mode: input.p.mode, label: pLabel },
    q: { mode: input.q.mode, label: qLabel },
    ...(input.model ? { model: input.model } : {}),
    primaryMetric: "js",
    ks,
    steps: input.steps,
    summary,
    nullBaseline: { mode: nul.mode, layouts: nul.layouts, steps: nul.steps, summary: nullSummary },
    versusNull,
    method,
    notes: input.notes ?? [],
    ...(input.attention?.length ? { attention: input.attention } : {}),
  };
}
