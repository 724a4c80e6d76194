/**
 * `npm run bench`: every benchmark in one run, printed as a markdown table.
 * Options: --quick (fewer steps), --gpu cpu|auto, --only <names...> (some benchmarks), --model <gguf> (default: the seeded
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
import { benchSuite } from "./suite.bench.js";

/** Every benchmark by name, in the order they run; each returns its rows. */
const BENCHES = {
  engine: (o: Options) => benchEngine({ modelPath: o.modelPath, steps: o.quick ? 16 : 64, repeats: o.quick ? 1 : 3, floorPairs: o.quick ? 2 : 16, gpu: o.gpu }),
  // Automatic threads beside a busy core (issue 15: at most 1.5x slower).
  threads: (o: Options) => benchThreads({ modelPath: o.modelPath, steps: o.quick ? 16 : 64, repeats: o.quick ? 1 : 3, gpu: o.gpu }),
  // Eight prompts one after another vs in one decode (issue 16: at least 2x on a CPU).
  suite: (o: Options) => benchSuite({ modelPath: o.modelPath, steps: o.quick ? 16 : 48, repeats: o.quick ? 1 : 3, gpu: o.gpu }),
  // tempo compare end to end with and without attention of every layer (issue 14: it was 5x).
  attention: (o: Options) => benchAttention({ modelPath: o.modelPath, steps: o.quick ? 16 : 30, repeats: o.quick ? 1 : 3, gpu: o.gpu }),
  analysis: (o: Options) => benchAnalysis(o.quick ? { repeats: 1, captureSteps: 64 } : {}),
  // The completion experiment runs on the demo model (a code model), whatever --model says.
  eval: (o: Options) => benchEval({ tasks: o.quick ? 2 : 6 }),
} satisfies Record<string, (o: Options) => Promise<BenchRow[]>>;
type BenchName = keyof typeof BENCHES;
interface Options { modelPath: string; quick: boolean; gpu: "auto" | "cpu" }

const o = new Command("bench")
  .option("--quick", "fewer steps and repeats")
  .option("--model <gguf>", "model to benchmark")
  .addOption(new Option("--gpu <choice>").choices(["auto", "cpu"]).default("auto"))
  .addOption(new Option("--only <names...>", "run only these benchmarks").choices(Object.keys(BENCHES)))
  .allowExcessArguments(false)
  .parse().opts<{ quick?: boolean; model?: string; gpu: "auto" | "cpu"; only?: BenchName[] }>();

const modelPath = o.model ?? seededModelPath(BENCH_SHAPE);
const loadBefore = loadavg().map((l) => l.toFixed(1)).join(" ");
const rows: BenchRow[] = [];
for (const name of Object.keys(BENCHES) as BenchName[]) {
  if (!o.only || o.only.includes(name)) rows.push(...await BENCHES[name]({ modelPath, quick: o.quick === true, gpu: o.gpu }));
}

const fmt = (r: BenchRow) => (r.unit === "x" || r.unit === "ratio-1" ? r.value.toFixed(3) : r.value.toFixed(2));
console.log(`# TEMPO benchmarks\n\nmodel: ${modelPath.split("/").pop()}  \nmachine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, load average before the run ${loadBefore}  \ncommand: npm run bench${o.quick || o.only ? ` --${o.quick ? " --quick" : ""}${o.only ? ` --only ${o.only.join(" ")}` : ""}` : ""}\n`);
console.log("| measurement | value | unit | note |\n| --- | ---: | --- | --- |");
for (const r of rows) console.log(`| ${r.name} | ${r.unit === "CPU" || r.name === "backend" ? "" : fmt(r)} | ${r.unit} | ${r.note ?? ""} |`);
