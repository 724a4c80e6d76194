import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import * as esbuild from "esbuild";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { lcg, syntheticLogits } from "../../src/engine/capture/synthetic.js";
import { softmax } from "../../src/engine/tempo/distribution.js";
import { compareLogits } from "../../src/engine/analysis/divergence.js";
import { StepAnalyser, type StepAnalysis, type StepJob } from "../../src/engine/analysis/step-analysis.js";
import { StepAnalysisPool } from "../../src/engine/analysis/step-analysis-pool.js";

const V = 3000;

function jobs(n: number, seed: number): StepJob[] {
  const rnd = lcg(seed);
  return Array.from({ length: n }, (_, i) => {
    const p = syntheticLogits(V, rnd);
    const q = p.map((v) => v + (rnd() - 0.5) * 0.8);
    const nullAlt = p.map((v) => v + (rnd() - 0.5) * 1e-5);
    return i % 2
      ? { step: { index: i, text: `t${i}`, setTokens: [1, 2] }, input: "logits", p, q, nullAlt }
      : { step: { index: i, setTokens: [3] }, input: "probs", p: softmax(p, 1), q: softmax(q, 1), nullAlt: softmax(nullAlt, 1) };
  });
}

async function runPool(all: StepJob[], workers: number, onSubmitted?: (submitted: number, delivered: number) => void): Promise<StepAnalysis[]> {
  const out: StepAnalysis[] = [];
  const pool = new StepAnalysisPool({ nullSide: "p", rows: { kind: "topk", k: 60 }, workers, onResult: (a) => out.push(a) });
  try {
    for (let i = 0; i < all.length; i++) {
      await pool.submit(all[i]);
      onSubmitted?.(i + 1, out.length);
    }
    await pool.finish();
  } finally {
    await pool.close();
  }
  return out;
}

