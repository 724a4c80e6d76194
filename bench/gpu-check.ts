/**
 * The GPU checks of the engine, run as one prepared script on a lent GPU machine:
 * the CUDA backend is picked, isolation exactness (selfcheck) holds on the GPU with flash
 * attention off and on, attention capture reads device buffers (sibling attention exactly 0
 * when isolated), and the engine benchmark's ratios. Writes a markdown report to argv[2].
 */
import { writeFileSync } from "node:fs";
import { BENCH_SHAPE, seededModelPath, TINY_GQA_SHAPE, TINY_SHAPE } from "../test/fixtures/seeded-model.js";
import { TempoModel } from "../src/engine/model.js";
import { TempoSession, FlashAttention } from "../src/engine/session.js";
import { runSelfCheck } from "../src/engine/tempo/selfcheck.js";
import { ATTENTION_TARGETS, attentionBreakdown, attentionRecordsFromSet } from "../src/engine/capture/attention.js";
import { benchEngine } from "./engine.bench.js";

const out: string[] = ["# GPU check", ""];
const log = (line: string) => { out.push(line); console.log(line); writeFileSync(process.argv[2] ?? "gpu-check.md", out.join("\n") + "\n"); };

for (const [name, shape] of [["tiny MHA", TINY_SHAPE], ["tiny GQA 8:2", TINY_GQA_SHAPE], ["bench 8x512, 32k vocab, f16", BENCH_SHAPE]] as const) {
  const model = await TempoModel.open(seededModelPath(shape));
  log(`## ${name}: backend ${model.runtime.backend}, llama.cpp ${model.runtime.versions.llamaCpp}, node-llama-cpp ${model.runtime.versions.nodeLlamaCpp}`);
  for (const fa of ["off", "on"] as FlashAttention[]) {
    const session = new TempoSession(model, { contextSize: 1024, lanes: 64, flashAttention: fa });
    for (const width of [8, 32, 64]) {
      const { noiseFloor, rows } = runSelfCheck(session, { prompt: model.promptTokens("function add(a, b) { return"), width });
      log(`\nflash attention ${fa}, width ${width}: noise floor ${noiseFloor.used.toExponential(2)} (measured ${noiseFloor.measured.toExponential(2)}, float32 ${noiseFloor.float32.toExponential(2)})`);
      log("\n| check | max abs dlogit | expect | result |\n| --- | ---: | --- | --- |");
      for (const r of rows) log(`| ${r.check} | ${r.maxAbsDiff.toExponential(3)} | ${r.expect} ${r.bound.toExponential(2)} | ${r.verdict}${r.reason ? ` (${r.reason})` : ""} |`);
    }
    session.dispose();
  }
  const tap = new TempoSession(model, { contextSize: 1024, lanes: 8, attentionLayers: [0, model.info.nLayer - 1] });
  tap.reset();
  tap.decodeSequence(model.promptTokens("the value of"));
  tap.decodeSet([300, 301, 302, 303], "isolated", 0);
  const siblingMass = () => attentionRecordsFromSet(tap.lastSetAttention!, tap.indexTable).flatMap((r) => {
    const b = attentionBreakdown(r, model.info.bos);
    const col = ATTENTION_TARGETS.indexOf("siblings");
    return Array.from({ length: b.length / ATTENTION_TARGETS.length }, (_, i) => b[i * ATTENTION_TARGETS.length + col]);
  });
  const iso = siblingMass();
  tap.reset();
  tap.decodeSequence(model.promptTokens("the value of"));
  tap.decodeSet([300, 301, 302, 303], "visible", 0);
  const vis = siblingMass();
  log(`\nattention capture on ${model.runtime.backend}: isolated max sibling attention ${Math.max(...iso)} (must be 0), ` +
    `visible min sibling attention ${Math.min(...vis).toExponential(3)} (> 0), rows checked ${iso.length}`);
  tap.dispose();
  await model.dispose();
}
log("\n## engine benchmark (GPU)\n\n| measurement | value | unit | note |\n| --- | ---: | --- | --- |");
for (const r of await benchEngine({ modelPath: seededModelPath(BENCH_SHAPE), steps: 64, repeats: 3 })) {
  log(`| ${r.name} | ${r.name === "backend" ? "" : r.value.toFixed(3)} | ${r.unit} | ${r.note ?? ""} |`);
}
