/**
 * Generation settings: defaults and validation. Every entry point (CLI, engine host, localhost
 * API, captures read back, tests) goes through `resolveConfig`, so a bad value is one clear
 * message everywhere. Names, ranges, defaults and messages: src/protocol/generation.ts.
 */
import { TempoInputError } from "../errors.js";
import { DEFAULT_CONFIG, generationConfigSchema, type GenerationConfig } from "../../protocol/generation.js";

export { DEFAULT_CONFIG };

/** Settings as given: any subset, values not yet checked (resolveConfig checks them). */
export type GenerationInput = { [K in keyof GenerationConfig]?: unknown };

export function resolveConfig(partial: GenerationInput = {}): GenerationConfig {
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  // The end threshold follows the threshold unless given (a bad threshold is reported once).
  if (partial.thresholdEnd === undefined) {
    merged.thresholdEnd = generationConfigSchema.shape.threshold.safeParse(merged.threshold).success ? merged.threshold : DEFAULT_CONFIG.thresholdEnd;
  }
  const parsed = generationConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new TempoInputError(parsed.error.issues.map((i) => (i.code === "unrecognized_keys" ? `unknown setting(s): ${i.keys.join(", ")}` : i.message)).join("; "));
  }
  const config = parsed.data;
  if (config.minSteps > config.maxSteps) throw new TempoInputError(`min steps (${config.minSteps}) cannot exceed max steps (${config.maxSteps})`);
  if (config.pruneMass > 0 && config.mode !== "isolated") throw new TempoInputError(`pruning needs isolated mode (members told apart by their lanes), got ${config.mode}`);
  // Standard mode is ordinary greedy decoding: one token per step.
  if (config.mode === "standard") config.maxWidth = 1;
  return config;
}
