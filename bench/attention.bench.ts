/**
 * What attention capture of EVERY layer costs, as ratios (goal <= 1.5x on CPU):
 * - per step: the same forced sets (width 4, isolated) decoded with and without the tap;
 * - what a user waits for: `tempo compare` end to end (generation, the three replays, writing
 *   the capture and report.json/md/html) against the same comparison without, with its phases.
 *
 * Part of `npm run bench`; alone: `npx tsx bench/attention.bench.ts [--model <gguf>] [--steps 30] [--repeats 3] [--threads 1]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { TempoModel } from "../src/engine/model.js";
import { TempoSession } from "../src/engine/session.js";
import { resolveConfig } from "../src/engine/tempo/config.js";
import { runGeneration } from "../src/engine/tempo/generate.js";
import { compareModes } from "../src/engine/analysis/compare-run.js";
import { writeReport } from "../src/engine/analysis/report-write.js";
import type { BenchRow } from "./engine.bench.js";

/** `threads`: decode threads per context (default: the runtime's). One thread keeps the ratio
 * meaningful on a loaded machine, where llama.cpp's threads wait for each other at every op. */
export interface AttentionBenchOptions { modelPath: string; steps: number; repeats: number; gpu?: "auto" | "cpu"; threads?: number }

interface Phases { total: number; generate: number; replay: number; write: number; report: number }

export async function benchAttention(o: AttentionBenchOptions): Promise<BenchRow[]> {
  const model = await TempoModel.open(o.modelPath, { gpu: o.gpu });
  const root = mkdtempSync(join(tmpdir(), "tempo-attn-bench-"));
  const all = Array.from({ length: model.info.nLayer }, (_, l) => l);
  // Sets of up to 4 at a low threshold, so that most steps are sets (what the report draws).
  const config = resolveConfig({ threshold: 0.02, maxWidth: 4, maxSteps: o.steps });
  let n = 0;
  const once = async (attentionLayers: number[] | undefined): Promise<Phases> => {
    const t0 = performance.now();
    const { report, recorder } = await compareModes(model, { prompt: "function add(a, b) { return a + b; } // the value of", config, attentionLayers, threads: o.threads });
    const t1 = performance.now();
    const dir = join(root, String(n++));
    const { timings } = recorder.write(dir);
    const t2 = performance.now();
    await writeReport(dir, report);
    const t3 = performance.now();
    const phases = { total: t3 - t0, generate: timings.generateMs, replay: timings.replayMs, write: t2 - t1, report: t3 - t2 };
    if (process.env.TEMPO_BENCH_VERBOSE) console.error(attentionLayers ? "attention" : "plain", JSON.stringify(phases, (_, v) => (typeof v === "number" ? Math.round(v) : v)));
    return phases;
  };
  try {
    const rows = await perStep(model, all, o);
    await once(undefined); await once(all); // warm-up: vega's first import, page cache
    const plain: Phases[] = [], tapped: Phases[] = [];
    for (let r = 0; r < o.repeats; r++) { plain.push(await once(undefined)); tapped.push(await once(all)); }
    // Best of the repeats: the least disturbed by other load on the machine.
    const best = (xs: Phases[]) => xs.reduce((a, b) => (b.total < a.total ? b : a));
    const [p, t] = [best(plain), best(tapped)];
    const what = `${o.steps}-step compare, ${model.info.nLayer} layers${o.threads ? `, ${o.threads} thread(s)` : ""}`;
    rows.push(
      { name: `compare without attention: total (${what})`, value: p.total, unit: "ms", note: `generate ${p.generate.toFixed(0)}, replays ${p.replay.toFixed(0)}, capture ${p.write.toFixed(0)}, report ${p.report.toFixed(0)}` },
      { name: "compare with attention of every layer: total", value: t.total, unit: "ms", note: `generate ${t.generate.toFixed(0)}, replays ${t.replay.toFixed(0)}, capture ${t.write.toFixed(0)}, report ${t.report.toFixed(0)}` },
      { name: "compare attention overhead (all layers vs none)", value: t.total / p.total, unit: "x", note: `goal <= 1.5; best of ${o.repeats}` },
      { name: "  of which the three replays", value: t.replay / p.replay, unit: "x", note: "capture in each replay's set decodes" },
    );
    return rows;
  } finally {
    rmSync(root, { recursive: true, force: true });
    await model.dispose();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Per-step decode time of the same forced sets with the tap (every layer) and without, interleaved, best of the repeats. */
async function perStep(model: TempoModel, layers: number[], o: AttentionBenchOptions): Promise<BenchRow[]> {
  const promptTokens = model.promptTokens("function add(a, b) { return a + b; } // the value of");
  const sets = Array.from({ length: 64 }, (_, i) => Array.from({ length: 4 }, (__, j) => 300 + ((i * 8 + j) % 20000)));
  const options = { contextSize: 2048, lanes: 8, flashAttention: "off" as const, threads: o.threads };
  const plain = new TempoSession(model, options), tapped = new TempoSession(model, { ...options, attentionLayers: layers });
  try {
    /** Median wall time between consecutive step events: excludes the prompt, resists noise. */
    const stepMs = async (session: TempoSession) => {
      const stamps: number[] = [];
      await runGeneration(session, { promptTokens, config: resolveConfig({ mode: "isolated", maxWidth: 8, maxSteps: sets.length, policy: "top" }), forcedSets: sets }, () => stamps.push(performance.now()));
      return median(stamps.slice(1).map((t, i) => t - stamps[i]));
    };
    await stepMs(plain); await stepMs(tapped);
    let p = Infinity, t = Infinity;
    for (let r = 0; r < o.repeats; r++) { p = Math.min(p, await stepMs(plain)); t = Math.min(t, await stepMs(tapped)); }
    return [
      { name: "isolated M=4, no capture: time per step", value: p, unit: "ms" },
      { name: "attention capture (all layers), isolated M=4: time per step", value: t, unit: "ms" },
      { name: "attention capture overhead vs plain run", value: t / p, unit: "x", note: "same sets, flash attention off in both; goal <= 1.5" },
    ];
  } finally {
    plain.dispose();
    tapped.dispose();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { Command } = await import("commander");
  const { seededModelPath, BENCH_SHAPE } = await import("../test/fixtures/seeded-model.js");
  const o = new Command("attention.bench").option("--model <gguf>").option("--steps <n>", "", "30").option("--repeats <n>", "", "3").option("--gpu <choice>", "", "auto").option("--threads <n>").parse().opts();
  const modelPath = o.model ?? seededModelPath(BENCH_SHAPE);
  const load = loadavg().map((l) => l.toFixed(1)).join(" ");
  const rows = await benchAttention({ modelPath, steps: Number(o.steps), repeats: Number(o.repeats), gpu: o.gpu, threads: o.threads ? Number(o.threads) : undefined });
  console.log(`model: ${modelPath.split("/").pop()}, load average before the run ${load}\n\n| measurement | value | unit | note |\n| --- | ---: | --- | --- |`);
  for (const r of rows) console.log(`| ${r.name} | ${r.unit === "x" ? r.value.toFixed(3) : r.value.toFixed(r.value < 100 ? 2 : 0)} | ${r.unit} | ${r.note ?? ""} |`);
}
