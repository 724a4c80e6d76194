// Messages between the completion-experiment results page and the extension, validated on
// both sides (the page is untrusted; the extension's messages are checked against version skew).
import { z } from "zod";
import { parserFor } from "./parse.js";
import { experimentViewSchema, type ExperimentView } from "../src/protocol/experiment.js";

export type { ExperimentView };

const extensionSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("show"), view: experimentViewSchema.nullable() }).strict(),
  /** Test hook: the page answers with "rendered". */
  z.object({ type: z.literal("inspect"), requestId: z.number().int() }).strict(),
  /** Test hook: open the drill-down of this task as a click would. */
  z.object({ type: z.literal("selectTask"), taskId: z.string() }).strict(),
]);
export type ExperimentExtensionMessage = z.input<typeof extensionSchema>;

const renderedSchema = z.object({
  type: z.literal("rendered"),
  requestId: z.number().int(),
  /** Body rows of each statistics table, in order. */
  tableRows: z.array(z.number().int()).max(16),
  /** Rows of the per-task overview. */
  taskRows: z.number().int(),
  /** The drill-down: its task, and per arm its line of facts, the completion and test output as shown. */
  drillDown: z.object({
    taskId: z.string().max(1000),
    arms: z.array(z.object({ arm: z.string().max(20), facts: z.string().max(2000), completion: z.string().max(200_000), output: z.string().max(200_000) }).strict()).max(8),
  }).strict().nullable(),
  /** Whether any element came from model or task text (it must stay text). */
  hasInjectedElement: z.boolean(),
}).strict();
export type ExperimentRendered = Omit<z.output<typeof renderedSchema>, "type" | "requestId">;

const webviewSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready"), elements: z.array(z.string().max(100)).max(64) }).strict(),
  z.object({ type: z.literal("cspViolation"), directive: z.string().max(200), blockedUri: z.string().max(500) }).strict(),
  z.object({ type: z.literal("export") }).strict(),
  renderedSchema,
]);
export type ExperimentWebviewMessage = z.input<typeof webviewSchema>;

export const parseExperimentWebviewMessage: (raw: unknown) => z.output<typeof webviewSchema> | undefined = parserFor(webviewSchema);
export const parseExperimentExtensionMessage: (raw: unknown) => z.output<typeof extensionSchema> | undefined = parserFor(extensionSchema);

/** The overview's cell for one arm of one task: "pass", "fail", "timeout", … or "skipped". */
export function outcomeLabel(unit: ExperimentView["tasks"][number]["arms"][number]): string {
  return unit.skipped ? "skipped" : unit.pass ? "pass" : unit.status;
}
