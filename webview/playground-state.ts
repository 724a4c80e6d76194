// What the playground page keeps across window reloads (VS Code's webview state): the prompt,
// the controls, and its run history. Stored state is bounded (runs and steps) and validated
// when read back: a run that does not parse is dropped, and the caller logs why; bad state
// never stops the page from starting.
import { z } from "zod";
import { generationSettingsSchema, promptFormatSchema, renderedPromptSchema, runSummarySchema, stepEventSchema } from "../src/protocol/engine.js";

/** Runs the history keeps (oldest dropped first). */
export const MAX_HISTORY_RUNS = 20;
/** Steps stored per run, and over the whole history (newest runs keep theirs first). */
export const MAX_STORED_STEPS_PER_RUN = 500;
export const MAX_STORED_STEPS = 2_000;

/** What names and starts a run: the extension's "runStarted" message and every history entry. */
export const runStartShape = {
  runId: z.number().int(),
  /** Epoch ms: with runId, names the run across window reloads (runIds restart at 1). */
  startedAt: z.number(),
  prompt: z.string(),
  settings: generationSettingsSchema,
  format: promptFormatSchema,
  /** Chat only: the reply the run continued. */
  responsePrefix: z.string().optional(),
};

/** A runner-up forced at a step (a counterfactual): its rank in the step's distribution (from 1), token and probability. */
export const forcedTokenSchema = z.object({
  rank: z.number().int().positive(),
  token: z.number().int(),
  text: z.string(),
  prob: z.number(),
});
export type ForcedToken = z.output<typeof forcedTokenSchema>;

/**
 * Where a branch run came from, at step `step` of the run `key`: "collapse and continue" onto
 * set member `member`, or a runner-up `forced` there (a token the threshold left out). Runs
 * without one are roots. The parent may have left the bounded history since; the branch then
 * shows as a root (see run-tree.ts).
 */
const branchAt = { key: z.string(), step: z.number().int().nonnegative() };
export const parentLinkSchema = z.union([
  z.object({ ...branchAt, member: z.number().int().nonnegative() }),
  z.object({ ...branchAt, forced: forcedTokenSchema }),
]);
export type ParentLink = z.output<typeof parentLinkSchema>;

/** How the Text tab reads a run: the primary path as code with sets marked, or every set's members inline as chips. */
export const READING_MODES = ["code", "sets"] as const;
export type ReadingMode = (typeof READING_MODES)[number];
/** Today's chips, which the other views' tests and the README screenshot show, until a user switches. */
export const DEFAULT_READING_MODE: ReadingMode = "sets";

export const runRecordSchema = z.object({
  /** `${startedAt}-${runId}`: unique across reloads. */
  key: z.string(),
  ...runStartShape,
  parent: parentLinkSchema.optional(),
  rendered: renderedPromptSchema.optional(),
  steps: z.array(stepEventSchema),
  /** Steps the run had beyond `steps` (left out of stored state to bound it). */
  stepsDropped: z.number().int().nonnegative().default(0),
  summary: runSummarySchema.optional(),
  error: z.string().optional(),
});
export type RunRecord = z.output<typeof runRecordSchema>;

const storedStateSchema = z.object({
  prompt: z.string().default(""),
  settings: generationSettingsSchema.optional(),
  format: promptFormatSchema.default("raw"),
  // Each run is checked on its own below, so one bad run does not take the others with it.
  history: z.array(z.unknown()).default([]),
  shownKey: z.string().optional(),
  reading: z.enum(READING_MODES).default(DEFAULT_READING_MODE),
});

export interface PlaygroundState {
  prompt: string;
  settings?: z.output<typeof generationSettingsSchema>;
  format: z.output<typeof promptFormatSchema>;
  /** Oldest first. */
  history: RunRecord[];
  /** The run on screen. */
  shownKey?: string;
  reading: ReadingMode;
}

export const runKey = (startedAt: number, runId: number): string => `${startedAt}-${runId}`;

/** The start of a prompt on one line, at most `max` characters (an ellipsis says it was cut). */
export function promptHead(prompt: string, max: number): string {
  const head = prompt.replace(/\s+/g, " ").trim();
  return head.length > max ? `${head.slice(0, max - 1)}…` : head;
}

/** One line per run in the history list: when, whether a branch, how, how far, and the prompt's start. */
export function historyLabel(run: RunRecord): string {
  const time = new Date(run.startedAt).toLocaleTimeString();
  const config = run.summary?.config;
  const mode = config?.mode ?? run.settings.mode ?? "default mode";
  // Two runs of one prompt differ mostly by these: say them (the run's own, once it ended).
  const threshold = config?.threshold ?? run.settings.threshold;
  const width = config?.maxWidth ?? run.settings.maxWidth;
  const knobs = [threshold !== undefined ? `t ${threshold}` : "", width !== undefined ? `w ${width}` : ""].filter(Boolean).join(" ");
  const steps = run.summary?.steps ?? run.steps.length + run.stepsDropped;
  const outcome = run.summary ? run.summary.stopReason : run.error ? "error" : "unfinished";
  const prompt = promptHead(run.prompt, 48);
  const branch = !run.parent ? "" : "forced" in run.parent ? ` · forced #${run.parent.forced.rank} at step ${run.parent.step}` : ` · branch at step ${run.parent.step}`;
  return `${time}${branch} · ${run.format === "chat" ? "chat · " : ""}${String(mode)}${knobs ? ` ${knobs}` : ""} · ${steps} steps (${outcome}) · ${prompt}${run.responsePrefix ? " (continued)" : ""}`;
}

