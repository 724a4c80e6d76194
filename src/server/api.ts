/**
 * The localhost API's requests and answers: an OpenAI-compatible `/v1/completions` (standard
 * mode, with logprobs), `/tempo/generate` (any mode; the same JSON as `tempo generate --json`),
 * `/tempo/compare` (the report.json of `tempo compare`) and `/tempo/eval` (the summary.json of
 * `tempo eval`). Requests are validated with zod; a bad one is a 400 with a message.
 */
import { z } from "zod";
import { randomBytes } from "node:crypto";
import { TempoSession, type SessionOptions } from "../engine/session.js";
import type { GpuChoice } from "../engine/llama/runtime.js";
import type { TempoModel } from "../engine/model.js";
import { pruningSessionOptions } from "../engine/tempo/pruning.js";
import { TempoInputError } from "../engine/errors.js";
import { resolveConfig } from "../engine/tempo/config.js";
import { generationConfigSchema } from "../protocol/generation.js";
import { runGeneration } from "../engine/tempo/generate.js";
import { generationJson } from "../engine/tempo/generation-json.js";
import type { GenerationConfig, GenerationResult } from "../engine/types.js";
import { EXPERIMENT_FILE_VERSION, parseExperiment } from "../protocol/experiment-file.js";
// The CLI's experiment path, so /tempo/compare and /tempo/eval resolve and run exactly as tempo compare and tempo eval do.
import { compareOnePrompt, evalSession, prepareOnOpenModel } from "../cli/experiment.js";
import { runEval } from "../engine/eval/runner.js";
import { summarizeEval } from "../engine/eval/summary.js";
import { evalMeta, evalSummaryJson } from "../engine/eval/report.js";

/** The most completion tokens one request may ask for (the engine's own step limit is higher). */
export const MAX_API_TOKENS = 4096;

const stop = z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).optional();

export const completionRequestSchema = z.object({
  model: z.string().optional(),
  prompt: z.string().min(1, "prompt must be a non-empty string"),
  max_tokens: z.number().int().min(1).max(MAX_API_TOKENS).default(16),
  /** Up to 5 alternatives per token, as OpenAI's completions API allows. */
  logprobs: z.number().int().min(0).max(5).nullable().optional(),
  temperature: generationConfigSchema.shape.temperature.optional(),
  stop,
  n: z.literal(1, "only n = 1 is supported").optional(),
  stream: z.literal(false, "streaming is not supported").optional(),
  echo: z.literal(false, "echo is not supported").optional(),
}).strict();
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

/** `tempo generate`'s settings under their config names (resolveConfig checks the ranges). */
export const generateRequestSchema = z.object({
  prompt: z.string().min(1, "prompt must be a non-empty string"),
  settings: z.record(z.string(), z.unknown()).default({}),
}).strict();
export type GenerateRequest = z.infer<typeof generateRequestSchema>;

/** What a request's session needs: lanes for its widest set, and what pruning takes (pruningSessionOptions). */
export type RequestSessionOptions = Pick<SessionOptions, "lanes" | "attentionLayers" | "pruneLookahead">;

/** What the server runs every request on: one model, opened from `path` with `gpu`, and the session settings of its flags. */
export interface ServedModel {
  model: TempoModel;
  path: string;
  gpu: GpuChoice;
  /** Context size, threads, flash attention of every request's session. */
  session: Omit<SessionOptions, "lanes">;
}

/** A validated request, ready to run when its turn in the queue comes. */
export interface PreparedRequest {
  run(signal: AbortSignal): Promise<unknown>;
}
/** Validates a request body (TempoInputError, so a 400, when it is bad) and prepares it. */
export type Endpoint = (body: unknown, served: ServedModel) => PreparedRequest;

