/**
 * The playground's attention overlay (src/protocol/attention.ts) from a set's captured attention:
 * per member, the mean over layers and heads of its weights, as masses by target (the same
 * breakdown the report uses) and the heaviest keys mapped to their tokens.
 */
import type { SetAttention } from "../session.js";
import type { TempoModel } from "../model.js";
import type { TokenRecord } from "../types.js";
import { ATTENTION_TARGETS, attentionBreakdown, attentionRecordsFromSet } from "../capture/attention.js";
import { OVERLAY_TOP_KEYS, type StepAttention } from "../../protocol/attention.js";

export function stepAttention(capture: SetAttention, table: readonly TokenRecord[], model: TempoModel): StepAttention {
  const records = attentionRecordsFromSet(capture, table);
  const members = capture.memberCells.length;
  const bos = model.info.addsBos ? model.info.bos : undefined;
  const T = ATTENTION_TARGETS.length;
  // Member index of every set token, by cell: the tokens of a step enter the table in member order.
  const memberOf = new Map<number, number>();
  const firstOfStep = new Map<number, number>();
  for (const r of table) {
    if (r.step < 0) continue;
    const first = firstOfStep.get(r.step) ?? r.cell;
    firstOfStep.set(r.step, first);
    memberOf.set(r.cell, r.cell - first);
  }
  return {
    layers: records.map((r) => r.layer),
    members: Array.from({ length: members }, (_, m) => {
      const targets = new Float64Array(T);
      const weights = new Float64Array(records[0].keyCells.length);
      let n = 0;
      for (const r of records) {
        const b = attentionBreakdown(r, bos);
        for (let h = 0; h < r.heads; h++) {
          for (let t = 0; t < T; t++) targets[t] += b[(h * members + m) * T + t];
          const row = (h * members + m) * r.keyCells.length;
          for (let k = 0; k < r.keyCells.length; k++) weights[k] += r.weights[row + k];
          n++;
        }
      }
      const key = records[0];
      const top = Array.from(weights.keys()).filter((k) => weights[k] > 0 && key.keySteps[k] >= -1)
        .sort((a, b) => weights[b] - weights[a]).slice(0, OVERLAY_TOP_KEYS)
        .map((k) => ({
          step: key.keySteps[k], member: memberOf.get(key.keyCells[k]) ?? 0, position: key.keyPositions[k], token: key.keyTokens[k],
          ...model.tokenView(key.keyTokens[k]), weight: weights[k] / n,
        }));
      const mass = (t: (typeof ATTENTION_TARGETS)[number]) => targets[ATTENTION_TARGETS.indexOf(t)] / n;
      return { targets: { self: mass("self"), siblings: mass("siblings"), prompt: mass("prompt"), earlierSets: mass("earlierSets"), bos: mass("bos"), other: mass("other") }, top };
    }),
  };
}
