/**
 * Attention between parallel tokens, as captured in the forward pass that contains a set
 * (issue 4). The engine fills AttentionRecord from the eval-callback tap, with the KV cells
 * already mapped to tokens through the session's index table; this module only defines the
 * shape and the per-head breakdown the report shows.
 */

export interface AttentionRecord {
  /** Step index of the parallel set whose forward pass this is. */
  step: number;
  layer: number;
  heads: number;
  /** Softmax attention weights, row-major [heads, queries, keys]. */
  weights: Float32Array;
  /** The queries: one per member of the set, in candidate order. */
  queryCells: Int32Array;
  /** The keys (KV cells the queries could attend to) and what the index table says of them. */
  keyCells: Int32Array;
  /** Token id held in each key cell. */
  keyTokens: Int32Array;
  /** Step that produced each key: -1 for prompt tokens, `step` for the set's own members. */
  keySteps: Int32Array;
  /** RoPE position of each key (BOS is the prompt token at position 0). */
  keyPositions: Int32Array;
}

/** Columns of attentionBreakdown, in order. */
export const ATTENTION_TARGETS = ["self", "siblings", "prompt", "earlierSets", "bos"] as const;
export type AttentionTarget = (typeof ATTENTION_TARGETS)[number];

/** Check the sizes agree; the error names the record. */
export function validateAttentionRecord(r: AttentionRecord): void {
  const q = r.queryCells.length, k = r.keyCells.length;
  const where = `attention record (step ${r.step}, layer ${r.layer})`;
  if (!Number.isInteger(r.heads) || r.heads < 1) throw new RangeError(`${where}: heads ${r.heads}`);
  if (r.weights.length !== r.heads * q * k) throw new RangeError(`${where}: weights has ${r.weights.length} values, expected heads*queries*keys = ${r.heads}*${q}*${k}`);
  for (const [name, a] of [["keyTokens", r.keyTokens], ["keySteps", r.keySteps], ["keyPositions", r.keyPositions]] as const) {
    if (a.length !== k) throw new RangeError(`${where}: ${name} has ${a.length} entries, expected ${k} (one per key)`);
  }
}

/**
 * Per head and query, the attention mass on: itself, its siblings (other members of the same
 * set), the prompt (excluding BOS), earlier sets, and BOS. Returns [heads, queries, 5].
 * In isolated mode the sibling column must be exactly zero.
 */
export function attentionBreakdown(r: AttentionRecord): Float64Array {
  validateAttentionRecord(r);
  const q = r.queryCells.length, k = r.keyCells.length, T = ATTENTION_TARGETS.length;
  const out = new Float64Array(r.heads * q * T);
  for (let h = 0; h < r.heads; h++) {
    for (let i = 0; i < q; i++) {
      const row = (h * q + i) * k;
      const o = (h * q + i) * T;
      for (let j = 0; j < k; j++) {
        const w = r.weights[row + j];
        let col: number;
        if (r.keyCells[j] === r.queryCells[i]) col = 0;
        else if (r.keySteps[j] === r.step) col = 1;
        else if (r.keySteps[j] < 0) col = r.keyPositions[j] === 0 ? 4 : 2;
        else col = 3;
        out[o + col] += w;
      }
    }
  }
  return out;
}
