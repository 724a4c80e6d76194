/**
 * The generation settings, declared once: their names, lists of choices, ranges, defaults and
 * messages. The engine's types and resolveConfig (src/engine/tempo/config.ts), the protocols'
 * schemas, the playground's controls (src/extension/webviewHtml.ts), the extension's defaults
 * (src/extension/config.ts) and the CLI help all derive from this module; package.json's
 * `tempo.generation.*` cannot import it, so test/unit/generation-settings.test.ts holds it to
 * this file. Pure (zod only): the webview bundles it.
 */
import { z } from "zod";

/** How members of one parallel set see each other. `standard` is width-1 greedy decoding. */
export const TEMPO_MODES = ["isolated", "visible", "causal", "standard"] as const;
export type TempoMode = (typeof TEMPO_MODES)[number];

/** Which next-token distribution the step after a set is selected from. */
export const NEXT_STEP_POLICIES = ["mixture", "top", "last"] as const;
export type NextStepPolicy = (typeof NEXT_STEP_POLICIES)[number];

/** How the threshold evolves over steps (src/engine/tempo/schedule.ts). */
export const THRESHOLD_SCHEDULES = ["constant", "linear", "cosine"] as const;
export type ThresholdSchedule = (typeof THRESHOLD_SCHEDULES)[number];

/** Why a run ended. */
export const STOP_REASONS = ["eog", "max-steps", "stop-string", "context-full", "aborted"] as const;
export type StopReason = (typeof STOP_REASONS)[number];

/** llama.cpp accepts sequence ids < 256 (LLAMA_MAX_SEQ); one is main, one the null-baseline scratch. */
export const MAX_LANES = 254;

/**
 * A numeric setting's range. `min` is exclusive when `exclusiveMin`; `max` absent = unbounded.
 * `interval`: its messages name the whole interval ("in (0, 1]") rather than the bound crossed.
 * `step`: the playground control's increment.
 */
export interface NumberRange {
  readonly label: string;
  readonly integer: boolean;
  readonly min: number;
  readonly exclusiveMin?: boolean;
  readonly max?: number;
  /** Why the maximum is what it is, appended to its message. */
  readonly maxWhy?: string;
  readonly interval?: boolean;
  readonly step: number;
}

export const NUMBER_RANGES = {
  /** Keep tokens with p >= threshold (absolute rule). 0 would keep the whole vocabulary. */
  threshold: { label: "threshold", integer: false, min: 0, exclusiveMin: true, max: 1, interval: true, step: 0.01 },
  /** Relative rule: the cutoff is max(threshold, alpha * p_max). 0 disables it. */
  relativeAlpha: { label: "relative alpha", integer: false, min: 0, max: 1, interval: true, step: 0.05 },
  thresholdEnd: { label: "threshold end", integer: false, min: 0, exclusiveMin: true, max: 1, interval: true, step: 0.01 },
  maxWidth: {
    label: "max width", integer: true, min: 1, max: MAX_LANES, step: 1,
    maxWhy: "the lane limit: llama.cpp allows 256 sequences; main and scratch take two",
  },
  /** Bounds the run's memory (one step event each), not a model limit: the context ends most runs first. */
  maxSteps: { label: "max steps", integer: true, min: 1, max: 1_000_000, step: 1 },
  minSteps: { label: "min steps", integer: true, min: 0, step: 1 },
  /** Above 100 every distribution is flat to float precision. */
  temperature: { label: "temperature", integer: false, min: 0, exclusiveMin: true, max: 100, step: 0.1 },
  /**
   * Retroactive pruning (docs/pruning.md): members whose mean attention from the next
   * `pruneLookahead` steps is below this leave the KV cache. 0: no pruning.
   */
  pruneMass: { label: "prune mass", integer: false, min: 0, max: 1, interval: true, step: 0.01 },
  /** More would hold (lookahead + 1) x lanes of llama.cpp's 256 sequences for little gain. */
  pruneLookahead: { label: "prune lookahead", integer: true, min: 1, max: 64, step: 1 },
} as const satisfies Record<string, NumberRange>;
export type NumberSetting = keyof typeof NUMBER_RANGES;

/** "(0, 1]", "[1, 254]", "[0, ∞)": a range as messages and help texts write it. */
export function rangeText(r: NumberRange): string {
  return `${r.exclusiveMin ? "(" : "["}${r.min}, ${r.max === undefined ? "∞)" : `${r.max}]`}`;
}

