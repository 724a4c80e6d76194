/**
 * Teacher-forced perplexity of a reference text: exp(mean NLL) of its tokens. In `standard`
 * mode that is ordinary perplexity; in TEMPO modes each step's set is the reference token plus
 * the tokens the threshold rule selects beside it, decoded in the mode, and the next token is
 * scored under the run's policy: how much do parallel siblings perturb the prediction?
 */
import { TempoSession } from "../session.js";
import { TempoInputError } from "../model.js";
import { GenerationConfig } from "../types.js";
import { runGeneration } from "./generate.js";

export interface PerplexityResult {
  mode: GenerationConfig["mode"];
  /** Tokens scored (the text's tokens, BOS excluded). */
  tokens: number;
  meanNll: number;
  perplexity: number;
  /** Mean members per step (1 in standard mode). */
  meanSetSize: number;
  /** KV cells used: tokens fed in total. */
  cells: number;
  stopReason: string;
}

export async function teacherForcedPerplexity(session: TempoSession, text: string, config: GenerationConfig, signal?: AbortSignal): Promise<PerplexityResult> {
  const model = session.model;
  const all = model.promptTokens(text);
  // Condition on the first token: BOS when the model adds one, else the text's first token.
  const promptTokens = all.slice(0, 1);
  const reference = all.slice(1);
  if (reference.length === 0) throw new TempoInputError("the text is too short to score (needs at least two tokens)");
  // At least one cell per token; TEMPO sets need more, which the run reports as context-full.
  if (all.length > session.contextSize) {
    throw new TempoInputError(`the text is ${all.length} tokens; the context holds ${session.contextSize} cells (use --context-size or a shorter file)`);
  }
  const run = await runGeneration(session, { promptTokens, config: { ...config, maxSteps: reference.length, stopStrings: [] }, teacherTokens: reference, signal });
  if (run.stopReason === "aborted") throw new TempoInputError("perplexity cancelled");
  if (run.steps.length < reference.length) {
    throw new TempoInputError(`the context filled after ${run.steps.length} of ${reference.length} tokens (sets use one cell per member); use --context-size or a shorter file`);
  }
  const nll = run.steps.map((s) => -s.candidates[0].logprob);
  const meanNll = nll.reduce((a, b) => a + b, 0) / nll.length;
  return {
    mode: config.mode, tokens: nll.length, meanNll, perplexity: Math.exp(meanNll),
    meanSetSize: run.steps.reduce((a, s) => a + s.candidates.length, 0) / run.steps.length,
    cells: session.cellsUsed, stopReason: run.stopReason,
  };
}
