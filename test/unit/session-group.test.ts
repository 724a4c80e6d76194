/**
 * SessionGroup: several prompts' sets in one llama_decode (#16). Two claims, tested apart:
 * - no seat sees another: a seat's numbers are bit for bit the same whatever the other seats
 *   hold, as long as the batch layout (rows per decode, cells before it) is the same;
 * - a seat computes what a session of its own does, in another layout: its next-token
 *   distributions differ from a solo run's as little as the null baseline's two layouts differ
 *   from each other (the same set decoded alone, and beside one unrelated row).
 */
import * as assert from "node:assert/strict";
import { defaultModelPath } from "../../src/engine/default-model.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoSession } from "../../src/engine/session.js";
import { SessionGroup, batchPromptsFor, maxSeats } from "../../src/engine/session-group.js";
import { runGeneration } from "../../src/engine/tempo/generate.js";
import { perplexityWindows, teacherForcedPerplexity } from "../../src/engine/tempo/perplexity.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { compareLogits } from "../../src/engine/analysis/divergence.js";
import { TempoInputError } from "../../src/engine/errors.js";
import { quantile } from "../../src/engine/analysis/stats.js";
import type { GenerationConfig } from "../../src/engine/types.js";

const PROMPTS = ["function add(a, b) {", "def fib(n):", "const xs = [1, 2", "for (let i = 0;", "class Stack {", "import os\n", "return a +", "// the sum of"];
const LANES = 4;