function numberSchema(r: NumberRange) {
  const inRange = `${r.label} must be in ${rangeText(r)}`;
  let s = z.number({ error: `${r.label} must be a number` });
  if (r.integer) s = s.int(`${r.label} must be an integer`);
  s = r.exclusiveMin ? s.gt(r.min, r.interval ? inRange : `${r.label} must be > ${r.min}`) : s.min(r.min, r.interval ? inRange : `${r.label} must be at least ${r.min}`);
  if (r.max !== undefined) s = s.max(r.max, r.interval ? inRange : `${r.label} must be at most ${r.max}${r.maxWhy ? ` (${r.maxWhy})` : ""}`);
  return s;
}

const choice = <T extends readonly [string, ...string[]]>(name: string, list: T) => z.enum(list, { error: `${name} must be one of ${list.join(", ")}` });

/** The choice settings' schemas: the engine and both protocols take the same values. */
export const modeSchema = choice("mode", TEMPO_MODES);
export const policySchema = choice("policy", NEXT_STEP_POLICIES);
export const scheduleSchema = choice("schedule", THRESHOLD_SCHEDULES);

/** A complete, valid configuration: what the engine runs with. */
export const generationConfigSchema = z.object({
  mode: modeSchema,
  policy: policySchema,
  threshold: numberSchema(NUMBER_RANGES.threshold),
  relativeAlpha: numberSchema(NUMBER_RANGES.relativeAlpha),
  schedule: scheduleSchema,
  /** For `linear` and `cosine`: the threshold at the last step (src/engine/tempo/schedule.ts). */
  thresholdEnd: numberSchema(NUMBER_RANGES.thresholdEnd),
  /** Cap on set size; at most the session's lane count. */
  maxWidth: numberSchema(NUMBER_RANGES.maxWidth),
  maxSteps: numberSchema(NUMBER_RANGES.maxSteps),
  /** End-of-generation tokens cannot end the run (nor join a set) before this step. 0: no delay. */
  minSteps: numberSchema(NUMBER_RANGES.minSteps),
  temperature: numberSchema(NUMBER_RANGES.temperature),
  stopStrings: z.array(z.string().min(1, "stop strings cannot be empty")),
  pruneMass: numberSchema(NUMBER_RANGES.pruneMass),
  pruneLookahead: numberSchema(NUMBER_RANGES.pruneLookahead),
  /** Layers whose attention scores members for pruning; empty: every layer. */
  pruneLayers: z.array(z.number().int("prune layers must be integers").nonnegative("prune layers must be integers >= 0")),
}).strict();
export type GenerationConfig = z.output<typeof generationConfigSchema>;

/** Every setting's default: what a run gets for a setting left out. */
export const DEFAULT_CONFIG: Readonly<GenerationConfig> = Object.freeze({
  mode: "isolated",
  policy: "mixture",
  threshold: 0.1,
  relativeAlpha: 0,
  schedule: "constant",
  /** Used only when no threshold is given either: otherwise the end threshold follows the threshold. */
  thresholdEnd: 0.1,
  maxWidth: 8,
  maxSteps: 64,
  minSteps: 0,
  temperature: 1,
  stopStrings: [] as string[],
  pruneMass: 0,
  /** The steps right after a set say most about whether later tokens use a member. */
  pruneLookahead: 2,
  pruneLayers: [] as number[],
});

const c = generationConfigSchema.shape;
/**
 * Settings as a user typed them, on the wire (extension <-> page, extension -> engine host): any
 * subset, choices checked, numbers only as numbers. Their ranges are checked once, by the
 * engine's resolveConfig, so a bad value comes back as the user's error ("input") with the
 * message above, whichever way it came in.
 */
export const generationSettingsSchema = z.object({
  mode: c.mode,
  policy: c.policy,
  threshold: z.number(),
  schedule: c.schedule,
  thresholdEnd: z.number(),
  maxWidth: z.number(),
  maxSteps: z.number(),
  minSteps: z.number(),
  temperature: z.number(),
  stopStrings: z.array(z.string()),
  pruneMass: z.number(),
  pruneLookahead: z.number(),
  pruneLayers: z.array(z.number()),
}).partial().strict();
export type GenerationSettings = z.infer<typeof generationSettingsSchema>;

/** `value` if it is one of `list` (a choice read from a control or a settings file), else undefined. */
export function oneOf<T extends string>(list: readonly T[], value: unknown): T | undefined {
  return (list as readonly unknown[]).includes(value) ? (value as T) : undefined;
}
