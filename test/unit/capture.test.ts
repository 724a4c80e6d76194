import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CaptureExistsError, CaptureRecorder } from "../../src/engine/capture/recorder.js";
import { assertSameModel, CaptureError, ModelMismatchError, readCapture, streamRow } from "../../src/engine/capture/reader.js";
import { attentionBreakdown, attentionRecordsFromSet, ATTENTION_TARGETS } from "../../src/engine/capture/attention.js";
import { sha256File } from "../../src/engine/hash.js";
import { fromFloat16Bits, SafetensorsError, toFloat16Bits } from "../../src/engine/capture/safetensors.js";
import { fromLogits } from "../../src/engine/math/distribution.js";
import { lcg, syntheticAttention, syntheticInfo, syntheticLogits, syntheticStep } from "../../src/engine/capture/synthetic.js";
import { logProbs } from "../support/distributions.js";
import { captureInfoFor, CapturedSession } from "../../src/engine/capture/run-info.js";

function record(opts: ConstructorParameters<typeof CaptureRecorder>[1], steps = 6, vocab = 300) {
  const rnd = lcg(11);
  const rec = new CaptureRecorder(syntheticInfo(), opts);
  const logits: Float32Array[] = [];
  const events = [];
  for (let i = 0; i < steps; i++) {
    const s = syntheticStep(i, rnd);
    events.push(s);
    rec.addStep(s);
    const l = syntheticLogits(vocab, rnd);
    logits.push(l);
    rec.addLogits(i, l);
  }
  rec.addAttention(syntheticAttention(0, 3, 2, 3, 5, rnd, true));
  rec.addAttention(syntheticAttention(1, 7, 2, 2, 6, rnd, false));
  rec.finish({ stopReason: "max-steps", timings: { totalMs: 12.5 } });
  return { rec, logits, events };
}

