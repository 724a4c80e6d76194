/**
 * The lane scheme (docs/design/llama-cpp-facts.md): sequence 0 is `main`, sequences 1..K are lanes that
 * mirror main. A KQ-mask row uses only its token's FIRST sequence id, and a stored cell joins
 * EVERY id in the list. So:
 * - ordinary tokens carry [main, lane_1..lane_K]: every lane sees them;
 * - visible members carry [main, lanes...]: they see each other (same position, same seq);
 * - isolated member i carries [lane_i, main]: it sees the prefix and itself; after the step
 *   `seq_cp(main -> lane_k)` makes every later token see all members;
 * - causal member j carries [lane_j, main, lane_{j+1}..lane_M]: it sees members before it.
 * After the lanes come the scratch sequence (null-baseline rows), and, in sessions that can
 * prune, the pruned sequence (cells no query sees any more) and the member tags: right after an
 * isolated set, lane_i holds member i alone at the set's position, so `seq_cp(lane_i -> tag)`
 * gives each member a sequence of its own by which it can later be removed (docs/pruning.md).
 */
import { TempoMode } from "./types.js";
import { MAX_LANES } from "../protocol/generation.js";

export { MAX_LANES };

export const MAIN_SEQ = 0;
/** llama.cpp accepts sequence ids < LLAMA_MAX_SEQ; MAX_LANES leaves two of them, main and scratch. */
export const LLAMA_MAX_SEQ = MAX_LANES + 2;

/** The sequences after the lanes (see the top of this file). */
export function extraSeqIds(lanes: number): { scratch: number; pruned: number; firstTag: number } {
  return { scratch: lanes + 1, pruned: lanes + 2, firstTag: lanes + 3 };
}

export function allSeqIds(lanes: number): number[] {
  return Array.from({ length: lanes + 1 }, (_, i) => i);
}

/** Sequence ids for member `j` (0-based) of a set of `m` members. */
export function memberSeqIds(mode: TempoMode, j: number, m: number, lanes: number): number[] {
  if (mode === "visible" || mode === "standard" || m === 1) return allSeqIds(lanes);
  const lane = j + 1;
  if (mode === "isolated") return [lane, MAIN_SEQ];
  // causal: later members' lanes too, so member k > j sees member j.
  const later = Array.from({ length: m - j - 1 }, (_, k) => lane + 1 + k);
  return [lane, MAIN_SEQ, ...later];
}

/** Whether lanes must be re-synchronised with main after the set (isolated, causal). */
export function needsLaneSync(mode: TempoMode, m: number): boolean {
  return m > 1 && (mode === "isolated" || mode === "causal");
}
