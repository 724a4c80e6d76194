/**
 * Engine speed, compared side by side in one run as ratios (machines are noisy):
 * - `standard` mode against node-llama-cpp's own greedy generation (tokens/s; goal >= 1.0)
 *   and against the C floor, a minimal greedy loop in C over the same libllama with the same
 *   context parameters (bench/c-floor/greedy.c; goal >= 0.97), the three interleaved;
 * - forced set widths M = 1, 2, 4, 8 in visible and isolated modes: time per step relative
 *   to M = 1, and the isolated/visible overhead (goal <= 5%).
 */
import { performance } from "node:perf_hooks";
import { TempoModel } from "../src/engine/model.js";
import { TempoSession } from "../src/engine/session.js";
import { resolveConfig } from "../src/engine/tempo/config.js";
import { runGeneration } from "../src/engine/tempo/generate.js";
import { TempoMode } from "../src/engine/types.js";
import { buildCFloor, runCFloor } from "./c-floor.js";

export interface BenchOptions { modelPath: string; steps: number; repeats: number; gpu?: "auto" | "cpu" }
export interface BenchRow { name: string; value: number; unit: string; note?: string }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchEngine(o: BenchOptions): Promise<BenchRow[]> {
  const model = await TempoModel.open(o.modelPath, { gpu: o.gpu });
  // Fixed threads, the C loop's and node-llama-cpp's: these rows compare per-step work, not the
  // thread choice (automatic threads: bench/threads.bench.ts).
  const session = new TempoSession(model, { contextSize: 2048, lanes: 8, flashAttention: "off", threads: model.runtime.threads });
  const cFloor = buildCFloor(model.runtime.versions.libllamaPath);
  const promptTokens = model.promptTokens("function add(a, b) { return a + b; } // the value of");
  const rows: BenchRow[] = [];
  try {
    // --- standard vs node-llama-cpp, alternating runs after a warm-up of each.
    const nlcModel = await model.runtime.llama.loadModel({ modelPath: o.modelPath, gpuLayers: o.gpu === "cpu" ? 0 : "auto" });
    const nlcContext = await nlcModel.createContext({ contextSize: 2048, flashAttention: false, threads: model.runtime.threads });
    // Both sides: median wall time between consecutive generated tokens (prompt excluded).
    const intervals = (stamps: number[]) => median(stamps.slice(1).map((t, i) => t - stamps[i]));
    const nlcRun = async () => {
      const sequence = nlcContext.getSequence();
      const stamps: number[] = [];
      for await (const _ of sequence.evaluate(promptTokens as never, { temperature: 0 })) { void _; if (stamps.push(performance.now()) === o.steps) break; }
      sequence.dispose();
      return 1000 / intervals(stamps);
    };
    const oursRun = async () => {
      const stamps: number[] = [];
      await runGeneration(session, { promptTokens, config: resolveConfig({ mode: "standard", maxSteps: o.steps }) }, () => stamps.push(performance.now()));
      return 1000 / intervals(stamps);
    };
    // The C loop in its own process: the engine session's context parameters, threads included.
    const cRun = () => runCFloor(cFloor, {
      modelPath: o.modelPath, libllamaPath: model.runtime.versions.libllamaPath, steps: o.steps, threads: session.threads,
      contextSize: session.contextSize, batchSize: session.batchSize, seqMax: session.lanes + 2, flashAttention: session.flashAttention === "on",
      gpuLayers: model.runtime.backend === "CPU" ? 0 : 999, promptTokens,
    });
    await nlcRun(); await oursRun(); cRun();
    const ours: number[] = [], theirs: number[] = [], floor: number[] = [];
    for (let i = 0; i < o.repeats; i++) { theirs.push(await nlcRun()); ours.push(await oursRun()); floor.push(cRun()); }
    await nlcContext.dispose();
    await nlcModel.dispose();
    const spread = (xs: number[]) => `median of ${xs.length}, min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}`;
    rows.push({ name: "standard mode, tokens/s (engine)", value: median(ours), unit: "tok/s", note: spread(ours) });
    rows.push({ name: "node-llama-cpp greedy, tokens/s", value: median(theirs), unit: "tok/s", note: spread(theirs) });
    rows.push({ name: "C greedy loop (floor), tokens/s", value: median(floor), unit: "tok/s", note: spread(floor) });
    rows.push({ name: "ratio engine / node-llama-cpp", value: median(ours) / median(theirs), unit: "x", note: "goal >= 1.0" });
    rows.push({ name: "ratio engine / C floor", value: median(ours) / median(floor), unit: "x", note: "goal >= 0.97" });

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
