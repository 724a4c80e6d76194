/**
 * Beam search in standard mode, the second matched-compute baseline of `tempo eval`
 * (docs/eval.md). Every step, each live beam's next-token distribution (softmax at temperature
 * 1) is read, each beam offers its 2 x width most probable tokens, and the width best
 * candidates by summed log-probability are kept (ties: the better beam, then the more probable
 * token). A candidate that draws an end-of-generation token or closes the function is finished
 * (when it ranks within the width); the search ends when no live beam is left, when the
 * width-th finished hypothesis is at least as likely as the best live one (log-probabilities
 * only fall), at max steps, or when the next step's rows would pass the budget. No length
 * penalty: hypotheses are ranked by their summed log-probability.
 *
 * The session has one token stream, so a beam's distribution is read by going back to the
 * prefix it shares with what the session holds (session.truncate) and decoding the rest; beams
 * are visited in token order, so siblings cost one row each. The rows counted are the rows
 * decoded, re-decoded prefixes included.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { TempoSession } from "../session.js";
import { softmaxHead } from "../tempo/distribution.js";
import { topLogits } from "../math/head-kernel.js";

export interface BeamOptions {
  width: number;
  /** Tokens per hypothesis. */
  maxSteps: number;
  /** Rows the search may decode after the prompt (Infinity: no limit). */
  rowBudget: number;
  signal?: AbortSignal;
  /** A hypothesis whose text satisfies this is finished (e.g. the function has ended). */
  done?: (text: string) => boolean;
}

export interface BeamHypothesis {
  tokens: number[];
  /** Sum of the tokens' log-probabilities (softmax at temperature 1). */
  logprob: number;
  stepLogprobs: number[];
  /** How it ended: an end-of-generation token (not part of `tokens`), `done`, or still live when the search stopped. */
  finished: "eog" | "done" | null;
}

export interface BeamResult {
  /** At most `width` hypotheses, most likely first. */
  beams: BeamHypothesis[];
  stopReason: "function-end" | "eog" | "max-steps" | "budget" | "context-full" | "aborted";
  steps: number;
  /** Rows decoded after the prompt. */
  rows: number;
  /** Live beams summed over the steps: the rows a search that copies sequences instead of re-decoding would need. */
  beamRows: number;
}

const commonPrefix = (a: readonly number[], b: readonly number[]) => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
};

const lexical = (a: readonly number[], b: readonly number[]) => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
};

export async function beamSearch(session: TempoSession, promptTokens: number[], options: BeamOptions): Promise<BeamResult> {
  const { width } = options;
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`beam width must be a positive integer, got ${width}`);
  const model = session.model;
  session.reset();
  const p = promptTokens.length;
  const promptLogits = session.decodeSequence(promptTokens);
  /** What the session holds after the prompt, and the logits after its last token. */
  let held: number[] = [];
  let heldLogits = promptLogits;
  let rows = 0, beamRows = 0, steps = 0;

  /** Rows to read the distribution after `tokens` from what is held now, and from where. */
  const plan = (from: readonly number[], tokens: readonly number[]) => {
    if (tokens.length === 0) return { keep: 0, cost: 0 };
    let keep = commonPrefix(from, tokens);
    if (keep === tokens.length && keep === from.length) return { keep, cost: 0 };
    if (keep === tokens.length) keep--; // a proper prefix of what is held: its last token is decoded again for its logits
    return { keep, cost: tokens.length - keep };
  };
  const logitsAfter = (tokens: readonly number[]): Float32Array => {
    if (tokens.length === 0) return promptLogits;
    const { keep, cost } = plan(held, tokens);
    if (cost === 0) return heldLogits;
    session.truncate(p + keep);
    heldLogits = session.decodeSequence(tokens.slice(keep));
    held = [...tokens];
    rows += cost;
    return heldLogits;
  };

  let live: BeamHypothesis[] = [{ tokens: [], logprob: 0, stepLogprobs: [], finished: null }];
  const finished: BeamHypothesis[] = [];
  let stopReason: BeamResult["stopReason"] | undefined;
  for (let step = 0; step < options.maxSteps; step++) {
    await yieldToEventLoop(); // an abort can arrive between two steps
    if (options.signal?.aborted) { stopReason = "aborted"; break; }
    const order = live.map((_, i) => i).sort((a, b) => lexical(live[a].tokens, live[b].tokens));
    let cost = 0, from = held;
    for (const i of order) { cost += plan(from, live[i].tokens).cost; from = live[i].tokens; }
    if (rows + cost > options.rowBudget) { stopReason = "budget"; break; }
    if (p + step > session.contextSize - 1) { stopReason = "context-full"; break; }
    const logits = new Map<number, Float32Array>();
    for (const i of order) logits.set(i, logitsAfter(live[i].tokens));
    beamRows += step === 0 ? 0 : live.length;
    steps = step + 1;
    // Each beam's 2 x width most probable tokens: enough to keep width live ones when some finish.
    const candidates = live.flatMap((beam, b) => {
      const row = logits.get(b)!;
      const top = topLogits(row, 2 * width);
      const { probs } = softmaxHead(row, 1, top);
      return top.map((token, r) => ({ beam, token, lp: Math.log(probs[r]), score: beam.logprob + Math.log(probs[r]), b, r }));
    });
    candidates.sort((x, y) => y.score - x.score || x.b - y.b || x.r - y.r);
    const next: BeamHypothesis[] = [];
    for (const [rank, c] of candidates.entries()) {
      if (next.length >= width) break;
      if (model.isEog(c.token)) {
        if (rank < width) finished.push({ tokens: c.beam.tokens, logprob: c.score, stepLogprobs: c.beam.stepLogprobs, finished: "eog" });
        continue;
      }
      const tokens = [...c.beam.tokens, c.token];
      const hyp: BeamHypothesis = { tokens, logprob: c.score, stepLogprobs: [...c.beam.stepLogprobs, c.lp], finished: null };
      if (options.done?.(model.pathText(tokens))) {
        if (rank < width) finished.push({ ...hyp, finished: "done" });
        continue;
      }
      next.push(hyp);
    }
    live = next;
    finished.sort((x, y) => y.logprob - x.logprob);
    if (live.length === 0) break;
    if (finished.length >= width && finished[width - 1].logprob >= live[0].logprob) break;
  }
  const beams = [...finished, ...live].sort((x, y) => y.logprob - x.logprob || (x.finished ? 0 : 1) - (y.finished ? 0 : 1)).slice(0, width);
  const top = beams[0];
  stopReason ??= live.length === 0 || (finished.length >= width && beams.every((b) => b.finished)) ? (top.finished === "eog" ? "eog" : "function-end") : "max-steps";
  return { beams, stopReason, steps, rows, beamRows };
}
