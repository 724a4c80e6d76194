/**
 * Automatic decode threads on a busy machine (issue 15: a busy machine should cost at most 1.5x
 * speed): standard-mode tokens/s alone and beside one process that keeps a core busy (as a
 * build or VS Code's renderer does), with automatic threads and with every math core fixed,
 * the three interleaved over the rounds. Rate = generated tokens / wall time of the whole run
 * after the prompt, so stalls count (a median interval would hide them).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { TempoModel } from "../src/engine/model.js";
import { TempoSession } from "../src/engine/session.js";
import { resolveConfig } from "../src/engine/tempo/config.js";
import { runGeneration } from "../src/engine/tempo/generate.js";
import type { BenchOptions, BenchRow } from "./engine.bench.js";

/** Long enough for the busy process to be running (and measured) before the run starts. */
const SETTLE_MS = 500;

async function busyCore(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
  await sleep(SETTLE_MS);
  return child;
}

export async function benchThreads(o: BenchOptions): Promise<BenchRow[]> {
  const model = await TempoModel.open(o.modelPath, { gpu: o.gpu });
  const auto = new TempoSession(model, { contextSize: 2048, lanes: 8 });
  const fixed = new TempoSession(model, { contextSize: 2048, lanes: 8, threads: model.runtime.threads });
  const promptTokens = model.promptTokens("function add(a, b) { return a + b; } // the value of");
  const config = resolveConfig({ mode: "standard", maxSteps: o.steps });
  const rate = async (session: TempoSession) => {
    const stamps: number[] = [];
    const used = new Set<number>();
    await runGeneration(session, { promptTokens, config }, () => { stamps.push(performance.now()); used.add(session.threads); });
    return { rate: (stamps.length - 1) / ((stamps.at(-1)! - stamps[0]) / 1000), used };
  };
  const sides = { alone: [] as number[], aloneFixed: [] as number[], busyAuto: [] as number[], busyFixed: [] as number[] };
  const busyThreads = new Set<number>();
  try {
    await rate(auto); await rate(fixed); // warm-up
    for (let r = 0; r < o.repeats; r++) {
      sides.alone.push((await rate(auto)).rate);
      sides.aloneFixed.push((await rate(fixed)).rate);
      const hog = await busyCore();
      try {
        const a = await rate(auto);
        sides.busyAuto.push(a.rate);
        a.used.forEach((t) => busyThreads.add(t));
        sides.busyFixed.push((await rate(fixed)).rate);
      } finally {
        hog.kill();
      }
    }
  } finally {
    auto.dispose();
    fixed.dispose();
    await model.dispose();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const spread = (xs: number[]) => `median of ${xs.length}, min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}`;
  const max = model.runtime.threads;
  // The machine alone at its best, whichever thread choice that was: what a busy machine costs.
  const best = Math.max(median(sides.alone), median(sides.aloneFixed));
  return [
    { name: "standard, alone, automatic threads, tokens/s", value: median(sides.alone), unit: "tok/s", note: spread(sides.alone) },
    { name: "standard, one core busy elsewhere, automatic threads, tokens/s", value: median(sides.busyAuto), unit: "tok/s", note: `${spread(sides.busyAuto)}; threads used ${[...busyThreads].sort().join(", ")}` },
    { name: `standard, one core busy elsewhere, ${max} threads fixed, tokens/s`, value: median(sides.busyFixed), unit: "tok/s", note: spread(sides.busyFixed) },
    { name: `standard, alone, ${max} threads fixed, tokens/s`, value: median(sides.aloneFixed), unit: "tok/s", note: spread(sides.aloneFixed) },
    { name: "slowdown on a busy machine (best alone / busy, automatic)", value: best / median(sides.busyAuto), unit: "x", note: "goal <= 1.5" },
    { name: `slowdown on a busy machine (best alone / busy, ${max} threads fixed)`, value: best / median(sides.busyFixed), unit: "x" },
  ];
}
