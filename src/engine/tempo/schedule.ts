/**
 * Threshold schedules: the threshold in force at each step, from `threshold` at step 0 to
 * `thresholdEnd` at the last step (step maxSteps - 1); f = step / (maxSteps - 1) in [0, 1].
 * - constant: `threshold` at every step;
 * - linear: threshold + (thresholdEnd - threshold) f;
 * - cosine: thresholdEnd + (threshold - thresholdEnd) (1 + cos(pi f)) / 2, as cosine
 *   learning-rate schedules: flat at both ends, steepest half way.
 * Pure (no Node APIs): the playground previews the curve with the same function.
 */
import type { GenerationConfig, ThresholdSchedule } from "../types.js";

/** Schedules whose threshold moves, so `thresholdEnd` applies. */
export const MOVING_SCHEDULES: readonly ThresholdSchedule[] = ["linear", "cosine"];

export type ScheduleSettings = Pick<GenerationConfig, "schedule" | "threshold" | "thresholdEnd" | "maxSteps">;

/** Threshold in force at `step` under the configured schedule. */
export function thresholdAt(s: ScheduleSettings, step: number): number {
  if (s.schedule === "constant" || s.maxSteps <= 1) return s.threshold;
  const f = Math.min(1, step / (s.maxSteps - 1));
  if (s.schedule === "cosine") return s.thresholdEnd + ((s.threshold - s.thresholdEnd) * (1 + Math.cos(Math.PI * f))) / 2;
  return s.threshold + (s.thresholdEnd - s.threshold) * f;
}

/** `points` thresholds spread over the run, first and last step included: a curve preview. */
export function schedulePreview(s: ScheduleSettings, points = 9): number[] {
  const n = Math.max(2, Math.min(points, s.maxSteps));
  return Array.from({ length: n }, (_, i) => thresholdAt(s, Math.round((i * (s.maxSteps - 1)) / (n - 1))));
}

/** The preview as one line: `0.200 → 0.193 → … → 0.020 over 64 steps`. */
export function schedulePreviewText(s: ScheduleSettings): string {
  return `${schedulePreview(s).map((t) => t.toFixed(3)).join(" → ")} over ${s.maxSteps} steps`;
}
