/**
 * Engine speed, compared side by side in one run as ratios (machines are noisy):
 * - `standard` mode against node-llama-cpp's own greedy generation (tokens/s; goal >= 1.0)
 *   and against the C floor, a minimal greedy loop in C over the same libllama with the same
 *   context (bench/c-floor/greedy.c; goal >= 0.97) at 1 and 2 threads, in interleaved bursts;
 * - forced set widths M = 1, 2, 4, 8 in visible and isolated modes: time per step relative
 *   to M = 1, and the isolated/visible overhead (goal <= 5%).
 */
import { performance } from "node:perf_hooks";
import { TempoModel } from "../src/engine/model.js";
import { TempoSession } from "../src/engine/session.js";
import { resolveConfig } from "../src/engine/tempo/config.js";
import { runGeneration } from "../src/engine/tempo/generate.js";
import { TempoMode } from "../src/engine/types.js";
import { loadCFloor } from "./c-floor.js";

export interface BenchOptions {
  modelPath: string; steps: number; repeats: number; gpu?: "auto" | "cpu";
  /** Engine/C burst pairs per thread count (default 16). */
  floorPairs?: number;
}
export interface BenchRow { name: string; value: number; unit: string; note?: string }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Thread counts of the floor rows: 1 and 2 (the issue's), and every core when there are more. */
function floorThreads(cores: number): number[] {
  return [...new Set([1, Math.min(2, cores), cores])];
}

export async function benchEngine(o: BenchOptions): Promise<BenchRow[]> {
  const model = await TempoModel.open(o.modelPath, { gpu: o.gpu });
  // Fixed threads, the C loop's and node-llama-cpp's: these rows compare per-step work, not the
  // thread choice (automatic threads: bench/threads.bench.ts).
  const session = new TempoSession(model, { contextSize: 2048, lanes: 8, flashAttention: "off", threads: model.runtime.threads });
  const cFloor = loadCFloor(model.runtime.versions.libllamaPath);
  const promptTokens = model.promptTokens("function add(a, b) { return a + b; } // the value of");
  const rows: BenchRow[] = [];
  const spread = (xs: number[]) => `median of ${xs.length}, min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)}`;
  // Every side: median wall time between consecutive generated tokens (prompt excluded), as tokens/s.
  const tokensPerSecond = (stamps: number[]) => 1000 / median(stamps.slice(1).map((t, i) => t - stamps[i]));
  const oursRun = async (s: TempoSession) => {
    const stamps: number[] = [];
    await runGeneration(s, { promptTokens, config: resolveConfig({ mode: "standard", maxSteps: o.steps }) }, () => stamps.push(performance.now()));
    return tokensPerSecond(stamps);
  };
  try {
    // --- standard vs node-llama-cpp, alternating runs after a warm-up of each.
    const nlcModel = await model.runtime.llama.loadModel({ modelPath: o.modelPath, gpuLayers: o.gpu === "cpu" ? 0 : "auto" });
    const nlcContext = await nlcModel.createContext({ contextSize: 2048, flashAttention: false, threads: model.runtime.threads });
    const nlcRun = async () => {
      const sequence = nlcContext.getSequence();
      const stamps: number[] = [];
      for await (const _ of sequence.evaluate(promptTokens as never, { temperature: 0 })) { void _; if (stamps.push(performance.now()) === o.steps) break; }
      sequence.dispose();
      return tokensPerSecond(stamps);
    };
    await nlcRun(); await oursRun(session);
    const ours: number[] = [], theirs: number[] = [];
    for (let i = 0; i < o.repeats; i++) { theirs.push(await nlcRun()); ours.push(await oursRun(session)); }
    await nlcContext.dispose();
    await nlcModel.dispose();
    rows.push({ name: `standard mode, tokens/s (engine, ${session.threads} threads)`, value: median(ours), unit: "tok/s", note: spread(ours) });
    rows.push({ name: "node-llama-cpp greedy, tokens/s", value: median(theirs), unit: "tok/s", note: spread(theirs) });
    rows.push({ name: "ratio engine / node-llama-cpp", value: median(ours) / median(theirs), unit: "x", note: "goal >= 1.0" });

    // --- standard vs the C floor at each thread count: the C loop on the engine session's own
    // context, in bursts that alternate with the engine's (ABBA), so that a change in the
    // machine's speed during the run moves both sides of each pair alike. Each pair gives a
    // ratio; the row is their median.
    for (const threads of floorThreads(model.runtime.threads)) {
      const s = new TempoSession(model, { contextSize: 2048, lanes: 8, flashAttention: "off", threads });
      try {
        const cRun = () => tokensPerSecond(cFloor(s.contextPointer, promptTokens, o.steps));
        await oursRun(s); cRun();
        const engine: number[] = [], floor: number[] = [], ratios: number[] = [];
        for (let i = 0; i < (o.floorPairs ?? 16); i++) {
          let e: number, c: number;
          if (i % 2 === 0) { e = await oursRun(s); c = cRun(); } else { c = cRun(); e = await oursRun(s); }
          engine.push(e); floor.push(c); ratios.push(e / c);
        }
        rows.push({ name: `${threads} thread(s): standard mode, tokens/s (engine)`, value: median(engine), unit: "tok/s", note: spread(engine) });
        rows.push({ name: `${threads} thread(s): C greedy loop (floor), tokens/s`, value: median(floor), unit: "tok/s", note: spread(floor) });
        rows.push({ name: `${threads} thread(s): ratio engine / C floor`, value: median(ratios), unit: "x", note: `goal >= 0.97; ${spread(ratios)} over ${ratios.length} pairs` });
      } finally {
        s.dispose();
      }
    }

    // --- forced widths: the same sets (ids chosen once) in both modes, per-step time.
    const widths = [1, 2, 4, 8];
    const setsFor = (m: number) => Array.from({ length: o.steps }, (_, i) => Array.from({ length: m }, (__, j) => 300 + ((i * 8 + j) % 20000)));
    /** Median wall time between consecutive step events: excludes the prompt, resists noise. */
    const stepMs = async (mode: TempoMode, m: number) => {
      const stamps: number[] = [];
      await runGeneration(session, {
        promptTokens, config: resolveConfig({ mode, maxWidth: 8, maxSteps: o.steps, policy: "top" }), forcedSets: setsFor(m),
      }, () => stamps.push(performance.now()));
      return median(stamps.slice(1).map((t, i) => t - stamps[i]));
    };
    const table = new Map<string, number>();
    for (const mode of ["visible", "isolated"] as const) await stepMs(mode, 8); // warm-up
    for (let r = 0; r < o.repeats; r++) {
      for (const m of widths) for (const mode of ["visible", "isolated"] as const) {
        const key = `${mode}:${m}`;
        const ms = await stepMs(mode, m);
        table.set(key, Math.min(table.get(key) ?? Infinity, ms)); // best of repeats: least disturbed by other load
      }
    }
    for (const mode of ["visible", "isolated"] as const) {
      for (const m of widths) {
        rows.push({ name: `${mode} M=${m}: time per step`, value: table.get(`${mode}:${m}`)!, unit: "ms" });
        rows.push({ name: `${mode} M=${m}: relative to M=1`, value: table.get(`${mode}:${m}`)! / table.get(`${mode}:1`)!, unit: "x" });
      }
    }
    for (const m of widths) {
      rows.push({ name: `isolated/visible overhead at M=${m}`, value: table.get(`isolated:${m}`)! / table.get(`visible:${m}`)! - 1, unit: "ratio-1", note: "goal <= 0.05" });
    }
    // Attention capture's cost (per step and in tempo compare): bench/attention.bench.ts.
    rows.push({ name: "backend", value: 0, unit: model.runtime.backend });
  } finally {
    session.dispose();
    await model.dispose();
  }
  return rows;
}
