/**
 * A recorded run comes from a file someone may have edited: every token id must be a token of
 * the loaded model before any of it reaches llama.cpp (token_to_piece on an id outside the
 * vocabulary throws through the C API and aborts the process).
 */
import { TempoInputError } from "../errors.js";
import type { RecordedRun } from "./compare-run.js";

const isToken = (t: unknown, nVocab: number): boolean => Number.isInteger(t) && (t as number) >= 0 && (t as number) < nVocab;

/** Throws a TempoInputError naming the first bad entry; `source` names the capture. */
export function checkRecordedRun(run: RecordedRun, nVocab: number, source = "the recorded run"): void {
  const range = `outside the vocabulary [0, ${nVocab}) of the loaded model`;
  if (!Array.isArray(run.promptTokens) || run.promptTokens.length === 0) throw new TempoInputError(`${source}: no prompt tokens`);
  const badPrompt = run.promptTokens.findIndex((t) => !isToken(t, nVocab));
  if (badPrompt >= 0) throw new TempoInputError(`${source}: prompt token ${badPrompt + 1} is ${JSON.stringify(run.promptTokens[badPrompt])}, ${range}`);
  run.steps.forEach((step, i) => {
    const c: unknown = step.candidates;
    if (!Array.isArray(c) || c.length === 0) throw new TempoInputError(`${source}: step ${i} has no candidates`);
    for (const m of c) {
      const token = (m as { token?: unknown } | null)?.token;
      if (!isToken(token, nVocab)) throw new TempoInputError(`${source}: step ${i} has token ${JSON.stringify(token)}, ${range}`);
    }
  });
}
