/**
 * The family matrix: every test family (llama-BPE, qwen2, qwen3, phi3, gemma2, gemma3) × {F16,
 * Q8_0, Q4_K_M made by llama.cpp's own quantiser} loads through the engine, runs a TEMPO
 * generation and the self-check, decodes byte-level BPE tokens right and respects every
 * end-of-generation token. The self-check rows are printed (and written to
 * .cache/model-families-selfcheck.json) so their figures can be quoted.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildFamilyVocabulary, FAMILIES, FAMILY_QUANTS, familyModelPath, FamilyQuant, FamilySpec, toByteChars, writeFamilyModel,
} from "../fixtures/family-models.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoSession } from "../../src/engine/session.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { runGeneration } from "../../src/engine/tempo/generate.js";
import { runSelfCheck, SelfCheckResult } from "../../src/engine/tempo/selfcheck.js";

/** ggml_type ids (ggml.h) of what each file type stores in its matrices. */
const GGML = { F32: 0, F16: 1, Q8_0: 8, Q4_K: 12, Q6_K: 14 } as const;
const PROMPT = "the value of function";

interface ReportRow { family: string; quant: FamilyQuant; floor: number; noiseFloor: SelfCheckResult["noiseFloor"]; rows: SelfCheckResult["rows"] }
const report: ReportRow[] = [];

const tokenIds = (spec: FamilySpec) => {
  const { tokens } = buildFamilyVocabulary(spec);
  return (text: string) => { const i = tokens.indexOf(text); assert.ok(i >= 0, `no token ${text}`); return i; };
};

describe("model families × quantisations", function () {
  after(() => {
    const lines = report.flatMap((r) => r.rows.map((row) =>
      `${r.family.padEnd(9)} ${r.quant.padEnd(6)} floor ${r.floor.toExponential(2)}  ${row.verdict.padEnd(12)} ${row.maxAbsDiff.toExponential(2)} ${row.expect} ${row.bound.toExponential(2)}  ${row.check}`));
    if (lines.length) console.log(`\n  self-check rows of the family matrix:\n  ${lines.join("\n  ")}`);
    const out = join(dirname(fileURLToPath(import.meta.url)), "..", "..", ".cache", "model-families-selfcheck.json");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(report, null, 1));
  });

  for (const spec of FAMILIES) {
    for (const quant of FAMILY_QUANTS) {
      describe(`${spec.name} ${quant}`, () => {
        let model: TempoModel;
        let session: TempoSession;
        let path: string;
        before(async () => {
          path = await familyModelPath(spec.name, quant);
          model = await TempoModel.open(path);
          session = new TempoSession(model, { contextSize: 256, lanes: 4 });
        });
        after(async () => { session?.dispose(); await model?.dispose(); });

        it("llama.cpp loads it as its architecture, stored as the quantisation asked", async () => {
          assert.match(model.info.description, new RegExp(`^${spec.hp.arch} `));
          assert.equal(model.info.nLayer, spec.hp.nLayer);
          assert.equal(model.info.nHeadKv, spec.hp.nHeadKv);
          // A dynamic import, as everywhere: node-llama-cpp's modules use top-level await, which
          // the CommonJS path mocha may load this file by cannot compile.
          const { readGgufFileInfo } = await import("node-llama-cpp");
          const info = await readGgufFileInfo(path, { readTensorInfo: true });
          const matrixTypes = new Set((info.fullTensorInfo ?? []).filter((t) => t.dimensions.length > 1).map((t) => Number(t.ggmlType)));
          const expected = { F16: [GGML.F16], Q8_0: [GGML.Q8_0], Q4_K_M: [GGML.Q4_K, GGML.Q6_K] }[quant];
          assert.deepEqual([...matrixTypes].sort(), [...expected].sort(), `matrix types of ${quant}`);
        });

        it("self-check: the equality rows pass (all rows reported)", () => {
          const result = runSelfCheck(session, { prompt: model.promptTokens(PROMPT), width: 4 });
          report.push({ family: spec.name, quant, floor: result.noiseFloor.used, noiseFloor: result.noiseFloor, rows: result.rows });
          for (const row of result.rows) {
            if (row.expect === "<=") assert.equal(row.verdict, "pass", `${row.check}: ${row.maxAbsDiff} > ${row.bound}`);
          }
        });

        it("a TEMPO generation runs: sets of distinct cells, one position each", async () => {
          const result = await runGeneration(session, {
            promptTokens: model.promptTokens(PROMPT), config: resolveConfig({ threshold: 0.05, maxWidth: 4, maxSteps: 8 }),
          });
          assert.ok(["max-steps", "eog"].includes(result.stopReason), result.stopReason);
          assert.ok(result.steps.length >= 1);
          for (const s of result.steps) {
            assert.ok(s.candidates.length >= 1 && s.candidates.length <= 4);
            assert.equal(new Set(s.candidates.map((c) => c.cell)).size, s.candidates.length);
          }
          assert.equal(typeof result.text, "string");
        });

        it("every end-of-generation token is EOG to llama.cpp and shows by name, never as empty text", () => {
          const id = tokenIds(spec);
          for (const text of spec.eog) {
            assert.ok(model.isEog(id(text)), `${text} is EOG`);
            assert.deepEqual(model.tokenView(id(text)), { text: "", special: text });
          }
          assert.equal(model.info.addsBos, spec.vocab.addBos);
          assert.ok(!model.isEog(model.promptTokens("the").at(-1)!), "an ordinary token is not EOG");
        });

        if (spec.hp.slidingWindow !== undefined) {
          it("sliding-window model: the context TEMPO creates keeps the full-size SWA cache (swa_full)", () => {
            // TEMPO's cells belong to many sequences; llama.cpp prunes a sliding-window cell only
            // when it belongs to one, so the engine depends on swa_full. session.ts does not set
            // it: it inherits llama_context_default_params(), which this asserts is still true.
            const params = model.runtime.api.llama_context_default_params() as { swa_full: boolean };
            assert.equal(params.swa_full, true);
          });
        }
      });
    }
  }
});

