/**
 * Experiment files (docs/experiments.md): one JSON file that says everything a `tempo compare`,
 * `tempo eval` or `tempo generate` run depends on, so `tempo run <file> --out <dir>` reruns it.
 * Strict: an unknown key anywhere is an error naming its path, never a setting silently
 * ignored. Versioned: `version` is required, and a later format gets a new number.
 *
 * The generation settings' ranges and messages are the ones declared in ./generation.ts (each
 * value is checked by its schema there); the engine-side limits (context size, threads, eval
 * limits, attention layers, which depend on the model or the machine) are checked by the code
 * that uses them, as for flags. Pure (zod only), like the other protocol modules.
 */
import { z } from "zod";
import { generationConfigSchema, modeSchema } from "./generation.js";
import { attentionLayersSchema } from "./attention.js";
import { shardSchema } from "./shard.js";
import { baselinesSchema } from "./baselines.js";

export const EXPERIMENT_FILE_VERSION = 1;
/** The name every capture and eval folder stores its resolved experiment under. */
export const EXPERIMENT_FILE_NAME = "experiment.json";
export const EXPERIMENT_COMMANDS = ["generate", "compare", "eval"] as const;
export type ExperimentCommand = (typeof EXPERIMENT_COMMANDS)[number];

const int = (label: string) => z.number({ error: `${label} must be a number` }).int(`${label} must be an integer`);
const path = (label: string) => z.string({ error: `${label} must be a string` }).min(1, `${label} cannot be empty`);

