/**
 * Attention between parallel tokens, as captured in the forward pass that contains a set
 * (the seed study measured it outside that pass: docs/design/tempo-reference.md). The engine fills AttentionRecord from the eval-callback tap, with the KV cells
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
  /** Step that produced each key: -1 for prompt tokens, `step` for the set's own members,
   * below -1 for anything else (scratch rows, cells the index table does not know). */
  keySteps: Int32Array;
  /** RoPE position of each key (BOS is the prompt token at position 0). */
  keyPositions: Int32Array;
  /**
   * Which decode of the set this is, when a capture holds several (tempo compare: the P and
   * Q replays and the null-baseline replay), e.g. "replay-isolated"; absent in captures of
   * one stream and in files written before streams existed.
   */
  stream?: string;
  /** The mode that stream decoded the set in (isolated, visible, causal). */
  mode?: string;
}

/** Columns of attentionBreakdown, in order. "other": cells the index table does not map to a
 * prompt token or a set (scratch rows, unused cells); it should be ~0, a consistency check. */
export const ATTENTION_TARGETS = ["self", "siblings", "prompt", "earlierSets", "bos", "other"] as const;
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
 * set), the prompt (excluding BOS), earlier sets, BOS, and other cells. Returns
 * [heads, queries, 6]. BOS is the prompt token at position 0 when it is `bosToken` (models
 * without BOS: leave it undefined). In isolated mode the sibling column must be exactly zero.
 */
export function attentionBreakdown(r: AttentionRecord, bosToken?: number): Float64Array {
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
        else if (r.keySteps[j] === -1) col = bosToken !== undefined && r.keyPositions[j] === 0 && r.keyTokens[j] === bosToken ? 4 : 2;
        else if (r.keySteps[j] < -1) col = 5;
        else col = 3;
        out[o + col] += w;
      }
    }
  }
  return out;
}

/** Step recorded for key cells the index table does not know. */
export const UNKNOWN_KEY_STEP = -1000;

/**
 * Adapter from the engine's capture (src/engine/session.ts SetAttention: per layer, probs in
 * ggml's own layout [head][batch row][cell]) and the session's index table to one
 * AttentionRecord per layer ([head][member][cell]); every cell is a key (but an all-zero tail
 * of cells the table never used), mapped to its token through the table. The batch may hold
 * rows that are not members (null-baseline scratch rows): the members' rows are found through
 * the table's `batchRow`, and only they are kept.
 */
export function attentionRecordsFromSet(
  capture: { step: number; memberCells: readonly number[]; layers: readonly { layer: number; nKv: number; nTokens: number; nHead: number; probs: Float32Array }[] },
  table: readonly { token: number; step: number; position: number; cell: number; batchRow?: number }[],
  label: { stream?: string; mode?: string } = {},
): AttentionRecord[] {
  const byCell = new Map<number, { token: number; step: number; position: number; batchRow?: number }>();
  let lastCell = -1;
  for (const t of table) { byCell.set(t.cell, t); lastCell = Math.max(lastCell, t.cell); }
  const q = capture.memberCells.length;
  return capture.layers.map((l) => {
    if (l.probs.length !== l.nTokens * l.nHead * l.nKv) throw new RangeError(`layer ${l.layer}: probs has ${l.probs.length} values, expected ${l.nHead}*${l.nTokens}*${l.nKv}`);
    // Batch row of each member: the table's, or (a batch of members only) the member's index.
    const rows = capture.memberCells.map((c, i) => {
      const row = l.nTokens === q ? i : byCell.get(c)?.batchRow;
      if (row === undefined || row < 0 || row >= l.nTokens) throw new RangeError(`layer ${l.layer}: ${l.nTokens} captured rows, and member cell ${c} has no batch row among them`);
      return row;
    });
    // Cells past the last one the table maps hold nothing (cells are handed out in order from
    // a cleared cache), and the mask gives them exactly 0; n_kv pads to 256, so they are most
    // of a short run's keys. They are dropped when every member row is exactly 0 there; a mask
    // that let weight through keeps them all, to show as "other".
    let keys = l.nKv;
    const used = Math.min(l.nKv, lastCell + 1);
    const zeroTail = (h: number, row: number) => {
      const base = (h * l.nTokens + row) * l.nKv;
      for (let c = used; c < l.nKv; c++) if (l.probs[base + c] !== 0) return false;
      return true;
    };
    if (used < keys && rows.every((row) => Array.from({ length: l.nHead }, (_, h) => h).every((h) => zeroTail(h, row)))) keys = used;
    let weights: Float32Array;
    if (keys === l.nKv && rows.every((r, i) => r === i) && q === l.nTokens) {
      weights = l.probs; // already [head][member][cell]: no copy
    } else {
      weights = new Float32Array(l.nHead * q * keys);
      for (let h = 0; h < l.nHead; h++) for (let i = 0; i < q; i++) {
        const src = (h * l.nTokens + rows[i]) * l.nKv;
        weights.set(l.probs.subarray(src, src + keys), (h * q + i) * keys);
      }
    }
    const keyCells = Int32Array.from({ length: keys }, (_, c) => c);
    const known = (c: number) => byCell.get(c);
    return {
      step: capture.step, layer: l.layer, heads: l.nHead, weights,
      queryCells: Int32Array.from(capture.memberCells),
      keyCells,
      keyTokens: Int32Array.from(keyCells, (c) => known(c)?.token ?? -1),
      keySteps: Int32Array.from(keyCells, (c) => known(c)?.step ?? UNKNOWN_KEY_STEP),
      keyPositions: Int32Array.from(keyCells, (c) => known(c)?.position ?? -1),
      ...(label.stream !== undefined ? { stream: label.stream } : {}),
      ...(label.mode !== undefined ? { mode: label.mode } : {}),
    };
  });
}