describe("model families: token text", () => {
  for (const spec of FAMILIES) {
    it(`${spec.name}: prompt text round-trips through the tokens, multi-byte characters included`, async () => {
      const model = await TempoModel.open(await familyModelPath(spec.name));
      try {
        const text = "the value of café, naïve über € 日本 résumé";
        const ids = model.promptTokens(text).filter((t) => model.specialName(t) === undefined);
        // SPM with add_space_prefix puts a space before the first word.
        const prefix = spec.vocab.kind === "spm" && spec.vocab.addSpacePrefix ? " " : "";
        assert.equal(model.pathText(ids), prefix + text);
      } finally { await model.dispose(); }
    });
  }

  for (const spec of FAMILIES.filter((f) => f.vocab.kind === "bpe")) {
    it(`${spec.name} (byte-level BPE): Ġ pieces are spaces, split characters are bytes until whole`, async () => {
      const model = await TempoModel.open(await familyModelPath(spec.name));
      try {
        const id = tokenIds(spec);
        assert.equal(model.tokenText(id(toByteChars(" the"))), " the");
        assert.equal(model.tokenText(id(toByteChars(" café"))), " café");
        // " €" = "Ġâ" (space + first byte of €) + two lone continuation bytes.
        const euro = Array.from(model.tokenizer.tokenize(" €") as unknown as number[]);
        assert.deepEqual(euro, [id(toByteChars(" \u20ac").slice(0, 2)), id(toByteChars("\u20ac")[1]), id(toByteChars("\u20ac")[2])]);
        assert.deepEqual(euro.map((t) => model.tokenText(t)), [" <0xE2>", "<0x82>", "<0xAC>"]);
        assert.equal(model.pathText(euro), " €");
        assert.equal(model.pathText(euro.slice(0, 2)), " <0xE2><0x82>", "an incomplete character stays bytes");
        const cjk = Array.from(model.tokenizer.tokenize("日本") as unknown as number[]);
        assert.equal(cjk.length, 6, "no merges: one token per byte");
        assert.equal(model.pathText(cjk), "日本");
      } finally { await model.dispose(); }
    });
  }
});

describe("model families: generation stops at every kind of end token", () => {
  for (const spec of FAMILIES) {
    // The end token that is NOT tokenizer.ggml.eos_token_id: llama.cpp finds it by name.
    const endText = spec.eog.find((t) => t !== spec.vocab.eos)!;
    it(`${spec.name}: stops with 'eog' when ${endText} wins`, async () => {
      const id = tokenIds(spec);
      // Greedy first token X of the plain model, then give the end token twice X's output row.
      const plain = await TempoModel.open(await familyModelPath(spec.name));
      let first: number;
      try {
        const s = new TempoSession(plain, { contextSize: 256, lanes: 4 });
        try {
          first = (await runGeneration(s, { promptTokens: plain.promptTokens(PROMPT), config: resolveConfig({ mode: "standard", maxSteps: 1 }) })).steps[0].candidates[0].token;
        } finally { s.dispose(); }
      } finally { await plain.dispose(); }
      const path = join(mkdtempSync(join(tmpdir(), "tempo-family-eog-")), `${spec.name}.gguf`);
      const tied = !!spec.hp.tiedOutput || spec.hp.arch.startsWith("gemma");
      writeFamilyModel(path, spec, (t, data) => {
        if (t.name !== (tied ? "token_embd.weight" : "output.weight")) return;
        const e = spec.hp.nEmbd;
        const end = id(endText);
        for (let i = 0; i < e; i++) data[end * e + i] = 2 * data[first * e + i];
      });
      const model = await TempoModel.open(path);
      const session = new TempoSession(model, { contextSize: 256, lanes: 4 });
      try {
        for (const mode of ["standard", "isolated"] as const) {
          const r = await runGeneration(session, { promptTokens: model.promptTokens(PROMPT), config: resolveConfig({ mode, maxSteps: 6, threshold: 0.01, maxWidth: 4 }) });
          assert.equal(r.stopReason, "eog", `${mode}: ${endText}`);
          assert.equal(r.steps.length, 0);
        }
      } finally { session.dispose(); await model.dispose(); }
    });
  }
});
