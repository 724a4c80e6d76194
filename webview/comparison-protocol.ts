// Messages between the comparison view and the extension, validated on both sides.
import { z } from "zod";
import { parserFor } from "./parse.js";
import { stepEventSchema } from "../src/protocol/engine.js";
import { setAttentionContrastSchema } from "../src/protocol/attention.js";
import type { TempoMode } from "../src/protocol/generation.js";

export const COMPARED_MODES = ["isolated", "visible", "standard"] as const satisfies readonly TempoMode[];

export const comparisonDataSchema = z.object({
  prompt: z.string(),
  /** Each mode's steps; the same prompt and settings otherwise. */
  runs: z.object({ isolated: z.array(stepEventSchema), visible: z.array(stepEventSchema), standard: z.array(stepEventSchema) }),
  /** Per-step Jensen–Shannon divergence (nats), isolated vs visible, when a divergence report ran. */
  js: z.array(z.number().nullable()).optional(),
  /** The full report (report.html of the comparison's capture folder). */
  reportHtml: z.string().optional(),
  /** Isolated vs visible attention per set and layer, when the comparison captured attention. */
  attention: z.array(setAttentionContrastSchema).optional(),
});
export type ComparisonData = z.infer<typeof comparisonDataSchema>;

const extensionSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("show"), data: comparisonDataSchema.nullable() }),
  /** Test hook: the page answers with "rendered" and the same requestId. */
  z.object({ type: z.literal("inspect"), requestId: z.number().int() }),
]);
export type ComparisonExtensionMessage = z.input<typeof extensionSchema>;

const webviewSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready") }),
  z.object({ type: z.literal("cspViolation"), directive: z.string().max(200), blockedUri: z.string().max(500) }),
  z.object({
    type: z.literal("rendered"), requestId: z.number().int(), rows: z.number().int(), divergent: z.number().int(),
    /** The attention section's sets, and its siblings rows whose isolated cell is an exact 0 / whose visible cell is above 0. */
    attention: z.object({ sets: z.number().int(), isolatedSiblingsZero: z.number().int(), visibleSiblingsPositive: z.number().int() }),
  }),
  z.object({ type: z.literal("openReport") }),
  z.object({ type: z.literal("runCompare") }),
  /** Something for the TEMPO log (e.g. stored state discarded as invalid). */
  z.object({ type: z.literal("log"), message: z.string().max(1000) }),
]);
export type ComparisonWebviewMessage = z.input<typeof webviewSchema>;

export const parseComparisonWebviewMessage: (raw: unknown) => z.output<typeof webviewSchema> | undefined = parserFor(webviewSchema);
export const parseComparisonExtensionMessage: (raw: unknown) => z.output<typeof extensionSchema> | undefined = parserFor(extensionSchema);

/** A step diverges when the modes chose different sets, or the primary token differs from standard. */
export function divergentSteps(data: ComparisonData): boolean[] {
  const n = Math.max(data.runs.isolated.length, data.runs.visible.length, data.runs.standard.length);
  const setKey = (s: z.infer<typeof stepEventSchema> | undefined): string => (s ? s.candidates.map((c) => c.token).join(",") : "");
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const iso = data.runs.isolated[i];
    const vis = data.runs.visible[i];
    const std = data.runs.standard[i];
    out.push(setKey(iso) !== setKey(vis) || iso?.candidates[0]?.token !== std?.candidates[0]?.token || vis?.candidates[0]?.token !== std?.candidates[0]?.token);
  }
  return out;
}

/** Steps per mode the view keeps in its stored state (what survives a window reload). */
export const MAX_STORED_COMPARISON_STEPS = 1_000;

/** `data` cut to the stored-state budget (the first steps of each mode, and their JS values). */
export function boundComparison(data: ComparisonData): ComparisonData {
  const n = MAX_STORED_COMPARISON_STEPS;
  return {
    ...data,
    runs: { isolated: data.runs.isolated.slice(0, n), visible: data.runs.visible.slice(0, n), standard: data.runs.standard.slice(0, n) },
    ...(data.js ? { js: data.js.slice(0, n) } : {}),
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
