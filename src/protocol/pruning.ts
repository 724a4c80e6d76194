/**
 * Retroactive pruning's decisions, declared once for the engine (src/engine/tempo/pruning.ts),
 * the engine host protocol and the playground (docs/pruning.md); its settings (pruneMass,
 * pruneLookahead, pruneLayers) are generation settings (src/protocol/generation.ts). Pure (zod
 * only): the webview bundles it.
 */
import { z } from "zod";

/** What was decided for one set, carried by the event of the step that decided it. */
export const pruneDecisionSchema = z.object({
  /** Step of the set decided. */
  step: z.number().int().nonnegative(),
  /** Per member, in member order: the mean attention the lookahead steps' query rows paid to its cell, over the scoring layers and their heads. */
  scores: z.array(z.number().min(0).max(1 + 1e-6)),
  /** Per member: it left the cache's visible sequences (the primary member never does). */
  pruned: z.array(z.boolean()),
}).strict();
export type PruneDecision = z.output<typeof pruneDecisionSchema>;

type Member = { pruneScore?: number; pruned?: boolean };

/** The candidate view of a decision: each member of the decided set gets its score and whether it was pruned. */
export function markPruned(candidates: Member[], decision: PruneDecision): void {
  candidates.forEach((c, j) => { c.pruneScore = decision.scores[j]; c.pruned = decision.pruned[j]; });
}

/**
 * Steps that arrived (already appended to `run`) may decide earlier sets: marks those sets'
 * members in `run` and returns the steps decided, for views to redraw.
 */
export function applyArrivedDecisions(run: readonly { candidates: Member[] }[], arrived: readonly { pruning?: PruneDecision }[]): number[] {
  const decided: number[] = [];
  for (const { pruning } of arrived) {
    const set = pruning && run[pruning.step];
    if (!pruning || !set) continue;
    markPruned(set.candidates, pruning);
    decided.push(pruning.step);
  }
  return decided;
}
