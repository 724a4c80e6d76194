import assert from "node:assert/strict";
import { seededModelPath, TINY_GQA_SHAPE } from "../fixtures/seeded-model.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoSession } from "../../src/engine/session.js";
import { EQUALITY_FACTOR, FLOAT32_EPSILON, maxAbsDiff } from "../../src/engine/tempo/selfcheck.js";
import { ATTENTION_TARGETS, attentionBreakdown, attentionRecordsFromSet } from "../../src/engine/capture/attention.js";

/** One row per (layer, head, member): the mass on each target. */
function breakdownRows(session: TempoSession, bos: number) {
  const rows: Array<Record<(typeof ATTENTION_TARGETS)[number], number> & { member: number; layer: number; head: number }> = [];
  for (const record of attentionRecordsFromSet(session.lastSetAttention!, session.indexTable)) {
    const b = attentionBreakdown(record, bos);
    const q = record.queryCells.length, T = ATTENTION_TARGETS.length;
    for (let h = 0; h < record.heads; h++) for (let i = 0; i < q; i++) {
      const row = Object.fromEntries(ATTENTION_TARGETS.map((t, c) => [t, b[(h * q + i) * T + c]])) as Record<(typeof ATTENTION_TARGETS)[number], number>;
      rows.push({ ...row, member: i, layer: record.layer, head: h });
    }
  }
  return rows;
}
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { runGeneration } from "../../src/engine/tempo/generate.js";

describe("attention between parallel tokens, captured in the pass that holds the set", () => {
  let model: TempoModel;
  let session: TempoSession;
  before(async () => {
    model = await TempoModel.open(seededModelPath(TINY_GQA_SHAPE));
    session = new TempoSession(model, { contextSize: 256, lanes: 8, attentionLayers: [0, 1] });
  });
  after(async () => { session.dispose(); await model.dispose(); });

  const capture = (mode: "isolated" | "visible" | "causal") => {
    const prompt = model.promptTokens("the value of function");
    session.reset();
    session.decodeSequence(prompt);
    session.decodeSet([300, 301], "isolated", 0); // an earlier set
    session.decodeSet([310, 311, 312, 313], mode, 1);
    const cap = session.lastSetAttention!;
    assert.equal(cap.step, 1);
    return breakdownRows(session, model.info.bos);
  };

  it("isolated: sibling attention is exactly zero in every layer and head; rows sum to 1", () => {
    const rows = capture("isolated");
    assert.equal(rows.length, 4 * 2 * TINY_GQA_SHAPE.nHead);
    for (const r of rows) {
      assert.equal(r.siblings, 0, `member ${r.member} layer ${r.layer} head ${r.head}`);
      assert.equal(r.other, 0);
      // float32 softmax weights, each within an ulp or so of exact: over n_kv keys the row's
      // sum is within n_kv ulps of 1.
      assert.ok(Math.abs(r.self + r.bos + r.prompt + r.earlierSets - 1) <= session.cellsUsed * FLOAT32_EPSILON);
      assert.ok(r.self > 0 && r.earlierSets > 0 && r.bos > 0 && r.prompt > 0);
    }
  });

  it("visible: every member attends to its siblings", () => {
    for (const r of capture("visible")) assert.ok(r.siblings > 0);
  });

  it("causal: the first member sees no sibling, later members do", () => {
    for (const r of capture("causal")) assert.ok(r.member === 0 ? r.siblings === 0 : r.siblings > 0);
  });

  it("capture does not change the logits (same as a session without the tap)", async () => {
    const plain = new TempoSession(model, { contextSize: 256, lanes: 8, flashAttention: "off" });
    try {
      const config = resolveConfig({ threshold: 0.05, maxSteps: 6 });
      const promptTokens = model.promptTokens("the value");
      const a = await runGeneration(session, { promptTokens, config });
      const b = await runGeneration(plain, { promptTokens, config });
      assert.deepEqual(a.steps.map((s) => s.candidates.map((c) => c.prob)), b.steps.map((s) => s.candidates.map((c) => c.prob)));
    } finally { plain.dispose(); }
  });

  it("a batch with a scratch row (the null-baseline layout) yields the members' rows only, as without it", () => {
    const scratch = new TempoSession(model, { contextSize: 256, lanes: 8, attentionLayers: [0, 1], scratchCells: 4 });
    try {
      const run = (s: TempoSession, withScratch: boolean) => {
        s.reset();
        s.decodeSequence(model.promptTokens("the value of function"));
        s.decodeSet([300, 301], "isolated", 0, withScratch ? { scratch: { after: 1 } } : {});
        const logits = s.decodeSet([310, 311, 312], "visible", 1, withScratch ? { scratch: { after: 1 } } : {});
        const cap = s.lastSetAttention!;
        assert.ok(cap.layers.every((l) => l.nTokens === (withScratch ? 4 : 3)), "the tap sees every batch row");
        return { logits, masses: attentionRecordsFromSet(cap, s.indexTable).map((r) => attentionBreakdown(r, model.info.bos)) };
      };
      const a = run(session, false), b = run(scratch, true);
      const plain = a.masses, shifted = b.masses;
      const T = ATTENTION_TARGETS.length;
      // Same layers, members and heads; by target the masses agree within the bound derived in
      // docs/tolerances.md (compare.test.ts's P vs null): keys x 2^-23, or twice the layout's
      // measured logit noise, whichever is larger, for each of two computations. The scratch
      // row's own weights (all on its own cell, "other") would show as other = 1 if its row
      // were taken for a member's.
      const floor = Math.max(...a.logits.map((l, j) => maxAbsDiff(l, b.logits[j])));
      const bound = EQUALITY_FACTOR * Math.max(scratch.cellsUsed * FLOAT32_EPSILON, 2 * floor);
      plain.forEach((b, l) => {
        assert.equal(b.length, shifted[l].length);
        for (let i = 0; i < b.length; i++) assert.ok(Math.abs(b[i] - shifted[l][i]) <= bound, `layer ${l} ${ATTENTION_TARGETS[i % T]}: ${b[i]} vs ${shifted[l][i]}`);
        for (let i = ATTENTION_TARGETS.indexOf("other"); i < b.length; i += T) assert.equal(shifted[l][i], 0);
        for (let i = ATTENTION_TARGETS.indexOf("siblings"); i < b.length; i += T) assert.ok(shifted[l][i] > 0, "visible members see each other");
      });
    } finally { scratch.dispose(); }
  });

  it("refuses attention capture with flash attention on, and unknown layers", () => {
    assert.throws(() => new TempoSession(model, { attentionLayers: [0], flashAttention: "on" }), /flash attention off/);
    assert.throws(() => new TempoSession(model, { attentionLayers: [7] }), /attention layers/);
  });
});
