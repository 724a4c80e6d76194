/**
 * The TEMPO generation loop: select a set from the current distribution, decode the whole
 * set in one pass at one position, form the next distribution by the named policy, repeat.
 * An async iterator of step events; the result (with the stop reason) is its return value.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import { ContextFullError, TempoSession } from "../session.js";
import { TempoInputError } from "../model.js";
import { Candidate, GenerationConfig, GenerationResult, StepEvent, StopReason } from "../types.js";
import { entropy, nextDistribution, softmax } from "./distribution.js";
import { topIndices } from "../analysis/divergence.js";
import { rankOf, selectSet, thresholdAt } from "./selection.js";

export const TOP_ENTRIES = 10;

export interface GenerateRequest {
  promptTokens: number[];
  config: GenerationConfig;
  signal?: AbortSignal;
  /**
   * Teacher forcing: when given, step i decodes exactly `forcedSets[i]` (token ids) instead of
   * selecting; the run ends after the last forced set. Used by replay and perplexity.
   */
  forcedSets?: number[][];
  /**
   * Teacher forcing of the primary path: step i's first member is `teacherTokens[i]`; in
   * TEMPO modes the other members are still selected by the threshold rule around it. The run
   * ends after the last token. Used by perplexity.
   */
  teacherTokens?: number[];
  /** Called after each set with every member's logits and the next distribution (replay, analysis). */
  onDistributions?: (index: number, memberLogits: readonly Float32Array[], next: Float64Array) => void;
  /**
   * Decode each set together with one unrelated row in a scratch sequence that no other token
   * sees: the same computation in a different batch layout (the null baseline).
   */
  scratchRow?: boolean;
}

export async function* generate(session: TempoSession, request: GenerateRequest): AsyncGenerator<StepEvent, GenerationResult> {
  const { promptTokens, config, signal, forcedSets, teacherTokens, onDistributions, scratchRow } = request;
  const model = session.model;
  if (promptTokens.length === 0) throw new TempoInputError("the prompt is empty");
  if (config.maxWidth > session.lanes) throw new TempoInputError(`max width ${config.maxWidth} exceeds the session's ${session.lanes} lanes`);
  if (promptTokens.length >= session.contextSize) {
    throw new TempoInputError(`the prompt is ${promptTokens.length} tokens; the context holds ${session.contextSize} cells and generation needs at least one more`);
  }
  session.reset();
  const steps: StepEvent[] = [];
  const primary: number[] = [];
  const finish = (stopReason: StopReason): GenerationResult => ({ config, promptTokens, steps, stopReason, text: model.pathText(primary) });

  if (signal?.aborted) return finish("aborted");
  let probs = softmax(session.decodeSequence(promptTokens), config.temperature);
  const forcedLength = forcedSets?.length ?? teacherTokens?.length;
  const stepLimit = forcedLength !== undefined ? Math.min(forcedLength, config.maxSteps) : config.maxSteps;

  for (let index = 0; index < stepLimit; index++) {
    await yieldToEventLoop(); // lets an abort (or a host message) arrive between steps
    if (signal?.aborted) return finish("aborted");
    const t0 = performance.now();
    const threshold = thresholdAt(config, index);
    const head = Array.from(topIndices(probs, TOP_ENTRIES));
    let members;
    const forced = (token: number) => ({ token, prob: probs[token], rank: rankOf(probs, token) });
    if (forcedSets) {
      members = forcedSets[index].map(forced);
    } else if (teacherTokens) {
      const teacher = teacherTokens[index];
      const others = config.mode === "standard" ? []
        : selectSet(probs, threshold, config.relativeAlpha, config.maxWidth, (t) => model.isEog(t)).filter((m) => m.token !== teacher);
      members = [forced(teacher), ...others].slice(0, config.maxWidth);
    } else {
      if (model.isEog(head[0])) return finish("eog");
      members = config.mode === "standard"
        ? [{ token: head[0], prob: probs[head[0]], rank: 0 }]
        : selectSet(probs, threshold, config.relativeAlpha, config.maxWidth, (t) => model.isEog(t));
    }
    if (members.length > session.cellsFree) return finish("context-full");
    const t1 = performance.now();
    let memberLogits: Float32Array[];
    try {
      memberLogits = session.decodeSet(members.map((m) => m.token), config.mode, index, scratchRow ? { scratch: { after: 1 } } : {});
    } catch (e) {
      if (e instanceof ContextFullError) return finish("context-full");
      throw e;
    }
    const t2 = performance.now();
    const table = session.indexTable;
    const firstRow = table.length - members.length - (scratchRow ? 1 : 0);
    const candidates: Candidate[] = members.map((m, j) => ({
      token: m.token, text: model.tokenText(m.token), prob: m.prob, logprob: Math.log(m.prob), rank: m.rank, cell: table[firstRow + j].cell,
    }));
    const event: StepEvent = {
      index,
      position: table[firstRow].position,
      mode: config.mode,
      policy: config.policy,
      threshold,
      candidates,
      top: head.map((token) => ({ token, text: model.tokenText(token), prob: probs[token] })),
      entropy: entropy(probs),
      setMass: members.reduce((a, m) => a + m.prob, 0),
      timings: { decodeMs: t2 - t1, selectMs: t1 - t0 },
    };
    steps.push(event);
    primary.push(members[0].token);
    probs = nextDistribution(config.policy, memberLogits, members.map((m) => m.prob), config.temperature);
    onDistributions?.(index, memberLogits, probs); // before the event, so consumers see both together
    yield event;
    if (config.stopStrings.length) {
      const text = model.pathText(primary);
      if (config.stopStrings.some((s) => text.includes(s))) return finish("stop-string");
    }
  }
  return finish("max-steps");
}

/** Runs a generation to the end, calling `onStep` for each event. */
export async function runGeneration(session: TempoSession, request: GenerateRequest, onStep?: (e: StepEvent) => void): Promise<GenerationResult> {
  const it = generate(session, request);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
    onStep?.(r.value);
  }
}
