/**
 * Retroactive pruning (docs/pruning.md): each member of an isolated set is scored by the
 * attention the next `pruneLookahead` steps pay to its KV cell, and members scoring below
 * `pruneMass` leave the KV cache's visible sequences, so that every token decoded after the
 * decision no longer sees them. Tokens decoded before the decision keep what they saw. The
 * primary member (candidates[0], whose token is the text) is never pruned.
 */
import { layersOf } from "../../protocol/attention.js";
import type { SessionOptions, SetAttention } from "../session.js";
import type { GenerationConfig, PruneDecision } from "../types.js";

export { markPruned } from "../../protocol/pruning.js";

type PruningSettings = Pick<GenerationConfig, "pruneMass" | "pruneLookahead" | "pruneLayers">;

export const prunes = (config: Pick<GenerationConfig, "pruneMass">): boolean => config.pruneMass > 0;

/** The layers that score members: the configured ones, or every layer. */
export function pruneLayersOf(config: Pick<GenerationConfig, "pruneLayers">, nLayer: number): number[] {
  return layersOf(config.pruneLayers.length ? config.pruneLayers : "all", nLayer);
}

/** What a session needs to run `config`: attention capture on the scoring layers and tag sequences; nothing when it does not prune. */
export function pruningSessionOptions(config: PruningSettings, nLayer: number): Pick<SessionOptions, "attentionLayers" | "pruneLookahead"> {
  return prunes(config) ? { attentionLayers: pruneLayersOf(config, nLayer), pruneLookahead: config.pruneLookahead } : {};
}

interface PendingSet { step: number; cells: readonly number[]; sums: Float64Array; rows: number; stepsSeen: number }

/** Scores sets from the attention of the sets decoded after them, and says when one is due. */
export class AttentionPruner {
  private readonly pending: PendingSet[] = [];

  constructor(readonly settings: Pick<GenerationConfig, "pruneMass" | "pruneLookahead">) {}

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
    if (!due || due.stepsSeen < this.settings.pruneLookahead) return undefined;
    this.pending.shift();
    const scores = Array.from(due.sums, (sum) => sum / due.rows);
    return { step: due.step, scores, pruned: scores.map((score, j) => j > 0 && score < this.settings.pruneMass) };
  }
}
