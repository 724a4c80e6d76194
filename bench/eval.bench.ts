/**
 * Cost of the completion experiment, and pass@k samples from TEMPO paths vs repeated
 * standard sampling at matched compute: for each task, seeded temperature sampling runs until
 * it has spent as many forward passes as the TEMPO run did; both sample sets are executed.
 * Standalone: `npx tsx bench/eval.bench.ts [--tasks n] [--model gguf]`.
 */
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { Command } from "commander";
import { TempoModel } from "../src/engine/model.js";
import { TempoSession } from "../src/engine/session.js";
import { defaultModelPath } from "../src/engine/default-model.js";
import type { TempoMode } from "../src/engine/types.js";
import { passAtK } from "../src/engine/analysis/stats.js";
import { programSource, truncateCompletion } from "../src/engine/eval/completion.js";
import { runEval, type ItemResult } from "../src/engine/eval/runner.js";
import { sampleCompletions } from "../src/engine/eval/sampling.js";
import { executeProgram, mapLimit } from "../src/engine/eval/sandbox.js";
import { loadTasks } from "../src/engine/eval/tasks.js";

export interface EvalBenchRow { name: string; value: number; unit: string; note?: string }

export interface EvalBenchOptions {
  modelPath?: string;
  tasks?: number;
  maxSteps?: number;
  pathCap?: number;
  threshold?: number;
  maxWidth?: number;
  /** Temperature of the sampling baseline. */
  temperature?: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function benchEval(o: EvalBenchOptions = {}): Promise<EvalBenchRow[]> {
  const taskCount = o.tasks ?? 6, maxSteps = o.maxSteps ?? 64, pathCap = o.pathCap ?? 16, maxWidth = o.maxWidth ?? 4;
  const temperature = o.temperature ?? 0.8;
  const model = await TempoModel.open(o.modelPath ?? defaultModelPath());
  const session = new TempoSession(model, { lanes: maxWidth });
  const tasks = loadTasks().slice(0, taskCount);
  const rows: EvalBenchRow[] = [];
  const arms: TempoMode[] = ["standard", "isolated", "visible", "causal"];
  const run = await runEval({ session, tasks, settings: { arms, maxSteps, pathCap, maxWidth, threshold: o.threshold } });
  const byArm = (arm: TempoMode) => run.items.filter((i) => i.arm === arm);
  const note = `${tasks.length} built-in tasks, max steps ${maxSteps}, width ${maxWidth}, path cap ${pathCap}`;
  for (const arm of arms) {
    const items = byArm(arm);
    rows.push({ name: `eval ${arm}: forward passes per task`, value: mean(items.map((i) => i.forwardPasses)), unit: "passes", note });
    rows.push({ name: `eval ${arm}: generation wall time per task`, value: mean(items.map((i) => i.generateMs)), unit: "ms" });
    rows.push({ name: `eval ${arm}: test execution time per task`, value: mean(items.map((i) => i.executeMs)), unit: "ms", note: "sandboxed processes, summed" });
  }

  // TEMPO paths vs seeded sampling with the same forward passes, task by task.
  const tempo = byArm("isolated");
  let samplePasses = 0, sampleMs = 0, sampleCount = 0;
  const perTask: { tempo: ItemResult; samples: { n: number; c: number } }[] = [];
  for (const [t, task] of tasks.entries()) {
    const budget = tempo[t].forwardPasses;
    const texts: string[] = [];
    const passes0 = session.decodeCount;
    const t0 = performance.now();
    for (let seed = 1; session.decodeCount - passes0 < budget; seed++) {
      const { samples: [s] } = await sampleCompletions(session, model.promptTokens(task.prompt), { temperature, topP: 1, maxSteps, seed, maxSamples: 1, rowBudget: Infinity, done: (text) => truncateCompletion(task, text).closed });
      texts.push(s.text);
    }
    sampleMs += performance.now() - t0;
    samplePasses += session.decodeCount - passes0;
    sampleCount += texts.length;
    const statuses = await mapLimit(texts, 2, (text) => executeProgram(programSource(task, truncateCompletion(task, text)), task.entryPoint, task.language));
    perTask.push({ tempo: tempo[t], samples: { n: texts.length, c: statuses.filter((s) => s.status === "pass").length } });
  }
  const tempoSamples = tempo.reduce((a, i) => a + i.paths.n, 0);
  const tempoSeconds = tempo.reduce((a, i) => a + i.generateMs, 0) / 1000;
  rows.push({ name: "pass@k samples: TEMPO isolated paths per second", value: tempoSamples / tempoSeconds, unit: "samples/s", note: `${tempoSamples} paths, ${mean(tempo.map((i) => i.forwardPasses)).toFixed(1)} passes per task` });
  rows.push({ name: "pass@k samples: seeded standard sampling per second, matched passes", value: sampleCount / (sampleMs / 1000), unit: "samples/s", note: `${sampleCount} samples, ${(samplePasses / tasks.length).toFixed(1)} passes per task, temperature ${temperature}` });
  rows.push({ name: "pass@k samples per forward pass: TEMPO isolated / sampling", value: (tempoSamples / tempo.reduce((a, i) => a + i.forwardPasses, 0)) / (sampleCount / samplePasses), unit: "x" });
  const k = 1;
  rows.push({ name: `pass@${k} over TEMPO paths (mean over tasks)`, value: mean(perTask.map((p) => passAtK(p.tempo.paths.n, p.tempo.paths.passed, k))), unit: "ratio" });
  rows.push({ name: `pass@${k} over matched-compute samples (mean over tasks)`, value: mean(perTask.map((p) => (p.samples.n >= k ? passAtK(p.samples.n, p.samples.c, k) : 0))), unit: "ratio", note: "0 where a task got no sample" });
  await model.dispose();
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const o = new Command("eval.bench").option("--tasks <n>", "tasks", Number, 6).option("--model <gguf>", "model (default: the demo model)").allowExcessArguments(false).parse().opts();
  const rows = await benchEval({ tasks: o.tasks, modelPath: o.model });
  console.log("| measurement | value | unit | note |\n| --- | ---: | --- | --- |");
  for (const r of rows) console.log(`| ${r.name} | ${r.value.toFixed(3)} | ${r.unit} | ${r.note ?? ""} |`);
}
