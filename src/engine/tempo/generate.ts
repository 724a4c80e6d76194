/**
 * The TEMPO generation loop: select a set from the current distribution, decode the whole
 * set in one pass at one position, form the next distribution by the named policy, repeat.
 * An async iterator of step events; the result (with the stop reason) is its return value.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import { TempoSession } from "../session.js";
import { ContextFullError } from "../errors.js";
import { TempoInputError } from "../errors.js";
import { Candidate, GenerationConfig, GenerationResult, StepEvent, StopReason } from "../types.js";
import { DistributionRows, entropy, nextDistribution, softmaxHead } from "./distribution.js";
import { ranksOf, SelectedMember, selectSet } from "./selection.js";
import { thresholdAt } from "./schedule.js";
import { topTokens } from "../math/top-k.js";
import { topLogits } from "../math/head-kernel.js";
import { AttentionPruner, markPruned, pruneLayersOf, prunes } from "./pruning.js";

export const TOP_ENTRIES = 10;
/** The longest the generation loop runs without letting the event loop turn (ms). */
const YIELD_EVERY_MS = 16;

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
  /**
   * Called after each set with every member's logits and the next distribution (replay,
   * analysis). The arrays are reused by the next step: copy what must outlive the call.
   */
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
  // Retroactive pruning (config.pruneMass > 0) needs a session made with pruningSessionOptions.
  const pruner = prunes(config) ? pruningFor(session, config) : undefined;
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
  // One distribution row and one scratch row, overwritten step after step: allocating 32k-entry
  // rows per step cost more than a small model's whole forward pass on a GPU.
  const promptLogits = session.decodeSequence(promptTokens);
  const probs = new Float64Array(promptLogits.length);
  const rows: DistributionRows = { out: probs, scratch: new Float64Array(promptLogits.length) };
  // Member logits whose distribution `probs` does not hold yet. When choosing the next set
  // does not need that distribution (standard mode, forced sets), it is computed while the
  // next set decodes on llama.cpp's side (on a GPU, that hides most of the step's JavaScript).
  let pending: { logits: readonly Float32Array[]; probs: readonly number[] } | undefined = { logits: [promptLogits], probs: [1] };
  const settle = () => {
    if (pending) nextDistribution(config.policy, pending.logits, pending.probs, config.temperature, rows);
    pending = undefined;
  };
  const forcedLength = forcedSets?.length ?? teacherTokens?.length;
  const stepLimit = forcedLength !== undefined ? Math.min(forcedLength, config.maxSteps) : config.maxSteps;
  const standard = config.mode === "standard";

  let lastYield = -Infinity;
  for (let index = 0; index < stepLimit; index++) {
    // Lets an abort (or a host message) arrive between steps, at most every YIELD_EVERY_MS: a
    // turn of the event loop costs ~60 us, a step of a small model on a CPU ~5 ms. A seat
    // yields every step: the order its group's seats reach a decode in is the batch layout,
    // and it must not depend on the clock (a rerun gives the same bits).
    if (session.seated || performance.now() - lastYield >= YIELD_EVERY_MS) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
    if (signal?.aborted) return finish("aborted");
    const t0 = performance.now();
    const threshold = thresholdAt(config, index);
    // Before min steps, end-of-generation tokens are passed over: the run goes on with the most
    // probable other token (their probability stays in the distribution and the step's event).
    const eogAllowed = index >= config.minSteps;
    // The set's tokens, and its members when choosing them took the distribution anyway.
    let tokens: number[];
    let selected: SelectedMember[] | undefined;
    let greedy = false;
    // A greedy step from logits not yet made a distribution: its event needs only the head.
    let greedyHead: { logits: Float32Array; tokens: number[] } | undefined;
    if (forcedSets) {
      tokens = forcedSets[index];
    } else if (standard && teacherTokens) {
      tokens = [teacherTokens[index]];
    } else if (standard) {
      // Greedy: the most probable token of softmax(logits / T) is the largest logit (exp and
      // the division keep distinct float32 logits distinct and in order), so it is read
      // from the logits before the distribution exists; its rank is 0.
      const head = pending ? topLogits(pending.logits[0], TOP_ENTRIES) : topTokens(probs, TOP_ENTRIES); // the event's head too, in the same pass
      if (head.length === 0) throw new Error(`llama.cpp gave no usable logits before step ${index} (every one is NaN)`);
      tokens = [head[0]];
      if (!model.isEog(tokens[0])) {
        greedy = true;
        if (pending) greedyHead = { logits: pending.logits[0], tokens: head };
      }
      else if (eogAllowed) return finish("eog");
      else tokens = topTokens(pending?.logits[0] ?? probs, 1, -Infinity, (t) => !model.isEog(t)); // rank computed with the event

    } else {
      settle();
      const isEog = (t: number) => model.isEog(t);
      if (teacherTokens) {
        const teacher = teacherTokens[index];
        const others = selectSet(probs, threshold, config.relativeAlpha, config.maxWidth, isEog).filter((m) => m.token !== teacher);
        selected = [...membersOf(probs, [teacher]), ...others].slice(0, config.maxWidth);
      } else {
        if (eogAllowed && isEog(topTokens(probs, 1)[0])) return finish("eog");
        selected = selectSet(probs, threshold, config.relativeAlpha, config.maxWidth, isEog);
      }
      tokens = selected.map((m) => m.token);
    }
    if (tokens.length > session.cellsFree) return finish("context-full");
    const t1 = performance.now();
    let event: StepEvent | undefined;
    let describeMs = 0;
    // Everything the step's event needs but the new logits: runs while the set decodes on
    // another thread, so it calls nothing on the session's context (the vocabulary is fine).
    const describe = () => {
      const d0 = performance.now();
      // Greedy: the head's probabilities and the entropy from one pass over the logits, the
      // row itself never written (nothing reads it before the next set's logits replace it).
      const head = greedyHead && softmaxHead(greedyHead.logits, config.temperature, greedyHead.tokens);
      if (!head) settle();
      const probOf = (token: number, i: number) => (head ? head.probs[i] : probs[token]);
      const members = selected ?? (greedy ? [{ token: tokens[0], prob: probOf(tokens[0], 0), rank: 0 }] : membersOf(probs, tokens));
      const table = session.indexTable;
      const firstRow = table.length - members.length - (scratchRow ? 1 : 0);
      const candidates: Candidate[] = members.map((m, j) => ({
        token: m.token, ...model.tokenView(m.token), prob: m.prob, logprob: Math.log(m.prob), rank: m.rank, cell: table[firstRow + j].cell,
      }));
      event = {
        index,
        position: table[firstRow].position,
        mode: config.mode,
        policy: config.policy,
        threshold,
        candidates,
        top: (greedyHead?.tokens ?? topTokens(probs, TOP_ENTRIES)).map((token, i) => ({ token, ...model.tokenView(token), prob: probOf(token, i) })),
        entropy: head ? head.entropy : rows.entropy ?? entropy(probs), // a single softmax's came with it
        setMass: members.reduce((a, m) => a + m.prob, 0),
        timings: { decodeMs: 0, selectMs: 0 },
      };
      describeMs = performance.now() - d0;
    };
    let memberLogits: Float32Array[];
    try {
      memberLogits = await session.decodeSetAsync(tokens, config.mode, index, { scratch: scratchRow ? { after: 1 } : undefined, reuseRows: true, whileDecoding: describe });
    } catch (e) {
      if (e instanceof ContextFullError) return finish("context-full");
      throw e;
    }
    const t2 = performance.now();
    const done = event!;
    if (pruner) {
      // This set's attention scores the sets before it; the one due is decided before the next
      // set decodes, so every token from the next step on sees only its survivors.
      const decision = pruner.observe(session.lastSetAttention!, session.prunableSteps.includes(index));
      if (decision) {
        session.pruneMembers(decision.step, decision.pruned);
        markPruned(steps[decision.step].candidates, decision);
        done.pruning = decision;
      }
    }
    // Wall time waiting on llama.cpp, and time spent choosing and describing the set.
    done.timings = { decodeMs: t2 - t1 - describeMs, selectMs: t1 - t0 + describeMs };
    steps.push(done);
    primary.push(tokens[0]);
    pending = { logits: memberLogits, probs: done.candidates.map((c) => c.prob) };
    if (onDistributions) {
      settle();
      onDistributions(index, memberLogits, probs); // before the event, so consumers see both together
    }
    yield done;
    if (config.stopStrings.length) {
      const text = model.pathText(primary);
      if (config.stopStrings.some((s) => text.includes(s))) return finish("stop-string");
    }
  }
  return finish("max-steps");
}

function pruningFor(session: TempoSession, config: GenerationConfig): AttentionPruner {
  const layers = pruneLayersOf(config, session.model.info.nLayer);
  const captured = session.attentionLayers;
  if (!captured || layers.some((l) => !captured.includes(l)) || (session.pruneLookahead ?? 0) < config.pruneLookahead) {
    throw new TempoInputError(`pruning scores members by the attention of layers ${layers.join(",")} over ${config.pruneLookahead} steps: make the session with pruningSessionOptions(config)`);
  }
  return new AttentionPruner(config);
}

/** Given tokens as members, with their probabilities and ranks in `probs`. */
function membersOf(probs: Float64Array, tokens: readonly number[]): SelectedMember[] {
  const ranks = ranksOf(probs, tokens);
  return tokens.map((token, j) => ({ token, prob: probs[token], rank: ranks[j] }));
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
