// Messages between the extension host and the engine host child process. Both sides parse
// what they receive with these schemas: the child may be a different build after an update, or
// half-dead after a native abort, and a malformed message must fail loudly, not render garbage.
import { z } from "zod";
import { experimentProgressSchema, experimentSpecSchema, experimentViewSchema } from "./experiment.js";
import { generationSettingsSchema, modeSchema, policySchema, STOP_REASONS } from "./generation.js";
import { pruneDecisionSchema } from "./pruning.js";
import { attentionLayersSchema, setAttentionContrastSchema, stepAttentionSchema } from "./attention.js";
import { nullBandSchema } from "./null-band.js";

const finite = z.number().refine(Number.isFinite, "must be finite");
/** Probabilities are finite in [0, 1]; log-probabilities may be -Infinity (p = 0). */
const logprob = z.number().refine((v) => !Number.isNaN(v) && v <= 0 + 1e-9, "must be a log-probability");

export const engineOptionsSchema = z.object({
  /** Absolute path of the GGUF file. */
  modelPath: z.string().min(1),
  gpu: z.enum(["auto", "cpu"]),
  /** 0 = the engine's default (min(4096, training context)). */
  contextSize: z.number().int().min(0),
  // Off by default in the engine: compared runs must share it and captures record it.
  flashAttention: z.enum(["on", "off"]),
  /** CPU threads for decoding; 0 = automatic: the cores other processes leave idle (src/engine/llama/thread-governor.ts). */
  threads: z.number().int().min(0).max(512),
}).strict();
export type EngineOptions = z.infer<typeof engineOptionsSchema>;

export { generationSettingsSchema, type GenerationSettings } from "./generation.js";

const requestId = z.number().int().nonnegative();

/**
 * How the prompt becomes tokens: "raw" tokenizes it as is; "chat" makes it one user turn in the
 * model's chat template (src/engine/chat-prompt.ts) and opens the reply.
 */
export const promptFormatSchema = z.enum(["raw", "chat"]);
export type PromptFormat = z.infer<typeof promptFormatSchema>;

/** The prompt as the engine fed it (sent once per generate, before its first step). */
export const renderedPromptSchema = z.object({
  format: promptFormatSchema,
  /** What the model sees, chat markup and control tokens included as text. */
  text: z.string(),
  tokens: z.number().int().nonnegative(),
  /** Chat only: node-llama-cpp's wrapper, and whether it comes from the GGUF's own template. */
  chat: z.object({ wrapper: z.string(), fromTemplate: z.boolean() }).strict().optional(),
}).strict();
export type RenderedPrompt = z.infer<typeof renderedPromptSchema>;

