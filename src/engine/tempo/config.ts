/**
 * Generation settings: defaults and validation. Every entry point (CLI, engine host, tests)
 * goes through `resolveConfig`, so a bad value is one clear message everywhere.
 */
import { z } from "zod";
import { TempoInputError } from "../model.js";
import { GenerationConfig, NEXT_STEP_POLICIES, TEMPO_MODES, THRESHOLD_SCHEDULES } from "../types.js";
import { MAX_LANES } from "./lanes.js";

export const DEFAULT_CONFIG: GenerationConfig = {
  mode: "isolated",
  policy: "mixture",
  threshold: 0.1,
  relativeAlpha: 0,
  schedule: "constant",
  thresholdEnd: 0.1,
  maxWidth: 8,
  maxSteps: 64,
  minSteps: 0,
  temperature: 1,
  stopStrings: [],
};

const unitInterval = (name: string) => z.number({ error: `${name} must be a number` }).gt(0, `${name} must be in (0, 1]`).lte(1, `${name} must be in (0, 1]`);

const configSchema = z.object({
  mode: z.enum(TEMPO_MODES as [string, ...string[]], { error: `mode must be one of ${TEMPO_MODES.join(", ")}` }),
  policy: z.enum(NEXT_STEP_POLICIES as [string, ...string[]], { error: `policy must be one of ${NEXT_STEP_POLICIES.join(", ")}` }),
  threshold: unitInterval("threshold"),
  relativeAlpha: z.number().min(0, "relative alpha must be in [0, 1]").max(1, "relative alpha must be in [0, 1]"),
  schedule: z.enum(THRESHOLD_SCHEDULES as [string, ...string[]], { error: `schedule must be one of ${THRESHOLD_SCHEDULES.join(", ")}` }),
  thresholdEnd: unitInterval("threshold end"),
  maxWidth: z.number().int("max width must be an integer").min(1, "max width must be at least 1")
    .max(MAX_LANES, `max width must be at most ${MAX_LANES} (the lane limit: llama.cpp allows 256 sequences; main and scratch take two)`),
  maxSteps: z.number().int("max steps must be an integer").min(1, "max steps must be at least 1").max(1_000_000, "max steps must be at most 1000000"),
  minSteps: z.number().int("min steps must be an integer").min(0, "min steps must be at least 0"),
  temperature: z.number().gt(0, "temperature must be > 0").max(100, "temperature must be at most 100"),
  stopStrings: z.array(z.string().min(1, "stop strings cannot be empty")),
}).strict();

export function resolveConfig(partial: Partial<GenerationConfig> = {}): GenerationConfig {
  const merged = { ...DEFAULT_CONFIG, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  // The end threshold follows the threshold unless given (a bad threshold is reported once).
  if (partial.thresholdEnd === undefined) {
    const t = merged.threshold;
    merged.thresholdEnd = typeof t === "number" && t > 0 && t <= 1 ? t : DEFAULT_CONFIG.thresholdEnd;
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    throw new TempoInputError(parsed.error.issues.map((i) => (i.code === "unrecognized_keys" ? `unknown setting(s): ${i.keys.join(", ")}` : i.message)).join("; "));
  }
  const config = parsed.data as GenerationConfig;
  if (config.minSteps > config.maxSteps) throw new TempoInputError(`min steps (${config.minSteps}) cannot exceed max steps (${config.maxSteps})`);
  // Standard mode is ordinary greedy decoding: one token per step.
  if (config.mode === "standard") config.maxWidth = 1;
  return config;
}
