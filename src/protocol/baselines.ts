/**
 * The matched-compute baselines of `tempo eval` (docs/eval.md): best-of-n sampling and beam
 * search in standard mode, each given, task by task, the rows a TEMPO arm decoded on that task.
 * Names and defaults only (pure); the engine's src/engine/eval/runner.ts checks the ranges.
 */
export const BASELINE_ARMS = ["sample", "beam"] as const;
export type BaselineArm = (typeof BASELINE_ARMS)[number];

export const DEFAULT_BASELINE_SAMPLING = { temperature: 0.8, topP: 0.95, seed: 1 } as const;

/** Ranges, as flags and experiment files state them. */
export const BASELINE_LIMITS = {
  temperature: { min: 0, max: 100 }, // (0, 100]
  topP: { min: 0, max: 1 }, // (0, 1]
  seed: { min: 1, max: 2 ** 31 }, // sample i of a task uses seed + i: MT19937 takes [1, 2^32 - 1]
  beamWidth: { min: 1, max: 256 },
} as const;