export const hostRequestSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("loadModel"), id: requestId, engine: engineOptionsSchema }).strict(),
  z.object({
    type: z.literal("generate"),
    id: requestId,
    engine: engineOptionsSchema,
    prompt: z.string(),
    settings: generationSettingsSchema,
    /** "raw" when absent. */
    promptFormat: promptFormatSchema.optional(),
    /** Capture every layer's attention in each set's pass and send it with the steps (the playground's overlay; slower). */
    attention: z.boolean().optional(),
    /** Chat only: text the model's reply already starts with (collapse and continue in a reply). */
    responsePrefix: z.string().optional(),
    /**
     * When set, the finished (or stopped) run's capture folder is written under this staging
     * folder right away, so an export later survives an engine crash.
     */
    captureRoot: z.string().min(1).optional(),
  }).strict(),
  /**
   * Isolated generation + teacher-forced visible replay + null baseline (compareModes); the
   * capture and report.html/md/json go into a new folder under `captureRoot`.
   */
  z.object({
    type: z.literal("compare"),
    id: requestId,
    engine: engineOptionsSchema,
    prompt: z.string(),
    settings: generationSettingsSchema,
    captureRoot: z.string().min(1),
    /** Layers whose attention the P, Q and null replays capture (report and comparison view); none when absent. */
    attentionLayers: attentionLayersSchema.optional(),
    /** Worker threads for the divergence work (compareModes' analysisWorkers); by size when absent. */
    analysisWorkers: z.number().int().min(0).max(64).optional(),
  }).strict(),
  /**
   * Live inline completions: a TEMPO run from the text before the cursor, answered by one
   * "completed" with the distinct paths through its sets (src/engine/eval/completion-paths.ts).
   */
  z.object({
    type: z.literal("complete"),
    id: requestId,
    engine: engineOptionsSchema,
    prompt: z.string(),
    settings: generationSettingsSchema,
    /** Where a completion ends: the block's closing brace (brace languages) or Python indentation. */
    language: z.enum(["javascript", "python"]),
    /** Paths through the sets considered (best first) before taking the distinct ones. */
    pathCap: z.number().int().min(1).max(4096),
    maxAlternatives: z.number().int().min(1).max(64),
  }).strict(),
  /**
   * The completion experiment (tempo eval): generated code runs in the engine's sandbox, so the
   * extension sends this only for a trusted workspace after the user's consent. results.jsonl,
   * summary.json and report.md/html go into a new folder under `outRoot`.
   */
  z.object({ type: z.literal("experiment"), id: requestId, engine: engineOptionsSchema, spec: experimentSpecSchema, outRoot: z.string().min(1) }).strict(),
  /**
   * Downloads a model (node-llama-cpp's downloader: `hf:` URI or http(s) URL) into `dirPath`;
   * `hf:` URIs through `huggingFaceEndpoint` (a mirror) when given.
   */
  z.object({ type: z.literal("download"), id: requestId, uri: z.string().min(1), dirPath: z.string().min(1), huggingFaceEndpoint: z.string().min(1).optional() }).strict(),
  /** Aborts request `target` (a generate, compare, experiment or download); it still ends with its own final event. */
  z.object({ type: z.literal("cancel"), id: requestId, target: requestId }).strict(),
]);
export type HostRequest = z.infer<typeof hostRequestSchema>;
/** What a "complete" request asks for, besides the engine options. */
export type CompletionRequest = Omit<RequestBody<"complete">, "engine">;
/** What a "download" request asks for. */
export type DownloadRequest = RequestBody<"download">;
/** A generate request's options besides the settings: the prompt format (raw when absent), a chat reply to continue, the attention overlay; also the tempo.generate command's third argument. */
export const runOptionsSchema = z.object({ promptFormat: promptFormatSchema, responsePrefix: z.string(), attention: z.boolean() }).partial().strict();
export type RunOptions = z.infer<typeof runOptionsSchema>;

export const candidateSchema = z.object({
  token: z.number().int(), text: z.string(), special: z.string().optional(), prob: finite, logprob, rank: z.number().int().nonnegative(), cell: z.number().int(),
  /** Set once retroactive pruning decided the member's set (src/protocol/pruning.ts). */
  pruneScore: finite.optional(), pruned: z.boolean().optional(),
}).strict();
export const topEntrySchema = z.object({ token: z.number().int(), text: z.string(), special: z.string().optional(), prob: finite }).strict();
export const stepEventSchema = z.object({
  index: z.number().int().nonnegative(),
  position: z.number().int(),
  mode: modeSchema,
  policy: policySchema,
  threshold: finite,
  candidates: z.array(candidateSchema).min(1),
  top: z.array(topEntrySchema),
  entropy: finite,
  setMass: finite,
  timings: z.object({ decodeMs: finite, selectMs: finite }).strict(),
  /** Retroactive pruning decided an earlier set right after this step's decode. */
  pruning: pruneDecisionSchema.optional(),
  /** What each member attended to, when the run captures attention for the overlay. */
  attention: stepAttentionSchema.optional(),
}).strict();
export type StepEventMessage = z.infer<typeof stepEventSchema>;

/** One teacher-forced step of a compare: the set replayed, each mode's most probable next token, JS and the null's. */
export const replayRowSchema = z.object({
  step: z.number().int().nonnegative(),
  set: z.array(candidateSchema).min(1),
  /** P (isolated) and Q (visible) after the same set. */
  next: z.object({ p: topEntrySchema, q: topEntrySchema }).strict(),
  /** Nats; null where undefined. */
  js: finite.nonnegative().nullable(),
  nullJs: finite.nonnegative().nullable(),
}).strict();
export type ReplayRow = z.infer<typeof replayRowSchema>;

