/**
 * Analysis and capture speed (issue 4): divergence metrics over 1,000 steps of a 32k
 * vocabulary (goal: well under 1 s in total), and capture writing/reading throughput.
 * Synthetic data, no model needed. Run alone: `npx tsx bench/analysis.bench.ts [--quick]`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { compare, fromLogits, type Distribution } from "../src/engine/analysis/divergence.js";
import { CaptureRecorder, type LogitsCaptureOptions } from "../src/engine/capture/recorder.js";
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
  const rnd = lcg(1);
  const rows: AnalysisBenchRow[] = [];
  // A pool of logit vectors (llama.cpp-like spread) and, per vector, a slightly perturbed twin
  // (what isolated vs visible or two batch layouts look like) and an unrelated one (worst case).
  const pool = Array.from({ length: 16 }, () => syntheticLogits(V, rnd));
  const near = pool.map((a) => a.map((v) => v + (rnd() - 0.5) * 0.2));
  const far = pool.map(() => syntheticLogits(V, rnd));

  const timeMetrics = (other: Float32Array[]) => {
    const t0 = performance.now();
    let acc = 0;
    // As a report loop would run: two recycled distributions, prepared and compared per step.
    let P: Distribution | undefined, Q: Distribution | undefined;
    for (let s = 0; s < steps; s++) {
      P = fromLogits(pool[s % 16], { reuse: P });
      Q = fromLogits(other[s % 16], { reuse: Q });
      acc += compare(P, Q).js;
    }
    if (!(acc >= 0)) throw new Error("bench: bad divergence");
    return performance.now() - t0;
  };
  // Reference on the same machine and moment: one Math.exp per token of both distributions,
  // the least any softmax-based method must do. Shared machines swing; the ratio does less.
  const timeExp = () => {
    const xs = pool.map((a) => Float64Array.from(a));
    const t0 = performance.now();
    let acc = 0;
    for (let s = 0; s < 2 * steps; s++) {
      const x = xs[s % 16];
      for (let i = 0; i < V; i++) acc += Math.exp(x[i]);
    }
    if (!(acc > 0)) throw new Error("bench: bad exp");
    return performance.now() - t0;
  };
  timeMetrics(near); // warm-up (JIT)
  timeExp();
  const nearMs = median(Array.from({ length: repeats }, () => timeMetrics(near)));
  const expMs = median(Array.from({ length: repeats }, () => timeExp()));
  const farMs = median(Array.from({ length: repeats }, () => timeMetrics(far)));
  const label = `${steps} steps x ${Math.round(V / 1000)}k vocab`;
  rows.push({ name: `reference: Math.exp over the same ${2 * steps} x ${Math.round(V / 1000)}k tokens`, value: expMs, unit: "ms", note: "floor for any softmax; the metrics rows divided by this are machine-independent-ish" });
  rows.push({ name: `divergence metrics, ${label}, near-identical pairs`, value: nearMs, unit: "ms", note: "2 log-softmaxes + all metrics per step; goal < 1000" });
  rows.push({ name: `divergence metrics, ${label}, unrelated pairs`, value: farMs, unit: "ms", note: "worst case: every token takes the log path" });

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
  for (const r of rows) console.log(`| ${r.name} | ${r.value.toFixed(2)} | ${r.unit} | ${r.note ?? ""} |`);
}
