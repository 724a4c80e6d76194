// Messages between the comparison view and the extension, validated on both sides.
import { z } from "zod";
import { parserFor } from "./parse.js";
import { replayRowSchema, stepEventSchema } from "../src/protocol/engine.js";
import { nullBandSchema } from "../src/protocol/null-band.js";
import { setAttentionContrastSchema } from "../src/protocol/attention.js";
import type { TempoMode } from "../src/protocol/generation.js";

export const COMPARED_MODES = ["isolated", "visible", "standard"] as const satisfies readonly TempoMode[];

export const comparisonDataSchema = z.object({
  prompt: z.string(),
  /**
   * The teacher-forced comparison: each set of the isolated run replayed isolated and visible
   * (and isolated in another batch layout, the null baseline), one row per step replayed.
   */
  replay: z.object({
    rows: z.array(replayRowSchema),
    /** The null's band: over every step once the replay is done, over the steps so far while it runs. */
    nullBand: nullBandSchema.nullable(),
  }).strict(),
  /** Each mode generated freely from the prompt (the isolated run is the one replayed). */
  runs: z.object({ isolated: z.array(stepEventSchema), visible: z.array(stepEventSchema), standard: z.array(stepEventSchema) }),
  /** The comparison's capture folder and its report.html. */
  captureDir: z.string().optional(),
  reportHtml: z.string().optional(),
  /** Cancelled during the replays: the rows (and capture) hold the steps replayed. */
  cancelled: z.boolean().optional(),
  /** Isolated vs visible attention per set and layer, when the comparison captured attention. */
  attention: z.array(setAttentionContrastSchema).optional(),
});
export type ComparisonData = z.infer<typeof comparisonDataSchema>;

/** The phases of Compare, in order. */
export const COMPARE_PHASES = ["generate", "replay", "visible", "standard"] as const;
export type ComparePhase = (typeof COMPARE_PHASES)[number];

/** Where a running comparison is: its phase, steps and (once measured) rate and time left. */
export const compareProgressSchema = z.object({
  phase: z.enum(COMPARE_PHASES),
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** `total` is an upper bound (a generation may stop early). */
  atMost: z.boolean(),
  /** Steps per second measured in this phase, and the seconds left in it at that rate. */
  rate: z.number().positive().optional(),
  etaS: z.number().nonnegative().optional(),
}).strict();
export type CompareProgress = z.infer<typeof compareProgressSchema>;

const extensionSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("show"), data: comparisonDataSchema.nullable() }),
  /** A running comparison's progress; null once it ended. */
  z.object({ type: z.literal("progress"), progress: compareProgressSchema.nullable() }),
  /** Test hook: the page answers with "rendered" and the same requestId. */
  z.object({ type: z.literal("inspect"), requestId: z.number().int() }),
]);
export type ComparisonExtensionMessage = z.input<typeof extensionSchema>;

const webviewSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready") }),
  z.object({ type: z.literal("cspViolation"), directive: z.string().max(200), blockedUri: z.string().max(500) }),
  z.object({
    type: z.literal("rendered"), requestId: z.number().int(),
    /** Replay rows shown, those highlighted (JS above the null band), and the bar scale stated. */
    rows: z.number().int(), aboveNull: z.number().int(), scale: z.string(),
    /** Free-run steps shown per mode, and the step marked as where they part (null: they never do). */
    freeSteps: z.number().int(), parting: z.number().int().nullable(),
    /** The progress line and whether the Cancel button shows. */
    progress: z.string(), cancellable: z.boolean(),
    /** The attention section's sets, and its siblings rows whose isolated cell is an exact 0 / whose visible cell is above 0. */
    attention: z.object({ sets: z.number().int(), isolatedSiblingsZero: z.number().int(), visibleSiblingsPositive: z.number().int() }),
  }),
  z.object({ type: z.literal("openReport") }),
  z.object({ type: z.literal("runCompare") }),
  z.object({ type: z.literal("cancelCompare") }),
  z.object({ type: z.literal("exportCapture") }),
  z.object({ type: z.literal("revealCapture") }),
  /** Something for the TEMPO log (e.g. stored state discarded as invalid). */
  z.object({ type: z.literal("log"), message: z.string().max(1000) }),
]);
export type ComparisonWebviewMessage = z.input<typeof webviewSchema>;

export const parseComparisonWebviewMessage: (raw: unknown) => z.output<typeof webviewSchema> | undefined = parserFor(webviewSchema);
export const parseComparisonExtensionMessage: (raw: unknown) => z.output<typeof extensionSchema> | undefined = parserFor(extensionSchema);

/** Steps per mode the view keeps in its stored state (what survives a window reload). */
export const MAX_STORED_COMPARISON_STEPS = 1_000;

/** `data` cut to the stored-state budget (the first steps of each mode, and the first replay rows). */
export function boundComparison(data: ComparisonData): ComparisonData {
  const n = MAX_STORED_COMPARISON_STEPS;
  return {
    ...data,
    replay: { ...data.replay, rows: data.replay.rows.slice(0, n) },
    runs: { isolated: data.runs.isolated.slice(0, n), visible: data.runs.visible.slice(0, n), standard: data.runs.standard.slice(0, n) },
  };
}

const storedSchema = z.object({ data: comparisonDataSchema.nullable() });

/** The view's stored state read back: absent -> nothing; invalid -> nothing plus the reason for the log. */
export function readComparisonState(raw: unknown): { data?: ComparisonData; problem?: string } {
  if (raw === undefined || raw === null) return {};
  const r = storedSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues.slice(0, 2).map((i) => `${i.path.join(".") || "(state)"}: ${i.message}`).join("; ");
    return { problem: `stored comparison discarded (${issue})` };
  }
  return r.data.data ? { data: boundComparison(r.data.data) } : {};
}

/** What the page stores: the shown comparison, bounded. */
export const comparisonState = (data: ComparisonData | null): z.input<typeof storedSchema> => ({ data: data ? boundComparison(data) : null });