/** A copy of `history` fit for storing: the last MAX_HISTORY_RUNS runs, steps within the budgets. */
export function boundHistory(history: readonly RunRecord[]): RunRecord[] {
  const kept = history.slice(-MAX_HISTORY_RUNS);
  let budget = MAX_STORED_STEPS;
  const out: RunRecord[] = [];
  for (let i = kept.length - 1; i >= 0; i--) {
    const run = kept[i];
    const n = Math.min(run.steps.length, MAX_STORED_STEPS_PER_RUN, budget);
    budget -= n;
    out.push(n === run.steps.length ? run : { ...run, steps: run.steps.slice(0, n), stepsDropped: run.stepsDropped + run.steps.length - n });
  }
  return out.reverse();
}

/** The state to store: history bounded. */
export function stateToStore(state: PlaygroundState): PlaygroundState {
  return { ...state, history: boundHistory(state.history) };
}

export interface ReadState {
  state: PlaygroundState;
  /** What was wrong with the stored state, for the log (undefined when it was fine or absent). */
  problem?: string;
}

const issue = (e: z.ZodError): string => e.issues.slice(0, 2).map((i) => `${i.path.join(".") || "(state)"}: ${i.message}`).join("; ");

/** Reads stored state back: absent -> empty; invalid -> empty plus the reason; bad runs dropped. */
export function readState(raw: unknown): ReadState {
  const empty: PlaygroundState = { prompt: "", format: "raw", history: [], reading: DEFAULT_READING_MODE };
  if (raw === undefined || raw === null) return { state: empty };
  const parsed = storedStateSchema.safeParse(raw);
  if (!parsed.success) return { state: empty, problem: `stored playground state discarded (${issue(parsed.error)})` };
  const history: RunRecord[] = [];
  const problems: string[] = [];
  for (const item of parsed.data.history) {
    const run = runRecordSchema.safeParse(item);
    if (run.success) history.push(run.data);
    else problems.push(issue(run.error));
  }
  const { prompt, settings, format, shownKey, reading } = parsed.data;
  const state: PlaygroundState = { prompt, format, reading, history: boundHistory(history), ...(settings ? { settings } : {}), ...(shownKey ? { shownKey } : {}) };
  const dropped = problems.length ? `${problems.length} stored run(s) discarded as invalid (${problems[0]})` : undefined;
  const trimmed = parsed.data.history.length > MAX_HISTORY_RUNS ? `stored history had ${parsed.data.history.length} runs; kept the last ${MAX_HISTORY_RUNS}` : undefined;
  const problem = [dropped, trimmed].filter(Boolean).join("; ") || undefined;
  return problem ? { state, problem } : { state };
}

/** The run that "collapse and continue" (or forcing a runner-up) asks for: a longer prompt (raw), or a longer reply to the same prompt (chat). */
export type Continuation = { format: "raw"; prompt: string } | { format: "chat"; prompt: string; responsePrefix: string };

/** Commits the primary path up to step `stepIndex` and then `text`, after the prompt (raw) or after the reply so far (chat). */
function continueWith(run: Pick<RunRecord, "prompt" | "format" | "responsePrefix" | "steps">, stepIndex: number, text: string): Continuation {
  const committed = run.steps.slice(0, stepIndex).map((s) => s.candidates[0].text).join("") + text;
  return run.format === "chat"
    ? { format: "chat", prompt: run.prompt, responsePrefix: (run.responsePrefix ?? "") + committed }
    : { format: "raw", prompt: run.prompt + committed };
}

/**
 * "Collapse and continue" at member `member` of step `stepIndex` of `run` (a chip or a tree
 * member). Undefined unless that step is a parallel set with that member: a single-token step is
 * already the primary path, so there is nothing to choose.
 */
export function collapseContinuation(run: Pick<RunRecord, "prompt" | "format" | "responsePrefix" | "steps">, stepIndex: number, member: number): Continuation | undefined {
  const chosen = run.steps[stepIndex];
  if (!chosen || chosen.candidates.length < 2 || !chosen.candidates[member]) return undefined;
  return continueWith(run, stepIndex, chosen.candidates[member].text);
}

/**
 * Forcing runner-up `token` at step `stepIndex` of `run` (the hover's ranked list): the same
 * continuation as a collapse, with a token the threshold left out of the set. Undefined unless
 * the step ranks that token and it is no member, and it has text to continue from (a special
 * token has none: the continuation is text).
 */
export function forcedContinuation(run: Pick<RunRecord, "prompt" | "format" | "responsePrefix" | "steps">, stepIndex: number, token: number): { continuation: Continuation; forced: ForcedToken } | undefined {
  const step = run.steps[stepIndex];
  const rank = step ? step.top.findIndex((t) => t.token === token) : -1;
  const t = step?.top[rank];
  if (!t || step.candidates.some((c) => c.token === token) || t.special !== undefined || t.text === "") return undefined;
  return { continuation: continueWith(run, stepIndex, t.text), forced: { rank: rank + 1, token, text: t.text, prob: t.prob } };
}