export const modelSummarySchema = z.object({
  path: z.string(),
  fileName: z.string(),
  description: z.string(),
  backend: z.string(),
  nVocab: z.number().int(),
  nLayer: z.number().int(),
  contextSize: z.number().int(),
  loadMs: finite,
  /** Whether the GGUF carries a chat template (chat prompts use a generic format otherwise). */
  chatTemplate: z.boolean(),
}).strict();
export type ModelSummary = z.infer<typeof modelSummarySchema>;

export const runSummarySchema = z.object({
  stopReason: z.enum(STOP_REASONS),
  text: z.string(),
  steps: z.number().int(),
  promptTokens: z.number().int(),
  seconds: finite,
  stepsPerSecond: finite,
  backend: z.string(),
  /** CPU threads of the run's last decode, of at most `max`; automatic: chosen by the machine's load. */
  decodeThreads: z.object({ last: z.number().int().positive(), max: z.number().int().positive(), automatic: z.boolean() }).strict(),
  /** The config after resolveConfig (defaults filled in). */
  config: z.record(z.string(), z.unknown()),
  /** The staged capture folder, when the request asked for one. */
  captureDir: z.string().optional(),
}).strict();
export type RunSummary = z.infer<typeof runSummarySchema>;

export const completionAlternativeSchema = z.object({
  /** Text to insert at the cursor. */
  text: z.string().min(1),
  /** Whether the block was seen to end (otherwise the run hit its step limit first). */
  closed: z.boolean(),
  /** Log-probability of the tokens the text uses. */
  logprob,
  /** Index (0 = primary) of the best path through the sets that gives this text. */
  path: z.number().int().nonnegative(),
}).strict();
export type CompletionAlternativeMessage = z.infer<typeof completionAlternativeSchema>;

export const completionResultSchema = z.object({
  /** Distinct completions, the primary path's first. */
  alternatives: z.array(completionAlternativeSchema),
  /** Paths through all sets (product of the set sizes); null beyond the float range. */
  totalPaths: finite.nullable(),
  /** Characters of the request's prompt the engine kept (its tail, cut to fit the context). */
  promptChars: z.number().int().nonnegative(),
  steps: z.number().int().nonnegative(),
  forwardPasses: z.number().int().nonnegative(),
  generateMs: finite,
  /** A run's reasons, or "function-end": the primary path closed the block. */
  stopReason: z.enum([...STOP_REASONS, "function-end"]),
  /** The config after resolveConfig (defaults filled in). */
  config: z.record(z.string(), z.unknown()),
  modelSha256: z.string().regex(/^[0-9a-f]{64}$/),
}).strict();
export type CompletionResult = z.infer<typeof completionResultSchema>;

