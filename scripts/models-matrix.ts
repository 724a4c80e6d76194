/**
 * `npm run models:matrix`: builds the family test models (F16 written by the project, Q8_0 and
 * Q4_K_M by llama.cpp's own quantiser), runs on each the self-check, the attention check and
 * the chat-template check the unit tests run (test/fixtures/family-checks.ts), and writes
 * docs/models.md. Every figure in that file comes from this run; none is typed by hand.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FAMILIES, FAMILY_QUANTS, familyModelPath, FamilySpec } from "../test/fixtures/family-models.js";
import { CHECK_THREADS, familyAttentionCheck, familyChatCheck } from "../test/fixtures/family-checks.js";
import { TempoModel } from "../src/engine/model.js";
import { TempoSession } from "../src/engine/session.js";
import { overallVerdict, runSelfCheck, EQUALITY_FACTOR, EFFECT_FACTOR } from "../src/engine/tempo/selfcheck.js";
import { SUGGESTED_MODELS } from "../src/extension/suggested-models.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "docs", "models.md");
const PROMPT = "the value of function";
const WIDTH = 4;

const e = (x: number) => (x === 0 ? "0" : x.toExponential(2));

function describeFamily(spec: FamilySpec): string {
  const hp = spec.hp;
  const bits = [
    `${hp.arch}`, `${spec.vocab.kind === "bpe" ? `byte-level BPE (${spec.vocab.pre})` : "SentencePiece"}`,
    `${hp.nLayer} layers, width ${hp.nEmbd}, ${hp.nHead}:${hp.nHeadKv} heads${hp.headDim ? ` of ${hp.headDim}` : ""}`,
  ];
  if (hp.slidingWindow !== undefined) bits.push(`sliding window ${hp.slidingWindow}${hp.swaPattern ? `, pattern ${hp.swaPattern}` : ""}`);
  if (hp.attnSoftcap !== undefined) bits.push(`soft-capping ${hp.attnSoftcap}/${hp.finalSoftcap}`);
  return bits.join("; ");
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const details: string[] = [];
  let backend = "", versions = "";
  let allPass = true;
  for (const spec of FAMILIES) {
    for (const quant of FAMILY_QUANTS) {
      const model = await TempoModel.open(await familyModelPath(spec.name, quant));
      try {
        backend = model.runtime.backend;
        versions = `node-llama-cpp ${model.runtime.versions.nodeLlamaCpp}, llama.cpp ${model.runtime.versions.llamaCpp}`;
        const session = new TempoSession(model, { contextSize: 256, lanes: WIDTH, threads: CHECK_THREADS });
        let self;
        try { self = runSelfCheck(session, { prompt: model.promptTokens(PROMPT), width: WIDTH }); } finally { session.dispose(); }
        const eq = self.rows.filter((r) => r.expect === "<=");
        const fx = self.rows.filter((r) => r.expect === ">");
        const maxEq = Math.max(...eq.map((r) => r.maxAbsDiff));
        const minFx = Math.min(...fx.map((r) => r.maxAbsDiff));
        const verdict = overallVerdict([self]);
        const att = familyAttentionCheck(model, spec);
        const attPass = att.every((l) => l.pass);
        const sliding = att.filter((l) => l.sliding);
        const attText = `${attPass ? "pass" : "**FAIL**"}: ${att.length}/${spec.hp.nLayer} layers, max row-sum error ${e(Math.max(...att.map((l) => l.maxRowSumError)))}` +
          (sliding.length ? `; sliding layer ${sliding.map((l) => l.layer).join(",")}: ${sliding[0].keysOutsideWindow} keys outside the window, max weight ${e(Math.max(...sliding.map((l) => l.maxOutsideWindow)))}` : "");
        const chat = await familyChatCheck(model, spec);
        const pass = verdict === "pass" && attPass && chat.pass;
        allPass &&= pass;
        rows.push(`| ${spec.name} | ${quant} | ${verdict === "pass" ? "pass" : `**${verdict}**`} | ${e(maxEq)} (bound ${e(EQUALITY_FACTOR * self.noiseFloor.used)}) | ${e(minFx)} (bound ${e(EFFECT_FACTOR * self.noiseFloor.used)}) | ${e(self.noiseFloor.used)} (measured ${e(self.noiseFloor.measured)}, float32 ${e(self.noiseFloor.float32)}) | ${attText} | ${chat.pass ? "pass" : "**FAIL**"} (${chat.wrapper}) |`);
        if (quant === "F16") details.push(`| ${spec.name} | ${describeFamily(spec)} | \`${JSON.stringify(chat.text).slice(1, -1).replaceAll("|", "\\|")}\` |`);
      } finally { await model.dispose(); }
      process.stderr.write(`${spec.name} ${quant} done\n`);
    }
  }
  const flags = existsSync("/proc/cpuinfo") ? (/^flags\s*:(.*)$/mu.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "").split(/\s+/u) : [];
  const isa = flags.includes("avx512f") ? "AVX-512" : flags.includes("avx2") ? "AVX2, no AVX-512" : "ISA unknown";
  const cpu = `${cpus()[0]?.model?.trim() ?? "unknown CPU"} (${isa})`;
  const suggestions = SUGGESTED_MODELS.map((m) => `| ${m.family} | \`${m.uri}\` | ${m.description} |`);
  const doc = `# Models: what is verified, what to expect

<!-- Written by \`npm run models:matrix\` (scripts/models-matrix.ts). Do not edit by hand: run it again. -->

TEMPO's claims (one position per set, exact isolation, attention mapped to tokens) are checked
on random-weight test models of the families researchers use, built by the project
(test/fixtures/family-models.ts) and loaded by the real llama.cpp; Q8_0 and Q4_K_M are made
by llama.cpp's own \`llama_model_quantize\`. Regenerate this file with:

\`\`\`
npm run models:matrix
\`\`\`

This run: ${cpu}, backend ${backend}, ${versions}, ${CHECK_THREADS} decode thread, self-check width ${WIDTH}.
The figures are this machine's: rounding differs between CPUs (AVX2, AVX-512) and backends,
which is why every bound is derived from the noise floor measured in the same run
(docs/tolerances.md). The unit tests assert the same checks
(test/unit/model-families.test.ts, test/unit/model-family-features.test.ts).

## Families × quantisations

| family | quant | self-check | max equality difference | smallest effect | noise floor used | attention check | chat template |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

- **self-check**: \`runSelfCheck\` (what \`tempo selfcheck\` runs) with a set of the model's own top ${WIDTH}
  tokens. *Max equality difference* is the largest |Δlogit| over the equality rows (isolated member =
  separate run, order, causal rows), each bounded by ${EQUALITY_FACTOR} × the floor; *smallest effect* is
  the smallest |Δlogit| over the effect rows (visible differs from isolated, a later token sees every
  member), each to exceed ${EFFECT_FACTOR} × the floor. The floor is the larger of the measured null
  baseline (same prefix + member in two batch layouts) and one float32 ulp of the largest logit.
- **attention check**: every layer's softmax (\`kq_soft_max-<layer>\`) captured in the pass that
  holds an isolated set of 4 after a 17+-token prompt and an earlier set; checked against the
  index table: siblings and unmapped cells exactly 0, each row summing to 1 within n_kv float32
  ulps, every member seeing itself. On sliding-window layers exactly the keys the table places
  ${"`window`"} or more positions before the set have weight 0 (and the full-attention layer gives
  them weight), which a wrong cell-to-token mapping of the sliding-window cache would break.
- **chat template**: the model's own \`tokenizer.chat_template\` renders one user turn through
  node-llama-cpp's resolved wrapper, and every marker is one special token.

## The test families

| family | structure | rendered chat prompt ("hello") |
| --- | --- | --- |
${details.join("\n")}

Two renderings differ from the bare template text: node-llama-cpp's ChatML wrapper (the one it
resolves for these plain ChatML templates) starts with the BOS token, for Qwen \`<|endoftext|>\`,
though Qwen adds no BOS; and llama.cpp gives the special tokens of a model named phi-3/phi3 the
RSTRIP attribute (llama-vocab.cpp), so the newline after \`<|user|>\`, \`<|end|>\` and
\`<|assistant|>\` is absorbed into them.

## What TEMPO refuses

Refused when the model is opened, before any context or decode, in one line
(src/engine/llama/model-support.ts, tested in test/unit/unsupported-models.test.ts on
generated files llama.cpp loads): recurrent and hybrid models (Mamba, RWKV, Jamba, ...),
multi-axis-position models (M-RoPE: Qwen2-VL, Qwen3-VL, ...), encoder-decoder models (T5),
encoder-only and embedding models (BERT, nomic-bert, T5 encoders; any GGUF with a pooling type
or \`attention.causal = false\`).

## Real downloads

**Download Model** (\`TEMPO: Download Model…\`) suggests these (src/extension/suggested-models.ts):

| family | URI | |
| --- | --- | --- |
${suggestions.join("\n")}

They were **not** downloaded when this file was made: the machine that runs the matrix has no
network, so no real checkpoint of these families has been run by the project, and neither the
URIs nor the sizes were checked against the Hub. What to expect: they have the architectures
and quantisations of the rows above, so they should load and run as the test models do
(SmolLM2 uses the \`smollm\` pre-tokenizer, Llama 3.2 \`llama-bpe\`: both byte-level BPE). \`tempo
selfcheck\` judges its rows against the floor it measures on the model it is given, so a weak
model gets "inconclusive" rather than FAIL. What the matrix cannot show: vocabularies of
49k-256k tokens (the per-step work grows with the vocabulary), contexts far longer than the
sliding windows of 8 used here (Gemma 2's window is 4096 positions, Gemma 3's 512 or 1024),
and the real chat templates, which have more branches (system prompts, tools) and may resolve
to other node-llama-cpp wrappers than the fixtures' plain ones. Run
\`tempo selfcheck --model <file> --width 4,32\` on a download before relying on it.
`;
  writeFileSync(OUT, doc);
  process.stderr.write(`wrote ${OUT}\n`);
  if (!allPass) { process.stderr.write("some rows did not pass: see the table\n"); process.exitCode = 1; }
}

await main();
