/**
 * Retroactive pruning (docs/pruning.md): each member of an isolated set is scored by the
 * attention the next `lookahead` steps pay to its KV cell, and members scoring below `mass`
 * leave the KV cache's visible sequences, so that every token decoded after the decision no
 * longer sees them. Tokens decoded before the decision keep what they saw. The primary
 * member (candidates[0], whose token is the text) is never pruned.
 */
import { SetAttention } from "../session.js";
import { TempoInputError } from "../model.js";
import { Candidate, GenerationConfig, PruneDecision } from "../types.js";

export interface PruneSettings {
  /** Prune members whose score (mean attention a later query row pays them) is below this; in (0, 1]. */
  mass: number;
  /** Steps after a set whose attention scores it; an integer >= 1. */
  lookahead: number;
}

/** A small lookahead: the steps right after a set say most about whether it is used. */
export const DEFAULT_PRUNE_LOOKAHEAD = 2;

/** The candidate view of a decision: each member of the decided set gets its score and whether it was pruned. */
export function markPruned(candidates: Candidate[], decision: PruneDecision): void {
  candidates.forEach((c, j) => { c.pruneScore = decision.scores[j]; c.pruned = decision.pruned[j]; });
}

/** What pruning needs of a run's settings, as one-line input errors. */
export function checkPruning(config: Pick<GenerationConfig, "mode">, s: PruneSettings): void {
  if (config.mode !== "isolated") throw new TempoInputError(`pruning needs isolated mode (members told apart by their lanes), got ${config.mode}`);
  if (!(s.mass > 0 && s.mass <= 1)) throw new TempoInputError(`the pruning mass must be in (0, 1], got ${s.mass}`);
  if (!Number.isInteger(s.lookahead) || s.lookahead < 1) throw new TempoInputError(`the pruning lookahead must be an integer >= 1, got ${s.lookahead}`);
}

interface PendingSet { step: number; cells: readonly number[]; sums: Float64Array; rows: number; stepsSeen: number }

/** Scores sets from the attention of the sets decoded after them, and says when one is due. */
export class AttentionPruner {
  private readonly pending: PendingSet[] = [];

  constructor(readonly settings: PruneSettings) {}

  /**
   * The attention of the set just decoded: it scores every pending set, then the set itself
   * becomes pending when `prunable`. Returns the decision that is due now, if one is.
   */
  observe(attention: SetAttention, prunable: boolean): PruneDecision | undefined {
    for (const set of this.pending) {
      for (const layer of attention.layers) {
        const rows = layer.nTokens * layer.nHead;
        for (let r = 0; r < rows; r++) {
          const base = r * layer.nKv;
          set.cells.forEach((cell, j) => { set.sums[j] += layer.probs[base + cell]; });
        }
        set.rows += rows;
      }
      set.stepsSeen++;
    }
    if (prunable) this.pending.push({ step: attention.step, cells: attention.memberCells, sums: new Float64Array(attention.memberCells.length), rows: 0, stepsSeen: 0 });
    const due = this.pending[0];
    if (!due || due.stepsSeen < this.settings.lookahead) return undefined;
    this.pending.shift();
    const scores = Array.from(due.sums, (sum) => sum / due.rows);
    return { step: due.step, scores, pruned: scores.map((score, j) => j > 0 && score < this.settings.mass) };
  }
}