function parseBody<R>(schema: z.ZodType<R>, body: unknown): R {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new TempoInputError(parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
  return parsed.data;
}

/** An endpoint whose request runs in one fresh session, with the lanes (and pruning) it needs. */
function sessionEndpoint<R>(schema: z.ZodType<R>, options: (r: R, model: TempoModel) => RequestSessionOptions, run: (session: TempoSession, r: R, signal: AbortSignal) => Promise<unknown>): Endpoint {
  return (body, served) => {
    const r = parseBody(schema, body);
    const sessionOptions = { ...served.session, ...options(r, served.model) };
    return {
      run: async (signal) => {
        const session = new TempoSession(served.model, sessionOptions);
        try { return await run(session, r, signal); } finally { session.dispose(); }
      },
    };
  };
}

export const completions = sessionEndpoint(completionRequestSchema, () => ({ lanes: 1 }), async (session, r, signal) => {
  const config = resolveConfig({ mode: "standard", maxSteps: r.max_tokens, temperature: r.temperature, stopStrings: r.stop === undefined ? [] : [r.stop].flat() });
  const promptTokens = session.model.promptTokens(r.prompt);
  const result = await runGeneration(session, { promptTokens, config, signal });
  return completionJson(session, config, r, promptTokens.length, result);
});

export const generate = sessionEndpoint(generateRequestSchema, (r, model) => {
  const config = resolveConfig(r.settings);
  return { lanes: Math.max(1, config.maxWidth), ...pruningSessionOptions(config, model.info.nLayer) };
}, async (session, r, signal) => {
  const config = resolveConfig(r.settings);
  const result = await runGeneration(session, { promptTokens: session.model.promptTokens(r.prompt), config, signal });
  return generationJson(session, config, result);
});

/**
 * A compare experiment's prompt, generation and compare blocks (docs/experiments.md), checked by
 * the experiment file's own schema; the model and engine are the server's. No capture is written,
 * so the capture's logits setting has no place here.
 */
export const compareRequestSchema = z.object({
  prompt: z.string().min(1, "prompt must be a non-empty string"),
  generation: z.record(z.string(), z.unknown()).optional(),
  compare: z.record(z.string(), z.unknown()).refine((c) => !("logits" in c), "logits: the API writes no capture (tempo compare --full-logits does)").optional(),
}).strict();

/** `/tempo/compare`: the report tempo compare writes as report.json, for the same experiment. */
export const compare: Endpoint = (body, served) => {
  const r = parseBody(compareRequestSchema, body);
  if (served.session.flashAttention === "on") throw new TempoInputError("this server runs with --flash-attention on; compare needs it off (attention capture): start tempo serve without it");
  const parsed = parseExperiment({
    version: EXPERIMENT_FILE_VERSION, command: "compare",
    model: { path: served.path },
    engine: { gpu: served.gpu, ...served.session },
    prompt: r.prompt, generation: r.generation, compare: r.compare,
  });
  if (!parsed.ok) throw new TempoInputError(parsed.message);
  const { experiment } = parsed;
  return {
    run: async (signal) => {
      const prepared = await prepareOnOpenModel(experiment, served.model, "compare");
      const { report } = await compareOnePrompt(served.model, prepared.resolved, r.prompt, { signal });
      return report;
    },
  };
};

/**
 * An eval experiment's `eval` block (docs/experiments.md, baselines included), checked by the
 * experiment file's own schema; the model and engine are the server's. No folder is written.
 */
export const evalRequestSchema = z.object({ eval: z.record(z.string(), z.unknown()).optional() }).strict();

/** `/tempo/eval`: the summary.json tempo eval writes for the same experiment. */
export const evaluate: Endpoint = (body, served) => {
  const r = parseBody(evalRequestSchema, body);
  const parsed = parseExperiment({ version: EXPERIMENT_FILE_VERSION, command: "eval", model: { path: served.path }, engine: { gpu: served.gpu, ...served.session }, eval: r.eval });
  if (!parsed.ok) throw new TempoInputError(parsed.message);
  const { experiment } = parsed;
  return {
    run: async (signal) => {
      const { resolved, tasks, source } = await prepareOnOpenModel(experiment, served.model, "eval");
      const { session, settings } = evalSession(served.model, resolved);
      try {
        const meta = await evalMeta(session, source, tasks.length, resolved.eval.limit);
        const run = await runEval({ session, tasks, settings, signal });
        return evalSummaryJson(run, summarizeEval(run), meta);
      } finally {
        session.dispose();
      }
    },
  };
};

/** OpenAI's text_completion object; logprobs from each step's distribution (its top entries). */
function completionJson(session: TempoSession, config: GenerationConfig, r: CompletionRequest, promptLength: number, result: GenerationResult) {
  const members = result.steps.map((s) => s.candidates[0]);
  let offset = r.prompt.length;
  const logprobs = r.logprobs === undefined || r.logprobs === null ? null : {
    tokens: members.map((c) => c.special ?? c.text),
    token_logprobs: members.map((c) => c.logprob),
    top_logprobs: result.steps.map((s) => Object.fromEntries(s.top.slice(0, r.logprobs!).map((t) => [t.special ?? t.text, Math.log(t.prob)]))),
    text_offset: members.map((c) => { const at = offset; offset += c.text.length; return at; }),
  };
  return {
    id: `cmpl-${randomBytes(12).toString("hex")}`,
    object: "text_completion",
    created: Math.floor(Date.now() / 1000),
    model: r.model ?? session.model.info.fileName,
    choices: [{ text: result.text, index: 0, logprobs, finish_reason: result.stopReason === "max-steps" || result.stopReason === "context-full" ? "length" : "stop" }],
    usage: { prompt_tokens: promptLength, completion_tokens: members.length, total_tokens: promptLength + members.length },
    tempo: { stopReason: result.stopReason, config },
  };
}
