/**
 * The matched-compute baselines of `tempo eval` (docs/eval.md): best-of-n sampling and beam
 * search in standard mode, each given, task by task, the rows a TEMPO arm decoded on that task.
 * Names, defaults, the experiment file's `eval.baselines` block and the range of each number:
 * one declaration for the CLI, experiment files, VS Code and the API (pure, zod only).
 */
import { z } from "zod";
import { modeSchema } from "./generation.js";

export const BASELINE_ARMS = ["sample", "beam"] as const;
export type BaselineArm = (typeof BASELINE_ARMS)[number];

export const DEFAULT_BASELINE_SAMPLING = { temperature: 0.8, topP: 0.95, seed: 1 } as const;

/** Ranges, as flags and experiment files state them. */
const BASELINE_LIMITS = {
  temperature: { min: 0, max: 100 }, // (0, 100]
  topP: { min: 0, max: 1 }, // (0, 1]
  seed: { min: 1, max: 2 ** 31 }, // sample i of a task uses seed + i: MT19937 takes [1, 2^32 - 1]
  beamWidth: { min: 1, max: 256 },
} as const;
export type BaselineNumber = keyof typeof BASELINE_LIMITS;

/** `eval.baselines` of an experiment file (types only: the ranges are checked by baselineRangeProblem when the run resolves). */
export const baselinesSchema = z.object({
  arms: z.array(z.enum(BASELINE_ARMS, { error: `baselines must be ${BASELINE_ARMS.join(" or ")}` })).min(1, "at least one baseline is needed"),
  /** The TEMPO arm whose rows on a task are the baselines' budget there. Default: the first TEMPO arm. */
  match: modeSchema.optional(),
  temperature: z.number({ error: "temperature must be a number" }).optional(),
  topP: z.number({ error: "topP must be a number" }).optional(),
  seed: z.number({ error: "seed must be a number" }).int("seed must be an integer").optional(),
  beamWidth: z.number({ error: "beam width must be a number" }).int("beam width must be an integer").optional(),
}).strict();
export type BaselinesBlock = z.output<typeof baselinesSchema>;

/** Why `value` is out of range for `key`, in the words flags and files get; undefined when it is fine. */
export function baselineRangeProblem(key: BaselineNumber, value: number): string | undefined {
  const L = BASELINE_LIMITS[key];
  const open = Number.isFinite(value) && value > L.min && value <= L.max;
  const whole = Number.isInteger(value) && value >= L.min && value <= L.max;
  switch (key) {
    case "temperature": return open ? undefined : `the sampling temperature must be in (${L.min}, ${L.max}], got ${value}`;
    case "topP": return open ? undefined : `top-p must be in (${L.min}, ${L.max}], got ${value}`;
    case "seed": return whole ? undefined : `the seed must be an integer in [${L.min}, ${L.max}], got ${value}`;
    case "beamWidth": return whole ? undefined : `the beam width must be an integer in [${L.min}, ${L.max}], got ${value}`;
  }
}

/** A box's text for `key` (VS Code's settings flow): empty is the default (no value), else a number in range. */
export function parseBaselineNumber(key: BaselineNumber, text: string): { value?: number; error?: string } {
  const t = text.trim();
  if (t === "") return {};
  const value = Number(t);
  if (!Number.isFinite(value)) return { error: `a number, or empty for the default; got "${t}"` };
  const problem = baselineRangeProblem(key, value);
  return problem ? { error: problem } : { value };
}

/** The baselines as a settings summary states them before a run, each default named as tempo eval resolves it. */
export function baselinesSummary(b: BaselinesBlock | undefined): string {
  if (!b) return "baselines none";
  const sampling = `sample: best-of-n sampling, temperature ${b.temperature ?? DEFAULT_BASELINE_SAMPLING.temperature}, top-p ${b.topP ?? DEFAULT_BASELINE_SAMPLING.topP}, seed ${b.seed ?? DEFAULT_BASELINE_SAMPLING.seed}`;
  const beam = `beam: beam search, width ${b.beamWidth ?? "the max width"}`;
  const each = b.arms.map((arm) => (arm === "sample" ? sampling : beam));
  return `baselines at the rows ${b.match ?? "the first TEMPO arm"} decoded per task: ${each.join("; ")}`;
}