describe("step analysis (per-step divergence work, inline or on worker threads)", () => {
  it("analyses a step as compare() does, with capture rows of P, Q and the null side", () => {
    const [job] = jobs(2, 1).slice(1); // a "logits" job
    const a = new StepAnalyser({ nullSide: "p", rows: { kind: "topk", k: 60 } }).analyse(job);
    const ref = compareLogits(job.p, job.q, { tokens: [1, 2] });
    assert.equal(a.main.js, ref.js);
    assert.equal(a.main.klPQ, ref.klPQ);
    assert.equal(a.main.massP, ref.massP);
    assert.equal(a.main.text, "t1");
    assert.equal(a.null!.js, compareLogits(job.p, job.nullAlt!, { tokens: [1, 2] }).js);
    assert.equal(a.rows!.length, 3);
    const top = a.rows![0] as { ids: Int32Array; logprobs: Float32Array };
    assert.equal(top.ids.length, 60);
    assert.equal(top.ids[0], job.p.indexOf(Math.max(...job.p)));
    // Each mode's most probable next token, with its probability.
    const argmax = (v: ArrayLike<number>) => Array.prototype.indexOf.call(v, Math.max(...Array.from(v)));
    assert.equal(a.next.p.token, argmax(job.p));
    assert.equal(a.next.q.token, argmax(job.q));
    assert.ok(Math.abs(a.next.q.prob - softmax(Float32Array.from(job.q), 1)[a.next.q.token]) < 1e-6);
    assert.ok(top.logprobs.every((v, i) => i === 0 || v <= top.logprobs[i - 1]));
  });

  it("gives worker threads' results identical to inline ones, in submission order", async () => {
    const all = jobs(40, 2);
    const inline = await runPool(all, 0);
    const pooled = await runPool(all, 2);
    assert.deepEqual(pooled.map((a) => a.index), all.map((j) => j.step.index));
    assert.deepEqual(pooled, inline);
  });

  it("keeps at most two steps per worker queued, and as many results waiting (memory stays bounded)", async () => {
    let most = 0;
    await runPool(jobs(30, 3), 2, (submitted, delivered) => { most = Math.max(most, submitted - delivered); });
    assert.ok(most <= 8, `${most} steps in flight`);
    assert.ok(most >= 2, "the pool did queue ahead");
  });

  it("reports a step's bad input as the analysis's error, and the next pool works", async () => {
    const all = jobs(6, 4);
    const bad = Float64Array.from(all[4].p as Float64Array);
    bad[7] = -0.5; // a negative probability
    all[4] = { ...all[4], p: bad };
    await assert.rejects(runPool(all, 2), (e: Error) => e instanceof RangeError && /fromProbs: entry 7 is -0\.5/.test(e.message));
    const again = jobs(6, 5);
    assert.deepEqual(await runPool(again, 2), await runPool(again, 0));
  });

  it("drops the steps of a closed pool: a later pool never sees them", async () => {
    const first = jobs(8, 6);
    const seen: number[] = [];
    const pool = new StepAnalysisPool({ nullSide: "p", workers: 2, onResult: (a) => seen.push(a.index) });
    for (const j of first.slice(0, 4)) await pool.submit(j);
    await pool.close(); // as a cancelled comparison does
    await assert.rejects(pool.submit(first[4]), /the pool is closed/);
    const later = jobs(8, 7);
    const inline = await runPool(later, 0);
    assert.deepEqual(await runPool(later, 2), inline);
    assert.ok(seen.length <= 4);
  });

  it("delivers nothing more once a result was refused (onResult threw)", async () => {
    let delivered = 0;
    const pool = new StepAnalysisPool({ nullSide: "p", workers: 2, onResult: () => { delivered++; throw new Error("refused"); } });
    const failure = (async () => { for (const j of jobs(8, 11)) await pool.submit(j); await pool.finish(); })();
    await assert.rejects(failure, /refused/);
    await new Promise((resolve) => setTimeout(resolve, 300)); // steps still in flight come back meanwhile
    await pool.close();
    assert.equal(delivered, 1);
  });

  it("wakes a submit that waits for room when the pool is closed meanwhile", async () => {
    const all = jobs(12, 10);
    const pool = new StepAnalysisPool({ nullSide: "p", workers: 1, onResult: () => {} });
    const settled = Promise.allSettled(all.map((j) => pool.submit(j))); // more than the queue takes: later ones wait
    await pool.close();
    const outcomes = await settled;
    assert.ok(outcomes.some((o) => o.status === "rejected" && /the pool is closed/.test(String(o.reason))), "a waiting submit was woken and refused");
  });

  it("refuses a worker count that is not a whole number, and vectors of another length", async () => {
    assert.throws(() => new StepAnalysisPool({ nullSide: "p", workers: 1.5, onResult: () => {} }), /whole number/);
    const [a, b] = jobs(2, 8);
    const pool = new StepAnalysisPool({ nullSide: "p", workers: 1, onResult: () => {} });
    try {
      await pool.submit(a);
      await assert.rejects(pool.submit({ ...b, q: b.q.subarray(1) }), /vectors of 3000 and 2999 in one step/);
      await assert.rejects(pool.submit({ ...b, p: b.p.subarray(1), q: b.q.subarray(1), nullAlt: undefined }), /a step over 2999 tokens in a comparison over 3000/);
      await pool.finish();
    } finally {
      await pool.close();
    }
  });

  it("does not keep a process alive once its comparison is done (idle workers wait unreferenced), and sizes pools", async () => {
    const script = fileURLToPath(new URL("../fixtures/pool-then-exit.ts", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", script], { timeout: 60_000 });
    assert.match(stdout, /analysed 12 steps/);
    const n = Math.min(4, availableParallelism());
    assert.match(stdout, new RegExp(`cold: 0 for a short comparison, ${n} for a long one`));
    assert.match(stdout, new RegExp(`warm: ${n} for a short comparison, 0 beside decode threads on every core`));
  });

  it("bundled (as shipped), finds its worker beside the bundle, and says clearly when it is missing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tempo-pool-bundle-"));
    const bundle = (entry: string, outfile: string) => esbuild.build({ entryPoints: [fileURLToPath(new URL(entry, import.meta.url))], bundle: true, platform: "node", format: "esm", outfile: join(dir, outfile), logLevel: "silent" });
    const run = () => promisify(execFile)(process.execPath, [join(dir, "pool.mjs")], { timeout: 60_000 });
    await bundle("../fixtures/pool-then-exit.ts", "pool.mjs");
    await assert.rejects(run(), (e: { stderr: string }) => /the divergence worker \S*step-analysis-worker\.js is missing: rebuild with `npm run build`/.test(e.stderr));
    await bundle("../../src/engine/analysis/step-analysis-worker.ts", "step-analysis-worker.js");
    assert.match((await run()).stdout, /analysed 12 steps/);
  });
});
