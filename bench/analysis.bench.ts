/**
 * Analysis and capture speed (docs/benchmarks.md): divergence metrics over 1,000 steps of a 32k
 * vocabulary (goal: under 1 s in total, wall clock), and capture writing/reading throughput.
 * Synthetic data, no model needed. Run alone: `npx tsx bench/analysis.bench.ts [--quick]`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { DivergenceCollector } from "../src/engine/analysis/collector.js";
import { compare } from "../src/engine/analysis/divergence.js";
import { fromLogits, type Distribution } from "../src/engine/math/distribution.js";
import { StepAnalysisPool } from "../src/engine/analysis/step-analysis-pool.js";
import type { StepJob } from "../src/engine/analysis/step-analysis.js";
import { fastExp } from "../src/engine/math/fast-exp.js";
import { softmax } from "../src/engine/tempo/distribution.js";
import { CaptureRecorder, DEFAULT_LOGITS_CAPTURE, type LogitsCaptureOptions } from "../src/engine/capture/recorder.js";
import { readCapture } from "../src/engine/capture/reader.js";
import { lcg, syntheticInfo, syntheticLogits, syntheticStep } from "../src/engine/capture/synthetic.js";

export interface AnalysisBenchRow { name: string; value: number; unit: string; note?: string }
export interface AnalysisBenchOptions { steps?: number; vocab?: number; captureSteps?: number; repeats?: number }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function dirSize(dir: string): number {
  return fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
}

export async function benchAnalysis(o: AnalysisBenchOptions = {}): Promise<AnalysisBenchRow[]> {
  const steps = o.steps ?? 1000, V = o.vocab ?? 32000, repeats = o.repeats ?? 3;
  // As many workers as tempo compare starts for a comparison this long where no decode thread
  // takes a core (a GPU host whose sessions decode with fewer threads than it has cores).
  const workers = StepAnalysisPool.workersFor(steps, V, 0);
  const rnd = lcg(1);
  const rows: AnalysisBenchRow[] = [];
  // A pool of logit vectors (llama.cpp-like spread) and, per vector, a slightly perturbed twin
  // (what isolated vs visible or two batch layouts look like) and an unrelated one (worst case).
  const pool = Array.from({ length: 16 }, () => syntheticLogits(V, rnd));
  const near = pool.map((a) => a.map((v) => v + (rnd() - 0.5) * 0.2));
  const far = pool.map(() => syntheticLogits(V, rnd));
  // Between the two: logits moved by up to ±0.4, a mean JS of ~6.6e-3 nats per step, about what
  // isolated vs visible gives on the demo model (`npm run tempo -- compare --prompt
  // "function add(a, b) {" --max-steps 24 --out <dir>`: mean JS 5.9e-3 nats).
  const typical = pool.map((a) => a.map((v) => v + (rnd() - 0.5) * 0.8));

  // What one report step computes: every metric of the report (KL both ways, JS, TV, cosine
  // on log-probabilities, top-1, top-k overlap and Jaccard for k = 1..50, entropies, the
  // mass of the parallel set), on two recycled distributions prepared from raw logits.
  const SET = [3, 141, 5926];
  const timeMetrics = (other: Float32Array[]) => {
    let acc = 0;
    let P: Distribution | undefined, Q: Distribution | undefined;
    for (let s = 0; s < steps; s++) {
      P = fromLogits(pool[s % 16], { reuse: P });
      Q = fromLogits(other[s % 16], { reuse: Q });
      acc += compare(P, Q, { tokens: SET }).js;
    }
    if (!(acc >= 0)) throw new Error("bench: bad divergence");
  };
  // The same per-step work on worker threads (StepAnalysisPool, as many as `tempo compare`
  // starts), the vectors copied to them as the replays' would be.
  const poolRun = async (job: (s: number) => StepJob, onResult: (js: number) => void, opts: { withNull: boolean; workers: number }) => {
    const c = collector();
    // The report rows also cut the capture rows tempo compare records (top-50 of P, Q and the null side).
    const rows = opts.withNull ? DEFAULT_LOGITS_CAPTURE : undefined;
    const pool = new StepAnalysisPool({ ...c.analysisOptions, rows, workers: opts.workers, onResult: (a) => (opts.withNull ? c.add(a) : onResult(a.main.js)) });
    try {
      for (let s = 0; s < steps; s++) await pool.submit(job(s));
      await pool.finish();
    } finally {
      await pool.close();
    }
    if (opts.withNull && c.stepCount !== steps) throw new Error("bench: steps lost");
  };
  const timePooledMetrics = async (other: Float32Array[]) => {
    let acc = 0;
    await poolRun((s) => ({ step: { index: s, setTokens: SET }, input: "logits", p: pool[s % 16], q: other[s % 16] }), (js) => (acc += js), { withNull: false, workers });
    if (!(acc >= 0)) throw new Error("bench: bad divergence");
  };
  // The report with its null baseline, as `tempo compare` builds it: three distributions (P, Q,
  // and P in the other batch layout) and two comparisons per step, from raw logits or from the
  // replay's probabilities (one log per token instead of a softmax).
  const layoutTwin = pool.map((a) => a.map((v) => v + (rnd() - 0.5) * 2e-6));
  const softmaxes = (xs: Float32Array[]) => xs.map((a) => softmax(a, 1));
  const [probsP, probsQ, probsN] = [softmaxes(pool), softmaxes(near), softmaxes(layoutTwin)];
  const collector = () => new DivergenceCollector({ p: { mode: "isolated" }, q: { mode: "visible" }, nullBaseline: { mode: "isolated", layouts: ["a", "b"] } });
  const timeReport = (input: "logits" | "probs", n: number) => () => poolRun((s) => input === "logits"
    ? { step: { index: s, setTokens: SET }, input, p: pool[s % 16], q: near[s % 16], nullAlt: layoutTwin[s % 16] }
    : { step: { index: s, setTokens: SET }, input, p: probsP[s % 16], q: probsQ[s % 16], nullAlt: probsN[s % 16] }, () => {}, { withNull: true, workers: n });
  // Reference on the same machine and moment: one Math.exp per token of both distributions,
  // the least any softmax-based method must do. Shared machines swing; the ratio does less.
  const xs = pool.map((a) => Float64Array.from(a));
  // Two loops, not one taking the exp as a parameter: V8 would not inline a passed function.
  const timeMathExp = () => {
    let acc = 0;
    for (let s = 0; s < 2 * steps; s++) {
      const x = xs[s % 16];
      for (let i = 0; i < V; i++) acc += Math.exp(x[i]);
    }
    if (!(acc > 0)) throw new Error("bench: bad exp");
  };
  const timeFastExp = () => {
    let acc = 0;
    for (let s = 0; s < 2 * steps; s++) {
      const x = xs[s % 16];
      for (let i = 0; i < V; i++) acc += fastExp(x[i]);
    }
    if (!(acc > 0)) throw new Error("bench: bad exp");
  };
  /**
   * Median wall and CPU seconds of `repeats` runs after a warm-up (JIT), and the load meanwhile.
   * CPU time is this process's, worker threads included. `first` is the warm-up run's wall time.
   */
  const measure = async (f: () => void | Promise<void>) => {
    const t00 = performance.now();
    await f();
    const first = (performance.now() - t00) / 1000;
    const runs: { wall: number; cpu: number }[] = [];
    for (let r = 0; r < repeats; r++) {
      const c0 = process.cpuUsage(), t0 = performance.now();
      await f();
      const c = process.cpuUsage(c0);
      runs.push({ wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 });
    }
    return { first, wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)), load: os.loadavg()[0] };
  };
  const label = `${steps} steps x ${Math.round(V / 1000)}k vocab`;
  const tokens = `${2 * steps} x ${Math.round(V / 1000)}k tokens`;
  const expRef = await measure(timeMathExp);
  rows.push({ name: `reference: Math.exp over the same ${tokens}`, value: expRef.wall * 1000, unit: "ms", note: `floor for a softmax with Math.exp; load ${expRef.load.toFixed(1)}` });
  const fastRef = await measure(timeFastExp);
  rows.push({ name: `reference: the inlined exp (fastExp) over the same ${tokens}`, value: fastRef.wall * 1000, unit: "ms", note: `the floor of the one-thread metrics rows (one exp per token); load ${fastRef.load.toFixed(1)}` });
  const GOAL_S = 1;
  const threads = workers > 0 ? `${workers} worker thread${workers > 1 ? "s" : ""}` : "no worker (too short to pay for them)";
  const timed: [string, () => void | Promise<void>, string][] = [
    [`divergence metrics, ${label}, near-identical pairs, one thread`, () => timeMetrics(near), "all report metrics, 2 softmaxes per step"],
    [`divergence metrics, ${label}, typical pairs, one thread`, () => timeMetrics(typical), "JS ~6.6e-3 nats per step, like isolated vs visible on the demo model"],
    [`divergence metrics, ${label}, unrelated pairs, one thread`, () => timeMetrics(far), "worst case: every token takes the log path"],
    [`divergence metrics, ${label}, near-identical pairs, ${threads}`, () => timePooledMetrics(near), "the same work in a StepAnalysisPool, logits copied to the workers"],
    [`divergence metrics, ${label}, typical pairs, ${threads}`, () => timePooledMetrics(typical), "as above"],
    [`divergence metrics, ${label}, unrelated pairs, ${threads}`, () => timePooledMetrics(far), "as above"],
    [`report with null baseline, ${label}, from logits, one thread`, timeReport("logits", 0), "3 softmaxes + 2 comparisons + 3 top-50 capture rows per step"],
    [`report with null baseline, ${label}, from probabilities, one thread`, timeReport("probs", 0), "3 x fromProbs (one log per token) + 2 comparisons + 3 capture rows"],
    [`report with null baseline, ${label}, from logits, ${threads}`, timeReport("logits", workers), "as tempo compare runs it beside a decode that leaves the cores free (StepAnalysisPool.workersFor)"],
    [`report with null baseline, ${label}, from probabilities, ${threads}`, timeReport("probs", workers), "as tempo compare feeds it: the replays' probabilities"],
  ];
  for (const [name, f, what] of timed) {
    const m = await measure(f);
    if (name.endsWith(threads) && !rows.some((r) => r.name.startsWith("first"))) {
      // The pool's workers outlive it; the first one in a process starts them and compiles their loops.
      rows.push({ name: `first run with ${threads} in the process: ${name}`, value: m.first, unit: "s", note: "includes starting the workers (~0.2 s) and V8 compiling their loops; later pools reuse them" });
    }
    const verdict = m.wall < GOAL_S ? "meets" : "MISSES";
    rows.push({ name, value: m.wall, unit: "s", note: `${what}; ${verdict} the ${GOAL_S} s goal (${(m.wall / GOAL_S).toFixed(2)}x); CPU ${m.cpu.toFixed(2)} s; load ${m.load.toFixed(1)}` });
  }

  // Capture writing: full-vocabulary rows are the heavy case; top-k is the default.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tempo-bench-"));
  try {
    const capSteps = o.captureSteps ?? 256;
    const variants: [string, LogitsCaptureOptions][] = [["full F32", { kind: "full", dtype: "F32" }], ["full F16", { kind: "full", dtype: "F16" }], ["top-50", { kind: "topk", k: 50 }]];
    for (const [name, logits] of variants) {
      const rec = new CaptureRecorder(syntheticInfo(), { logits });
      const t0 = performance.now();
      for (let s = 0; s < capSteps; s++) {
        rec.addStep(syntheticStep(s, rnd));
        rec.addLogits(s, pool[s % 16]);
      }
      const addMs = performance.now() - t0;
      const dir = path.join(root, name.replace(/\W+/g, "-"));
      const t1 = performance.now();
      rec.write(dir);
      const writeMs = performance.now() - t1;
      const mb = dirSize(dir) / 1e6;
      const t2 = performance.now();
      readCapture(dir);
      const readMs = performance.now() - t2;
      rows.push({ name: `capture ${name}: record ${capSteps} steps (log-softmax + pack)`, value: addMs / capSteps, unit: "ms/step" });
      rows.push({ name: `capture ${name}: write ${mb.toFixed(1)} MB`, value: mb / (writeMs / 1000), unit: "MB/s", note: "atomic: temp + fsync + rename" });
      rows.push({ name: `capture ${name}: read back + validate`, value: mb / (readMs / 1000), unit: "MB/s" });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes("--quick");
  const rows = await benchAnalysis(quick ? { repeats: 1, captureSteps: 64 } : {});
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);
  console.log("| measurement | value | unit | note |\n| --- | ---: | --- | --- |");
  for (const r of rows) console.log(`| ${r.name} | ${r.value.toFixed(r.unit === "s" || r.unit === "x" ? 3 : 2)} | ${r.unit} | ${r.note ?? ""} |`);
}
