// The completion experiment as the extension and its results page see it: what to run (the
// engine host request's body) and what came out (a view of the run built by the engine host,
// validated again by the extension and by the page). Text from the model and from the task
// file travels as plain strings: the page renders it with textContent only.
import { z } from "zod";
import type { TempoMode } from "./generation.js";
import { BASELINE_ARMS, baselinesSchema } from "./baselines.js";

/** The arms are modes, the greedy baseline first. */
export const EXPERIMENT_ARMS = ["standard", "isolated", "visible", "causal"] as const satisfies readonly TempoMode[];
export const DEFAULT_EXPERIMENT_ARMS = ["standard", "isolated", "visible"] as const;
export const experimentArmSchema = z.enum(EXPERIMENT_ARMS);
export type ExperimentArm = z.infer<typeof experimentArmSchema>;
/** What a result is of: a mode, or a matched-compute baseline (sample, beam). */
const resultArmSchema = z.enum([...EXPERIMENT_ARMS, ...BASELINE_ARMS]);

export const experimentSpecSchema = z.object({
  /** A HumanEval-style .jsonl file; absent: the built-in suite. */
  tasksPath: z.string().min(1).optional(),
  arms: z.array(experimentArmSchema).min(1).max(EXPERIMENT_ARMS.length).refine((a) => new Set(a).size === a.length, "an arm is named twice"),
  /** The first `limit` tasks; absent: all. */
  limit: z.number().int().positive().optional(),
  /** Matched-compute baselines: the experiment file's `eval.baselines`; absent: none. */
  baselines: baselinesSchema.optional(),
}).strict();
export type ExperimentSpec = z.infer<typeof experimentSpecSchema>;

const tableSchema = z.object({
  title: z.string(),
  note: z.string().optional(),
  head: z.array(z.string()),
  rows: z.array(z.array(z.string())),
}).strict();
export type ExperimentTable = z.infer<typeof tableSchema>;

const unitResultSchema = z.object({
  arm: resultArmSchema,
  /** Not run here (no Python interpreter, prompt too long): `error` says why. */
  skipped: z.boolean(),
  error: z.string().optional(),
  stopReason: z.string(),
  /** Execution outcome of the primary completion (pass, fail, timeout, memory, skipped). */
  status: z.string(),
  pass: z.boolean(),
  exact: z.boolean(),
  editSimilarity: z.number(),
  bestOfSetPass: z.boolean(),
  /** The primary completion (truncated at the end of the function) and its test output. */
  completion: z.string(),
  output: z.string(),
  paths: z.object({ n: z.number().int().nonnegative(), passed: z.number().int().nonnegative(), total: z.number().nullable() }).strict(),
  forwardPasses: z.number().int().nonnegative(),
  /** Rows llama.cpp evaluated for this unit, prompt included: the cost a baseline is matched on. */
  rowsDecoded: z.number().int().nonnegative(),
  /** A baseline's budget: the rows the matched TEMPO arm decoded on this task, and what they bought. */
  budget: z.object({
    matchedTo: experimentArmSchema,
    rows: z.number().int().nonnegative(),
    samples: z.number().int().nonnegative().optional(),
    beamWidth: z.number().int().positive().optional(),
    /** Beam search: rows its beams decoded (re-decoded prefixes included). */
    beamRows: z.number().int().nonnegative().optional(),
  }).strict().optional(),
}).strict();
export type ExperimentUnitResult = z.infer<typeof unitResultSchema>;

const taskResultSchema = z.object({
  taskId: z.string(),
  category: z.string().optional(),
  language: z.string(),
  prompt: z.string(),
  reference: z.string(),
  arms: z.array(unitResultSchema),
}).strict();
export type ExperimentTaskResult = z.infer<typeof taskResultSchema>;

export const experimentViewSchema = z.object({
  /** The staged folder holding results.jsonl, summary.json, report.md and report.html. */
  dir: z.string(),
  source: z.string(),
  model: z.string(),
  /** The modes, then the baselines (the report's order). */
  arms: z.array(resultArmSchema),
  baseline: experimentArmSchema,
  primaryMetric: z.string(),
  aborted: z.boolean(),
  wallMs: z.number(),
  /** Tasks in the paired analysis, and those skipped (not failures) with the reasons. */
  analysed: z.number().int().nonnegative(),
  skipped: z.object({ count: z.number().int().nonnegative(), summary: z.string() }).strict(),
  /** The report's tables: quality per arm (Wilson / bootstrap intervals), paired tests, cost, outcomes. */
  tables: z.array(tableSchema),
  tasks: z.array(taskResultSchema),
}).strict();
export type ExperimentView = z.infer<typeof experimentViewSchema>;

/** Progress of a running experiment: task × arm units finished. */
export const experimentProgressSchema = z.object({
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  taskId: z.string(),
  arm: resultArmSchema,
}).strict();
export type ExperimentProgress = z.infer<typeof experimentProgressSchema>;

/** "12/45 task×arm · ETA 3 min": the ETA extrapolates the mean time per finished unit. */
export function progressText(p: Pick<ExperimentProgress, "done" | "total">, elapsedMs: number): string {
  const head = `${p.done}/${p.total} task×arm`;
  if (p.done === 0 || p.done >= p.total) return head;
  const remainingS = ((elapsedMs / p.done) * (p.total - p.done)) / 1000;
  const eta = remainingS < 60 ? `${Math.ceil(remainingS)} s` : remainingS < 3600 ? `${Math.round(remainingS / 60)} min` : `${(remainingS / 3600).toFixed(1)} h`;
  return `${head} · ETA ${eta}`;
}

/**
 * A count that can be astronomically large (paths through a run's sets multiply): exact below a
 * million, else three significant digits as "9.81 × 10^23" (never JavaScript's "9.8e+23" form);
 * null (no finite count) is "∞".
 */
export function countText(n: number | null): string {
  if (n === null) return "∞";
  if (Math.abs(n) < 1e6) return String(n);
  const [mantissa, exponent] = n.toExponential(2).split("e");
  return `${mantissa} × 10^${Number(exponent)}`;
}

/** The limit box's text: empty = every task; otherwise a positive whole number. */
export function parseLimit(text: string): { limit?: number; error?: string } {
  const t = text.trim();
  if (t === "") return {};
  if (!/^\d+$/.test(t) || Number(t) < 1 || !Number.isSafeInteger(Number(t))) return { error: "a positive whole number of tasks, or empty for all" };
  return { limit: Number(t) };
}