const modelSchema = z.object({
  /** The GGUF file; relative paths are relative to the experiment file. Absent: the bundled demo model. */
  path: path("model path").optional(),
  /** Lower-case hex SHA-256 of the file; when given, a different file is refused before the run. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "model sha256 must be 64 lower-case hex digits").optional(),
}).strict();

/** Session settings; their ranges are the session's (src/engine/session.ts), checked when it opens. */
const engineSchema = z.object({
  gpu: z.enum(["auto", "cpu"], { error: "gpu must be auto or cpu" }),
  /** KV cells. Default: min(4096, the model's training context). */
  contextSize: int("context size"),
  /** CPU decode threads. Default: automatic, the cores other processes leave idle (src/engine/llama/thread-governor.ts). */
  threads: int("threads"),
  flashAttention: z.enum(["off", "on"], { error: "flash attention must be off or on" }),
}).partial().strict();

/** Any subset of the generation settings, each checked against its declared range; the rest default (DEFAULT_CONFIG). */
const generationSchema = generationConfigSchema.partial().strict();

/** Where the prompt(s) come from: exactly one of these keys (checked in experimentFileSchema). */
const promptSources = {
  /** One prompt, exact text. */
  prompt: z.string({ error: "prompt must be a string" }),
  /** One prompt: a file's exact text (as --prompt-file). */
  promptFile: path("prompt file"),
  /** Several prompts (compare: one capture each, in 001, 002, …, and paired statistics). */
  prompts: z.array(z.string({ error: "prompts must be strings" }).min(1, "prompts cannot be empty")).min(1, "prompts cannot be an empty list"),
  /** Several prompts from a file: one per line, or JSONL {"prompt": …} (as compare --prompts). */
  promptsFile: path("prompts file"),
};
type PromptKey = keyof typeof promptSources;

const logitsSchema = z.discriminatedUnion("kind", [
  /** The top-k tokens of each distribution (compare's default, k = 50). */
  z.object({ kind: z.literal("topk"), k: int("logits k").min(1, "logits k must be at least 1").optional() }).strict(),
  /** Every token of each distribution, float32 or float16 (--full-logits, --f16). */
  z.object({ kind: z.literal("full"), dtype: z.enum(["F32", "F16"], { error: "logits dtype must be F32 or F16" }).optional() }).strict(),
], { error: "logits kind must be topk or full" });

const compareSchema = z.object({
  /** The mode the generated sets are replayed under beside the generation's (P) mode. Default visible. */
  qMode: z.enum(["visible", "causal", "isolated"], { error: "qMode must be visible, causal or isolated" }),
  /** Layers whose attention is captured ("all": every layer); null or absent: none. */
  attentionLayers: attentionLayersSchema.nullable(),
  logits: logitsSchema,
  /** Worker threads for the divergence work. Speed only: the files do not depend on it. Absent: chosen per run. */
  analysisWorkers: int("analysis workers").min(0, "analysis workers must be at least 0"),
  /**
   * Prompts (of a prompts suite) whose sets share each llama_decode (src/engine/session-group.ts):
   * the batch layout, so a rerun must use the same. Default: 8, fewer when the sequences of
   * three replays per prompt at the width do not allow it (llama.cpp's 256); 1 with attention
   * capture.
   */
  batchPrompts: int("batch prompts").min(1, "batch prompts must be at least 1"),
}).partial().strict();

/** The completion experiment's settings (src/engine/eval/runner.ts EvalSettings; ranges checked by resolveEvalSettings). */
const evalSchema = z.object({
  /** HumanEval-style .jsonl; null or absent: the built-in suite. */
  tasks: path("tasks file").nullable(),
  /** The first n tasks; null or absent: all. */
  limit: int("limit").nullable(),
  arms: z.array(modeSchema).min(1, "at least one arm is needed"),
  threshold: generationConfigSchema.shape.threshold,
  maxWidth: generationConfigSchema.shape.maxWidth,
  maxSteps: generationConfigSchema.shape.maxSteps,
  policy: generationConfigSchema.shape.policy,
  pathCap: int("path cap"),
  ks: z.array(int("k")),
  exec: z.object({
    timeoutMs: z.number({ error: "timeoutMs must be a number" }),
    memoryMb: z.number({ error: "memoryMb must be a number" }),
    /** Interpreter for Python tasks; null: Python tasks are skipped. */
    python: z.string().min(1, "python cannot be empty").nullable(),
  }).partial().strict(),
  concurrency: int("concurrency"),
  /**
   * Task × mode units whose sets share each llama_decode (src/engine/session-group.ts): the
   * batch layout, so a rerun must use the same. Default: 8, fewer when the sequences of the
   * widest arm do not allow it (llama.cpp's 256).
   */
  batchPrompts: int("batch prompts").min(1, "batch prompts must be at least 1"),
  /** Matched-compute baselines (docs/eval.md: sampling, beam search); absent or null: none. */
  baselines: baselinesSchema.nullable(),
}).partial().strict();

/** The blocks experiment files are made of, for files that hold experiments (a study: src/cli/study.ts). */
export const experimentBlocks = { model: modelSchema, engine: engineSchema, generation: generationSchema, compare: compareSchema, eval: evalSchema };

const base = {
  version: z.literal(EXPERIMENT_FILE_VERSION, { error: `version must be ${EXPERIMENT_FILE_VERSION} (the experiment-file format this tempo reads)` }),
  /** Free text for the researcher; not used by the run. */
  description: z.string().optional(),
  model: modelSchema.optional(),
  engine: engineSchema.optional(),
};

const generateExperiment = z.object({
  ...base,
  command: z.literal("generate"),
  prompt: promptSources.prompt.optional(),
  promptFile: promptSources.promptFile.optional(),
  generation: generationSchema.optional(),
}).strict();

const compareExperiment = z.object({
  ...base,
  command: z.literal("compare"),
  ...Object.fromEntries(Object.entries(promptSources).map(([k, s]) => [k, s.optional()])) as { [K in PromptKey]: z.ZodOptional<(typeof promptSources)[K]> },
  /** Replay the sets of an earlier capture folder (same model file) instead of generating; its settings are the capture's. */
  from: path("from").optional(),
  generation: generationSchema.optional(),
  compare: compareSchema.optional(),
  /** Run only this shard of the prompts (`prompts` / `promptsFile`; docs/scale.md); absent: all of them. */
  shard: shardSchema.optional(),
}).strict();

const evalExperiment = z.object({
  ...base,
  command: z.literal("eval"),
  eval: evalSchema.optional(),
  /** Run only this shard of the tasks (docs/scale.md); absent: all of them. */
  shard: shardSchema.optional(),
}).strict();

/** Exactly one prompt source where the command takes prompts. */
const SOURCES: Record<ExperimentCommand, readonly string[]> = {
  generate: ["prompt", "promptFile"],
  compare: ["prompt", "promptFile", "prompts", "promptsFile", "from"],
  eval: [],
};

/** The compare prompt sources that are suites a shard can be cut from. */
const SHARDABLE_SOURCES: readonly string[] = ["prompts", "promptsFile"];

export const experimentFileSchema = z.discriminatedUnion("command", [generateExperiment, compareExperiment, evalExperiment], {
  error: `command must be one of ${EXPERIMENT_COMMANDS.join(", ")}`,
}).superRefine((e, ctx) => {
  const keys = SOURCES[e.command];
  if (keys.length === 0) return;
  const given = keys.filter((k) => (e as Record<string, unknown>)[k] !== undefined);
  if (given.length !== 1) ctx.addIssue({ code: "custom", path: [], message: `give exactly one of ${keys.join(", ")}${given.length ? ` (got ${given.join(", ")})` : ""}` });
  else if (e.command === "compare" && e.shard && !SHARDABLE_SOURCES.includes(given[0])) ctx.addIssue({ code: "custom", path: ["shard"], message: `a shard is part of a suite of prompts: give ${SHARDABLE_SOURCES.join(" or ")}, not ${given[0]}` });
});
export type ExperimentFile = z.output<typeof experimentFileSchema>;
export type GenerateExperiment = z.output<typeof generateExperiment>;
export type CompareExperiment = z.output<typeof compareExperiment>;
export type EvalExperiment = z.output<typeof evalExperiment>;

/** One line for a zod failure: the first problem, with the key path where there is one. */
export function experimentIssueText(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = (p: readonly PropertyKey[]) => p.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => (issue.path.length ? `${where(issue.path)}.${k}` : k));
    return `unknown key${keys.length > 1 ? "s" : ""} ${keys.join(", ")}`;
  }
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? "s" : ""})` : "";
  return `${issue.path.length ? `${where(issue.path)}: ` : ""}${issue.message}${more}`;
}

/** Parses an experiment file's JSON value; the error is one line (prefix it with the file's name). */
export function parseExperiment(value: unknown): { ok: true; experiment: ExperimentFile } | { ok: false; message: string } {
  const r = experimentFileSchema.safeParse(value);
  return r.success ? { ok: true, experiment: r.data } : { ok: false, message: experimentIssueText(r.error) };
}
