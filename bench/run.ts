/**
 * `npm run bench`: every benchmark in one run, printed as a markdown table.
 * Options: --quick (fewer steps), --gpu cpu|auto, --model <gguf> (default: the seeded
 * benchmark model, 8 layers x 512 wide, 32k vocabulary, f16, written on first use).
 */
import { Command, Option } from "commander";
import { cpus, loadavg } from "node:os";
import { seededModelPath, BENCH_SHAPE } from "../test/fixtures/seeded-model.js";
import { benchEngine, BenchRow } from "./engine.bench.js";
import { benchAnalysis } from "./analysis.bench.js";
import { benchEval } from "./eval.bench.js";
import { benchAttention } from "./attention.bench.js";
import { benchThreads } from "./threads.bench.js";

const o = new Command("bench")
  .option("--quick", "fewer steps and repeats")
  .option("--model <gguf>", "model to benchmark")
  .addOption(new Option("--gpu <choice>").choices(["auto", "cpu"]).default("auto"))
  .allowExcessArguments(false)
  .parse().opts();

const modelPath = o.model ?? seededModelPath(BENCH_SHAPE);
const loadBefore = loadavg().map((l) => l.toFixed(1)).join(" ");
const rows: BenchRow[] = [
  ...await benchEngine({ modelPath, steps: o.quick ? 16 : 64, repeats: o.quick ? 1 : 3, gpu: o.gpu }),
  // tempo compare end to end with and without attention of every layer (issue 14: it was 5x).
  // Automatic threads beside a busy core (issue 15: at most 1.5x slower).
  ...await benchThreads({ modelPath, steps: o.quick ? 16 : 64, repeats: o.quick ? 1 : 3, gpu: o.gpu }),
  ...await benchAttention({ modelPath, steps: o.quick ? 16 : 30, repeats: o.quick ? 1 : 3, gpu: o.gpu }),
  ...await benchAnalysis(o.quick ? { repeats: 1, captureSteps: 64 } : {}),
  // The completion experiment runs on the demo model (a code model), whatever --model says.
  ...await benchEval({ tasks: o.quick ? 2 : 6 }),
];

const fmt = (r: BenchRow) => (r.unit === "x" || r.unit === "ratio-1" ? r.value.toFixed(3) : r.value.toFixed(2));
console.log(`# TEMPO benchmarks\n\nmodel: ${modelPath.split("/").pop()}  \nmachine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, load average before the run ${loadBefore}  \ncommand: npm run bench${o.quick ? " -- --quick" : ""}\n`);
console.log("| measurement | value | unit | note |\n| --- | ---: | --- | --- |");
for (const r of rows) console.log(`| ${r.name} | ${r.unit === "CPU" || r.name === "backend" ? "" : fmt(r)} | ${r.unit} | ${r.note ?? ""} |`);