describe("capture folder", () => {
  let root: string;
  beforeEach(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), "cap-")); });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("a distribution recorded as logits, log-probabilities or probabilities makes the same row", () => {
    const rnd = lcg(7);
    const z = syntheticLogits(300, rnd);
    const max = Math.max(...z);
    const total = z.reduce((a, v) => a + Math.exp(v - max), 0);
    const probs = Float64Array.from(z, (v) => Math.exp(v - max) / total);
    const rec = new CaptureRecorder(syntheticInfo(), { logits: { kind: "topk", k: 20 } });
    rec.addLogits(0, z, { stream: "logits" });
    rec.addLogits(0, Float64Array.from(probs, Math.log), { stream: "logprobs", input: "logprobs" });
    rec.addLogits(0, probs, { stream: "probs", input: "probs" });
    rec.addStep(syntheticStep(0, rnd));
    const dir = path.join(root, "inputs");
    rec.write(dir);
    const rows = ["logits", "logprobs", "probs"].map((name) => streamRow(readCapture(dir).logits.get(name)!, 0));
    for (const r of rows.slice(1)) {
      assert.deepEqual(r.tokenIds, rows[0].tokenIds);
      // The same float64 log-probability stored as float32 each time: two roundings, each at most
      // half an ulp (2^-24 relative) of the largest |logp|; the float64 paths differ far below that.
      const bound = 2 ** -23 * Math.max(...Array.from(rows[0].logprobs, Math.abs));
      r.logprobs.forEach((v, i) => assert.ok(Math.abs(v - rows[0].logprobs[i]) <= bound, `${v} vs ${rows[0].logprobs[i]} (bound ${bound})`));
    }
  });

  it("round-trips manifest, steps, top-k logits and attention", () => {
    const { rec, logits, events } = record({ logits: { kind: "topk", k: 20 } });
    const dir = path.join(root, "run");
    rec.write(dir);
    assert.deepEqual(fs.readdirSync(dir).sort(), ["attention.safetensors", "logits.safetensors", "manifest.json", "steps.jsonl"]);
    const c = readCapture(dir);
    assert.equal(c.manifest.model.sha256, syntheticInfo().model.sha256);
    assert.equal(c.manifest.stopReason, "max-steps");
    assert.equal(c.manifest.timings.totalMs, 12.5);
    assert.equal(c.manifest.versions.node, process.versions.node);
    assert.deepEqual(c.steps, events);
    const s = c.logits.get("next")!;
    assert.equal(s.kind, "topk");
    for (let i = 0; i < logits.length; i++) {
      const d = fromLogits(logits[i], { topK: 20 });
      const row = streamRow(s, i);
      assert.equal(row.step, i);
      assert.deepEqual(Array.from(row.tokenIds!), Array.from(d.top));
      assert.deepEqual(Array.from(row.logprobs), Array.from(d.top, (t) => Math.fround(d.logProb(t))));
    }
    assert.equal(c.attention.length, 2);
    assert.equal(c.attention[1].layer, 7);
    const b = attentionBreakdown(c.attention[0]);
    const T = ATTENTION_TARGETS.length;
    for (let h = 0; h < 2; h++) for (let i = 0; i < 3; i++) {
      const o = (h * 3 + i) * T;
      assert.equal(b[o + 1], 0, "isolated: sibling attention must be exactly zero");
      assert.ok(Math.abs(b[o] + b[o + 2] + b[o + 4] - 1) < 1e-6);
      assert.equal(b[o + 4], 0, "no bosToken given: BOS is counted with the prompt");
    }
    assert.ok(attentionBreakdown(c.attention[1])[1] > 0);
  });

  it("stores full-vocabulary rows in F32 exactly and in F16 rounded to nearest", () => {
    for (const dtype of ["F32", "F16"] as const) {
      const { rec, logits } = record({ logits: { kind: "full", dtype } }, 3, 500);
      const dir = path.join(root, dtype);
      rec.write(dir);
      const s = readCapture(dir).logits.get("next")!;
      assert.ok(s.kind === "full" && s.vocab === 500 && s.dtype === dtype);
      for (let i = 0; i < 3; i++) {
        const d = fromLogits(logits[i]);
        const want = logProbs(d).map((v) => (dtype === "F32" ? Math.fround(v) : fromFloat16Bits(toFloat16Bits(v))));
        assert.deepEqual(Array.from(streamRow(s, i).logprobs), want);
      }
    }
  });

  it("never overwrites: write() refuses an existing folder, writeNew() picks a fresh name", () => {
    const a = record({}).rec, b = record({}).rec, c = record({}).rec;
    const dir = path.join(root, "taken");
    fs.mkdirSync(dir);
    assert.throws(() => a.write(dir), CaptureExistsError);
    assert.deepEqual(fs.readdirSync(dir), []);
    const now = new Date("2026-01-02T03:04:05.678Z");
    const d1 = b.writeNew(root, "My Prompt: fizz/buzz!", now);
    const d2 = c.writeNew(root, "My Prompt: fizz/buzz!", now);
    assert.equal(path.basename(d1), "20260102-030405Z-my-prompt-fizz-buzz");
    assert.equal(path.basename(d2), "20260102-030405Z-my-prompt-fizz-buzz-2");
    assert.throws(() => b.write(path.join(root, "again")), /already written/);
  });

  it("writes its companions (reports, experiment.json) before the manifest: a folder with one is complete", () => {
    const dir = path.join(root, "with-reports");
    let seen: string[] = [];
    record({}).rec.write(dir, undefined, (d) => {
      seen = fs.readdirSync(d).sort();
      fs.writeFileSync(path.join(d, "report.json"), "{}");
    });
    assert.ok(seen.includes("steps.jsonl") && !seen.includes("manifest.json"), `companions saw ${seen.join(", ")}`);
    assert.ok(fs.existsSync(path.join(dir, "manifest.json")) && fs.existsSync(path.join(dir, "report.json")));
    // A companion that fails (a kill, a full disk) leaves no manifest: the folder reads as unfinished.
    const broken = path.join(root, "broken-reports");
    assert.throws(() => record({}).rec.write(broken, undefined, () => { throw new Error("disk full"); }), /disk full/);
    assert.throws(() => readCapture(broken), /manifest.json: missing: the capture is incomplete/);
  });

  describe("clear errors for corrupt or truncated captures", () => {
    let dir: string;
    beforeEach(() => { dir = path.join(root, "c"); record({}).rec.write(dir); });
    const expectErr = (re: RegExp) => assert.throws(() => readCapture(dir), (e: unknown) => (e instanceof CaptureError || e instanceof SafetensorsError) && re.test((e as Error).message));

    it("missing folder", () => assert.throws(() => readCapture(path.join(root, "nope")), /capture folder not found/));
    it("missing manifest (unfinished write)", () => { fs.rmSync(path.join(dir, "manifest.json")); expectErr(/manifest.json: missing: the capture is incomplete/); });
    it("manifest not JSON", () => { fs.writeFileSync(path.join(dir, "manifest.json"), "{"); expectErr(/manifest.json: not valid JSON/); });
    it("newer schema", () => {
      const f = path.join(dir, "manifest.json");
      fs.writeFileSync(f, JSON.stringify({ ...JSON.parse(fs.readFileSync(f, "utf8")), schemaVersion: 99 }));
      expectErr(/schema version 99 is not supported/);
    });
    it("steps.jsonl cut mid-line", () => {
      const f = path.join(dir, "steps.jsonl");
      const t = fs.readFileSync(f, "utf8");
      fs.writeFileSync(f, t.slice(0, t.length - 20));
      expectErr(/steps.jsonl: line 6: truncated/);
    });
    it("steps.jsonl missing whole lines", () => {
      const f = path.join(dir, "steps.jsonl");
      fs.writeFileSync(f, fs.readFileSync(f, "utf8").split("\n").slice(0, 3).join("\n") + "\n");
      expectErr(/3 steps, the manifest says 6/);
    });
    it("steps.jsonl with a corrupt line", () => {
      const f = path.join(dir, "steps.jsonl");
      const lines = fs.readFileSync(f, "utf8").split("\n");
      lines[1] = "{oops";
      fs.writeFileSync(f, lines.join("\n"));
      expectErr(/line 2: not valid JSON/);
    });
    it("truncated logits file", () => {
      const f = path.join(dir, "logits.safetensors");
      const b = fs.readFileSync(f);
      fs.writeFileSync(f, b.subarray(0, b.length - 100));
      expectErr(/logits.safetensors: .*run past the data/);
    });
    it("missing attention file", () => { fs.rmSync(path.join(dir, "attention.safetensors")); expectErr(/attention.safetensors: missing, but the manifest lists it/); });
  });

  it("refuses bad model identity and mismatched attention sizes", () => {
    assert.throws(() => new CaptureRecorder({ ...syntheticInfo(), model: { fileName: "m.gguf", sha256: "abc" } }), /64 lower-case hex/);
    const rec = new CaptureRecorder(syntheticInfo());
    const a = syntheticAttention(0, 0, 2, 2, 3, lcg(1));
    assert.throws(() => rec.addAttention({ ...a, heads: 3 }), /weights has 20 values, expected heads\*queries\*keys = 3\*2\*5/);
  });

  it("refuses a replay with a different model file (by SHA-256, not name)", () => {
    const dir = path.join(root, "m");
    record({}).rec.write(dir);
    const m = readCapture(dir).manifest;
    assert.doesNotThrow(() => assertSameModel(m, { fileName: "renamed.gguf", sha256: m.model.sha256.toUpperCase() }));
    assert.throws(() => assertSameModel(m, { fileName: "synthetic.gguf", sha256: "f".repeat(64) }), (e: unknown) => e instanceof ModelMismatchError && /capture was made with synthetic.gguf \(SHA-256 0+1\)/.test((e as Error).message));
  });

  it("adapts the engine's set attention ([head][batch row][cell]) through the index table", () => {
    // Prompt BOS(cell 0) + 1 token (cell 1), an earlier set (cell 2), this set (cells 3, 4), cell 5 unused.
    const table = [
      { token: 1, step: -1, position: 0, cell: 0 }, { token: 9, step: -1, position: 1, cell: 1 },
      { token: 7, step: 0, position: 2, cell: 2 }, { token: 5, step: 1, position: 3, cell: 3 }, { token: 6, step: 1, position: 3, cell: 4 },
    ];
    const nKv = 6, nHead = 2;
    // member i, head h: weights over cells 0..5
    const rows = [[0.1, 0.2, 0.3, 0.4, 0, 0], [0.25, 0.25, 0, 0.5, 0, 0], [0.1, 0.1, 0.1, 0.2, 0.4, 0.1], [0, 0, 0, 0.5, 0.5, 0]];
    // ggml's layout: head-major, then batch row.
    const probs = Float32Array.from([rows[0], rows[2], rows[1], rows[3]].flat());
    const [rec] = attentionRecordsFromSet({ step: 1, memberCells: [3, 4], layers: [{ layer: 4, nKv, nTokens: 2, nHead, probs }] }, table);
    assert.deepEqual(Array.from(rec.keySteps), [-1, -1, 0, 1, 1, -1000]);
    const b = attentionBreakdown(rec, 1);
    const T = ATTENTION_TARGETS.length;
    const at = (h: number, i: number) => Array.from(b.subarray((h * 2 + i) * T, (h * 2 + i + 1) * T), (v) => Math.round(v * 1e6) / 1e6);
    // columns: self, siblings, prompt, earlierSets, bos, other
    assert.deepEqual(at(0, 0), [0.4, 0, 0.2, 0.3, 0.1, 0]); // member 0 (cell 3), head 0 = rows[0]
    assert.deepEqual(at(1, 0), [0.5, 0, 0.25, 0, 0.25, 0]); // member 0, head 1 = rows[1]
    assert.deepEqual(at(0, 1), [0.4, 0.2, 0.1, 0.1, 0.1, 0.1]); // member 1 (cell 4), head 0 = rows[2]
    assert.deepEqual(at(1, 1), [0.5, 0.5, 0, 0, 0, 0]);
  });

  it("labels attention records with their stream and mode; captures without streams read as before", () => {
    const rnd = lcg(5);
    const rec = new CaptureRecorder(syntheticInfo());
    rec.addStep(syntheticStep(0, rnd));
    const labelled = [["replay-isolated", "isolated"], ["replay-visible", "visible"], ["null-isolated", "isolated"], ["replay-visible", "visible"]];
    for (const [stream, mode] of labelled) rec.addAttention({ ...syntheticAttention(0, 1, 2, 2, 5, rnd, mode === "isolated"), stream, mode });
    rec.addAttention(syntheticAttention(0, 2, 2, 2, 5, rnd, true)); // one without a stream
    const dir = path.join(root, "streams");
    const m = rec.write(dir);
    assert.deepEqual(m.files.attention?.streams, [{ name: "replay-isolated", mode: "isolated", records: 1 }, { name: "replay-visible", mode: "visible", records: 2 }, { name: "null-isolated", mode: "isolated", records: 1 }]);
    const c = readCapture(dir);
    assert.deepEqual(c.attention.map((a) => a.stream), ["replay-isolated", "replay-visible", "null-isolated", "replay-visible", undefined]);
    assert.deepEqual(c.attention.map((a) => a.mode), ["isolated", "visible", "isolated", "visible", undefined]);
    // The older layout (no record_streams, as record() writes): no stream on any record.
    const old = path.join(root, "old");
    record({}).rec.write(old);
    assert.ok(readCapture(old).attention.every((a) => a.stream === undefined && a.mode === undefined));
    // One stream name cannot hold two modes.
    const bad = new CaptureRecorder(syntheticInfo());
    bad.addStep(syntheticStep(0, rnd));
    bad.addAttention({ ...syntheticAttention(0, 1, 2, 2, 5, rnd, true), stream: "s", mode: "isolated" });
    bad.addAttention({ ...syntheticAttention(0, 1, 2, 2, 5, rnd, false), stream: "s", mode: "visible" });
    assert.throws(() => bad.write(path.join(root, "bad")), /stream s holds records of modes isolated and visible/);
  });

  it("keeps only the members' rows when the batch holds a scratch row (null-baseline layout)", () => {
    // BOS (cell 0), the set (cells 1, 2, batch rows 0 and 1), a scratch row (cell 3, batch row 2).
    const table = [
      { token: 1, step: -1, position: 0, cell: 0, batchRow: 0 }, { token: 5, step: 0, position: 1, cell: 1, batchRow: 0 },
      { token: 6, step: 0, position: 1, cell: 2, batchRow: 1 }, { token: 5, step: -2, position: 0, cell: 3, batchRow: 2 },
    ];
    const nKv = 6, nHead = 1;
    // head 0: rows 0, 1 (members), 2 (scratch: sees only itself); cells 4, 5 never used (padding)
    const probs = Float32Array.from([0.5, 0.5, 0, 0, 0, 0, 0.25, 0.25, 0.5, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    const [rec] = attentionRecordsFromSet({ step: 0, memberCells: [1, 2], layers: [{ layer: 0, nKv, nTokens: 3, nHead, probs }] }, table, { stream: "null-visible", mode: "visible" });
    // The members' rows, without the all-zero tail of unused cells.
    assert.deepEqual(Array.from(rec.weights), [0.5, 0.5, 0, 0, 0.25, 0.25, 0.5, 0]);
    assert.deepEqual(Array.from(rec.keyCells), [0, 1, 2, 3]);
    assert.equal(rec.stream, "null-visible");
    // Weight on an unused cell (a mask that let it through) keeps every cell, to show as "other".
    const leaky = probs.slice(); leaky[5] = 0.1;
    const [kept] = attentionRecordsFromSet({ step: 0, memberCells: [1, 2], layers: [{ layer: 0, nKv, nTokens: 3, nHead, probs: leaky }] }, table);
    assert.equal(kept.keyCells.length, 6);
    assert.ok(Math.abs(attentionBreakdown(kept)[ATTENTION_TARGETS.indexOf("other")] - 0.1) < 1e-7);
    assert.throws(() => attentionRecordsFromSet({ step: 0, memberCells: [1, 2], layers: [{ layer: 0, nKv, nTokens: 3, nHead, probs }] }, table.map((t) => ({ token: t.token, step: t.step, position: t.position, cell: t.cell }))), /member cell 1 has no batch row/);
  });

  it("the manifest states the session's KV cache type, not a default", async () => {
    // Only the fields captureInfoFor reads: a session whose cache is f32 (as the pruning tests use).
    const model = { info: { fileName: "m.gguf", description: "F16" }, sha256: async () => "0".repeat(64), runtime: { versions: {}, backend: "CPU" } };
    const session = { model, contextSize: 64, batchSize: 64, ubatchSize: 64, lanes: 2, kvCacheType: "f32", flashAttention: "off" } as unknown as CapturedSession;
    const info = await captureInfoFor(session, syntheticInfo().config, { tokens: [1] });
    assert.deepEqual([info.context.typeK, info.context.typeV], ["f32", "f32"]);
  });

  it("hashes a file with SHA-256", async () => {
    const f = path.join(root, "abc");
    fs.writeFileSync(f, "abc");
    // FIPS 180-2, appendix B.1: SHA-256("abc")
    assert.equal(await sha256File(f), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