export const hostEventSchema = z.discriminatedUnion("type", [
  /** Sent once when the child has started and can take requests. */
  z.object({ type: z.literal("hello"), pid: z.number().int(), node: z.string() }).strict(),
  z.object({
    type: z.literal("progress"),
    id: requestId,
    phase: z.string(),
    message: z.string(),
    /** Fraction done in [0, 1] when known. */
    fraction: z.number().min(0).max(1).optional(),
    /** Steps done of `total` in this phase, when it counts steps (total: an upper bound for a generation, which may stop early). */
    done: z.number().int().nonnegative().optional(),
    total: z.number().int().nonnegative().optional(),
    /**
     * A watchdog for a phase that cannot be cancelled (JavaScript that holds the host's event
     * loop, such as a model's chat template): when the host sends nothing more within this many
     * ms, the client kills and restarts it and fails the request with `message`.
     */
    deadlineMs: z.number().int().positive().optional(),
  }).strict(),
  z.object({ type: z.literal("modelLoaded"), id: requestId, model: modelSummarySchema }).strict(),
  z.object({ type: z.literal("promptRendered"), id: requestId, prompt: renderedPromptSchema }).strict(),
  /** A batch of step events (the child batches them every ~25 ms). */
  z.object({ type: z.literal("steps"), id: requestId, steps: z.array(stepEventSchema) }).strict(),
  z.object({ type: z.literal("done"), id: requestId, run: runSummarySchema }).strict(),
  z.object({ type: z.literal("cancelled"), id: requestId }).strict(),
  z.object({ type: z.literal("downloaded"), id: requestId, path: z.string() }).strict(),
  /** One more task × arm unit of an experiment finished. */
  z.object({ type: z.literal("experimentProgress"), id: requestId, progress: experimentProgressSchema }).strict(),
  /** A finished (or cancelled: `view.aborted`) experiment, its files written to `view.dir`. */
  z.object({ type: z.literal("experimentDone"), id: requestId, view: experimentViewSchema }).strict(),
  /** A batch of a compare's replayed steps, in step order, with the null band of the steps so far. */
  z.object({ type: z.literal("replayed"), id: requestId, rows: z.array(replayRowSchema), nullBand: nullBandSchema.nullable() }).strict(),
  /** A finished compare: the isolated run's steps came as "steps" events before this. */
  z.object({
    type: z.literal("compared"),
    id: requestId,
    captureDir: z.string(),
    reportHtml: z.string(),
    /** Per-step Jensen–Shannon divergence (nats), isolated vs visible; null where undefined. */
    js: z.array(finite.nullable()),
    meanJs: finite.nullable(),
    nullMeanJs: finite.nullable(),
    /** The null baseline's band over every step replayed (report.json nullBaseline.summary.js); null with no step. */
    nullBand: nullBandSchema.nullable(),
    /** Isolated vs visible attention per set and layer (the report's first sets); empty when none was captured. */
    attention: z.array(setAttentionContrastSchema),
    /** False when cancelled during the replays: the capture holds the steps replayed (`js.length` of them). */
    complete: z.boolean(),
  }).strict(),
  /** A finished "complete"; `result` is null when it was cancelled. */
  z.object({ type: z.literal("completed"), id: requestId, result: completionResultSchema.nullable() }).strict(),
  /** `input`: the user's mistake (message shown as is); `internal`: a bug or engine failure. */
  z.object({ type: z.literal("error"), id: requestId, kind: z.enum(["input", "internal"]), message: z.string(), detail: z.string().optional() }).strict(),
  z.object({ type: z.literal("log"), level: z.enum(["info", "warn", "error"]), message: z.string() }).strict(),
]);
export type HostEvent = z.infer<typeof hostEventSchema>;

/**
 * How the engine host answers each request: the event that ends it (or an "error", which ends
 * any request) and the events it may stream before that. The client settles a request on its
 * final event and hands the streamed ones to the request's caller, typed by this map.
 */
export const REQUEST_EVENTS = {
  loadModel: { final: "modelLoaded", streamed: ["progress"] },
  generate: { final: "done", streamed: ["progress", "modelLoaded", "promptRendered", "steps"] },
  compare: { final: "compared", streamed: ["progress", "modelLoaded", "steps", "replayed"] },
  complete: { final: "completed", streamed: ["progress", "modelLoaded"] },
  experiment: { final: "experimentDone", streamed: ["progress", "modelLoaded", "experimentProgress"] },
  download: { final: "downloaded", streamed: ["progress"] },
  /** The acknowledgement; the cancelled request still ends with its own final event. */
  cancel: { final: "cancelled", streamed: [] },
} as const satisfies { readonly [T in HostRequest["type"]]: { readonly final: HostEvent["type"]; readonly streamed: readonly HostEvent["type"][] } };
export type RequestType = HostRequest["type"];
/** A request of type T as its sender writes it: everything but the type and the id. */
export type RequestBody<T extends RequestType> = Omit<Extract<HostRequest, { type: T }>, "type" | "id">;
export type FinalEvent<T extends RequestType> = Extract<HostEvent, { type: (typeof REQUEST_EVENTS)[T]["final"] }>;
export type StreamedEvent<T extends RequestType> = Extract<HostEvent, { type: (typeof REQUEST_EVENTS)[T]["streamed"][number] }>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

function parseWith<T>(schema: z.ZodType<T>, raw: unknown): ParseResult<T> {
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, error: r.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(message)"}: ${i.message}`).join("; ") };
}

export const parseHostRequest = (raw: unknown): ParseResult<HostRequest> => parseWith(hostRequestSchema, raw);
export const parseHostEvent = (raw: unknown): ParseResult<HostEvent> => parseWith(hostEventSchema, raw);
