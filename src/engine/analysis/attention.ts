/**
 * Where a parallel set's members look: per layer and head, each member's attention to its
 * siblings, to itself, to BOS, to the rest of the prompt and to earlier sets. Columns of the
 * captured probabilities are KV cells; the session's index table maps them to tokens.
 */
import { SetAttention } from "../session.js";
import { TokenRecord } from "../types.js";

export interface MemberAttention {
  member: number;
  layer: number;
  head: number;
  self: number;
  siblings: number;
  bos: number;
  prompt: number;
  earlierSets: number;
  /** Mass on cells the index table does not know (must be ~0: a consistency check). */
  unaccounted: number;
}

export function summariseSetAttention(capture: SetAttention, table: readonly TokenRecord[], bosToken: number | undefined): MemberAttention[] {
  const byCell = new Map<number, TokenRecord>();
  for (const r of table) byCell.set(r.cell, r);
  const out: MemberAttention[] = [];
  const m = capture.memberCells.length;
  for (const layer of capture.layers) {
    if (layer.nTokens !== m) throw new Error(`layer ${layer.layer}: captured ${layer.nTokens} rows for a set of ${m}`);
    for (let j = 0; j < m; j++) for (let h = 0; h < layer.nHead; h++) {
      const row = layer.probs.subarray((j * layer.nHead + h) * layer.nKv, (j * layer.nHead + h + 1) * layer.nKv);
      const a: MemberAttention = { member: j, layer: layer.layer, head: h, self: 0, siblings: 0, bos: 0, prompt: 0, earlierSets: 0, unaccounted: 0 };
      for (let cell = 0; cell < layer.nKv; cell++) {
        const p = row[cell];
        if (p === 0) continue;
        const rec = byCell.get(cell);
        if (!rec) a.unaccounted += p;
        else if (cell === capture.memberCells[j]) a.self += p;
        else if (rec.step === capture.step) a.siblings += p;
        else if (rec.step < 0) {
          if (rec.position === 0 && rec.token === bosToken) a.bos += p; else a.prompt += p;
        } else if (rec.step < capture.step) a.earlierSets += p;
        else a.unaccounted += p;
      }
      out.push(a);
    }
  }
  return out;
}