describe("session group: several prompts in one decode", function () {
  let model: TempoModel;
  before(async () => { model = await TempoModel.open(defaultModelPath(), { gpu: "cpu" }); });
  after(async () => { await model.dispose(); });

  /** The primary-member logits of every step of a forced-sets run (copies: the rows are reused). */
  const logitsOf = async (s: TempoSession, prompt: string, config: GenerationConfig, forcedSets: number[][], scratchRow = false): Promise<Float32Array[]> => {
    const rows: Float32Array[] = [];
    await runGeneration(s, { promptTokens: model.promptTokens(prompt), config, forcedSets, scratchRow, onDistributions: (_i, members) => rows.push(Float32Array.from(members[0])) });
    return rows;
  };

  for (const mode of ["standard", "isolated"] as const) {
    it(`${mode}: a seat's logits are bit for bit the same whatever the other seats hold, in the same layout`, async () => {
      const config = resolveConfig({ mode, threshold: 0.05, maxWidth: LANES, maxSteps: 12 });
      const solo = new TempoSession(model, { lanes: LANES, threads: 1 });
      const sets = (await runGeneration(solo, { promptTokens: model.promptTokens(PROMPTS[0]), config })).steps.map((e) => e.candidates.map((c) => c.token));
      solo.dispose();
      // The other seats: a prompt of the same length and sets of the same sizes, other tokens.
      const prompt = model.promptTokens(PROMPTS[0]);
      const other = (shift: number) => ({ prompt: prompt.map((t, i) => (i === 0 ? t : (t + shift) % model.info.nVocab)), sets: sets.map((s) => s.map((t, j) => (t + shift + j * 7) % model.info.nVocab)) });
      const run = async (shift: number) => {
        const group = new SessionGroup(model, 3, { lanes: LANES, threads: 1 });
        try {
          const o = other(shift);
          const rows: Float32Array[][] = [[], [], []];
          await Promise.all([0, 1, 2].map((k) => group.run(async (seat) => {
            const tokens = k === 1 ? prompt : o.prompt, forced = k === 1 ? sets : o.sets;
            await runGeneration(seat, { promptTokens: tokens, config, forcedSets: forced, onDistributions: (_i, m) => rows[k].push(Float32Array.from(m[0])) });
          })));
          return rows[1]; // the middle seat: rows before and after it
        } finally {
          group.dispose();
        }
      };
      const [a, b] = [await run(101), await run(2003)];
      assert.equal(a.length, sets.length);
      a.forEach((row, i) => assert.ok(Buffer.from(row.buffer).equals(Buffer.from(b[i].buffer)), `step ${i} differs when the other seats hold other tokens`));
    });

    it(`${mode}: each seat's distributions differ from a solo run's as little as the null baseline's layouts differ`, async () => {
      const config = resolveConfig({ mode, threshold: 0.05, maxWidth: LANES, maxSteps: 24 });
      const solo = new TempoSession(model, { lanes: LANES, threads: 1, scratchCells: 64 });
      const forced: number[][][] = [];
      const alone: Float32Array[][] = [], beside: Float32Array[][] = [];
      for (const p of PROMPTS) {
        const sets = (await runGeneration(solo, { promptTokens: model.promptTokens(p), config })).steps.map((e) => e.candidates.map((c) => c.token));
        forced.push(sets);
        alone.push(await logitsOf(solo, p, config, sets));
        beside.push(await logitsOf(solo, p, config, sets, true));
      }
      solo.dispose();
      const group = new SessionGroup(model, PROMPTS.length, { lanes: LANES, threads: 1 });
      const grouped = await Promise.all(PROMPTS.map((p, i) => group.run((seat) => logitsOf(seat, p, config, forced[i])))).finally(() => group.dispose());
      const js = (x: Float32Array[][]) => alone.flatMap((rows, i) => rows.map((row, j) => compareLogits(row, x[i][j]).js));
      const [batched, nullJs] = [js(grouped), js(beside)];
      // The null's p99 is where the comparison view and the reports start to call a step
      // divergent (src/protocol/null-band.ts): the typical (median) step of a seat must sit inside
      // it. Layout noise is ~1e-8 here; a seat reading another's rows, positions or cells moves
      // distributions by 1e-3 or more. (Steps that choose other sets: the free-generation test.)
      const band = quantile(nullJs, 0.99);
      if (band === 0 && Math.max(...batched) === 0) return; // the same bits in every layout: nothing to bound
      assert.ok(band > 0, `the null layouts gave identical bits but the group did not (max JS ${Math.max(...batched)})`);
      assert.ok(quantile(batched, 0.5) <= band, `median JS ${quantile(batched, 0.5)} above the null's p99 ${band}`);
    });
  }

  it("the free generations of a group choose the sets a solo session chooses", async () => {
    const config = resolveConfig({ mode: "isolated", threshold: 0.05, maxWidth: LANES, maxSteps: 24 });
    const solo = new TempoSession(model, { lanes: LANES, threads: 1 });
    const setsOf = (r: Awaited<ReturnType<typeof runGeneration>>) => r.steps.map((e) => e.candidates.map((c) => c.token));
    const expected = [];
    for (const p of PROMPTS) expected.push(setsOf(await runGeneration(solo, { promptTokens: model.promptTokens(p), config })));
    solo.dispose();
    const group = new SessionGroup(model, PROMPTS.length, { lanes: LANES, threads: 1 });
    try {
      const got = await Promise.all(PROMPTS.map((p) => group.run(async (seat) => setsOf(await runGeneration(seat, { promptTokens: model.promptTokens(p), config })))));
      assert.deepEqual(got, expected);
      // Rounds: more work than seats runs in further rounds, each from a cleared cache.
      const twice = await Promise.all([...PROMPTS, ...PROMPTS].map((p) => group.run(async (seat) => setsOf(await runGeneration(seat, { promptTokens: model.promptTokens(p), config })))));
      assert.deepEqual(twice, [...got, ...got]);
    } finally {
      group.dispose();
    }
  });

  it("sets whose rows together overflow one decode: every seat is told, none waits for ever", async () => {
    const group = new SessionGroup(model, 2, { lanes: LANES, threads: 1, contextSize: 1024 });
    try {
      // Each seat's set fits a decode alone (a set and its scratch rows), the two together do not.
      const after = Math.floor(group.seats[0].batchSize / 2) + 1;
      const settled = await Promise.allSettled([0, 1].map(() => group.run(async (seat) => {
        seat.decodeSequence(model.promptTokens(PROMPTS[0]));
        await seat.decodeSetAsync([5], "isolated", 0, { scratch: { after } });
      })));
      for (const r of settled) assert.ok(r.status === "rejected" && /batch of \d+ exceeds capacity/.test(String(r.reason)), r.status === "rejected" ? String(r.reason) : "fulfilled");
      // The group still works afterwards.
      const config = resolveConfig({ mode: "standard", maxSteps: 2 });
      const runs = await Promise.all([0, 1].map((k) => group.run((seat) => runGeneration(seat, { promptTokens: model.promptTokens(PROMPTS[k]), config }))));
      assert.deepEqual(runs.map((r) => r.steps.length), [2, 2]);
    } finally {
      group.dispose();
    }
  });

  it("perplexity windows on a group: the windows and tokens a session scores, the mean NLL within the bound the logits' layout change allows; one window alone is the session's bits", async () => {
    const text = PROMPTS.join("\n").repeat(3);
    const options = { window: 24, stride: 12 };
    const solo = new TempoSession(model, { lanes: LANES, threads: 1, contextSize: 256 });
    const group = new SessionGroup(model, 4, { lanes: LANES, threads: 1, contextSize: 256 });
    try {
      for (const mode of ["standard", "isolated"] as const) {
        const config = resolveConfig({ mode, threshold: 0.05, maxWidth: LANES });
        const { windows } = perplexityWindows(model, text, solo.contextSize, config, options);
        assert.ok(windows.length > group.size, "more windows than seats: several rounds");
        const [a, b] = [await teacherForcedPerplexity(solo, text, config, options), await teacherForcedPerplexity(group, text, config, options)];
        assert.deepEqual(b.windows, a.windows);
        assert.equal(b.tokens, a.tokens);
        if (mode !== "standard") continue;
        // The same windows' logits, decoded alone and on the seats: log-softmax moves by at most
        // 2‖Δz‖∞ when the logits move by Δz, so the mean NLLs differ by at most 2 × the mean
        // max |Δlogit| between the two layouts (as compare.test.ts's perplexity bound), measured over
        // every step's row (each window's prefill row, which runGeneration does not expose, is one
        // more decode of the same two layouts); 1e-12 covers the float64 sums.
        const rowsOf = async (seat: TempoSession, w: (typeof windows)[number]) => {
          const rows: Float32Array[] = [];
          await runGeneration(seat, { promptTokens: w.promptTokens, config: { ...config, maxSteps: w.reference.length }, teacherTokens: w.reference, onDistributions: (_i, m) => rows.push(Float32Array.from(m[0])) });
          return rows;
        };
        const soloRows: Float32Array[] = [];
        for (const w of windows) soloRows.push(...(await rowsOf(solo, w)));
        const seatRows = (await Promise.all(windows.map((w) => group.run((seat) => rowsOf(seat, w))))).flat();
        assert.equal(seatRows.length, soloRows.length);
        const noise = soloRows.reduce((sum, row, k) => sum + row.reduce((m, z, v) => Math.max(m, Math.abs(z - seatRows[k][v])), 0), 0);
        const bound = (2 * noise) / soloRows.length + 1e-12;
        assert.ok(Math.abs(b.meanNll - a.meanNll) <= bound, `|Δ mean NLL| ${Math.abs(b.meanNll - a.meanNll)} > derived bound ${bound}`);
      }
      // A text of one window: a round of one seat lays out its decodes as the session does.
      const config = resolveConfig({ mode: "isolated", threshold: 0.05, maxWidth: LANES });
      const [c, d] = [await teacherForcedPerplexity(solo, PROMPTS[0], config), await teacherForcedPerplexity(group, PROMPTS[0], config)];
      assert.equal(d.meanNll, c.meanNll);
      assert.equal(d.meanSetSize, c.meanSetSize);
    } finally {
      solo.dispose();
      group.dispose();
    }
  });

  it("refuses what a seat cannot do, in one line", async () => {
    assert.throws(() => new SessionGroup(model, maxSeats(LANES) + 1, { lanes: LANES }), (e: unknown) => e instanceof TempoInputError && /prompts per decode must be a whole number from 1 to \d+/.test(e.message));
    assert.throws(() => batchPromptsFor(0, LANES), TempoInputError);
    assert.equal(batchPromptsFor(undefined, 254), 1, "at the widest lanes one prompt's sequences fill llama.cpp's 256");
    const group = new SessionGroup(model, 2, { lanes: LANES, threads: 1 });
    try {
      const config = resolveConfig({ mode: "standard", maxSteps: 2 });
      await assert.rejects(group.run(async (seat) => {
        await runGeneration(seat, { promptTokens: model.promptTokens(PROMPTS[0]), config });
        seat.reset();
      }), /cleared with its round/);
      // Both seats hold cells: cutting one back would leave a hole that llama.cpp refills out of order.
      await assert.rejects(Promise.all([0, 1].map((k) => group.run(async (seat) => {
        seat.decodeSequence(model.promptTokens(PROMPTS[k]));
        await new Promise((r) => setImmediate(r));
        seat.truncate(1);
      }))), /no other seat's cells/);
    } finally {
      group.dispose();
    }
  });
});
