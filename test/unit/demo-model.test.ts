/**
 * The shipped demo model (models/tempo-demo-code.gguf): loads through llama.cpp, carries a
 * sane llama/SPM header, and predicts held-out code far better than the unigram baseline
 * recorded by the training run. Coarse properties only: the figures come from training/.
 */
import { strict as assert } from "node:assert";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DEMO_MODEL_PATH } from "../../scripts/demo-model/common.js";
import { TeacherForcedEvaluator } from "../../scripts/demo-model/llama-eval.js";

interface Manifest { packages: Array<{ package: string; heldoutFiles: string[] }> }
interface Results { config: { n_vocab: number; n_ctx: number; n_layer: number }; heldout: { unigram: { ppl: number }; bigram: { ppl: number } } }

const results = JSON.parse(readFileSync("training/results.json", "utf8")) as Results;
const manifest = JSON.parse(readFileSync("training/corpus-manifest.json", "utf8")) as Manifest;

/** ~200 tokens from the middle of a held-out file (never seen in training). */
function heldoutSnippet(pkg: string): string {
  const entry = manifest.packages.find((p) => p.package === pkg);
  assert.ok(entry && entry.heldoutFiles.length > 0, `no held-out file of ${pkg} in the manifest`);
  const text = readFileSync(join("node_modules", pkg, entry.heldoutFiles[0]), "utf8").replace(/\r\n/g, "\n");
  const start = text.indexOf("\n", Math.floor(text.length / 3)) + 1;
  return text.slice(start, start + 800);
}

describe("demo model (models/tempo-demo-code.gguf)", function () {
  this.timeout(60_000);

  it("fits the 10 MB budget and carries a sane llama header", async () => {
    assert.ok(statSync(DEMO_MODEL_PATH).size <= 10 * 1024 * 1024, "the demo model must stay within 10 MB");
    const { readGgufFileInfo } = await import("node-llama-cpp");
    const info = await readGgufFileInfo(DEMO_MODEL_PATH, { readTensorInfo: false });
    const md = info.metadata as unknown as Record<string, Record<string, unknown>>;
    assert.equal(md.general.architecture, "llama");
    const tok = md.tokenizer.ggml as Record<string, unknown>;
    assert.equal(tok.model, "llama");
    const tokens = tok.tokens as string[];
    assert.equal(tokens.length, results.config.n_vocab);
    assert.deepEqual(tokens.slice(0, 4), ["<unk>", "<s>", "</s>", "<0x00>"]);
    assert.equal(tokens[258], "<0xFF>");
    assert.equal(md.llama.context_length, results.config.n_ctx);
    assert.equal(md.llama.block_count, results.config.n_layer);
  });

  it("predicts held-out code (TS declarations, JS) far better than the unigram baseline", async () => {
    const ev = await TeacherForcedEvaluator.open(DEMO_MODEL_PATH);
    try {
      for (const pkg of ["@types/node", "eslint"]) {
        const tokens = ev.tokenizeWithBos(heldoutSnippet(pkg)).slice(0, 150);
        assert.ok(tokens.length > 100);
        const { nll } = await ev.nextTokenNll(tokens);
        const ppl = Math.exp(nll.reduce((s, x) => s + x, 0) / nll.length);
        assert.ok(ppl > 1, `perplexity ${ppl} is implausibly low`);
        assert.ok(ppl < results.heldout.unigram.ppl / 4,
          `held-out ${pkg} perplexity ${ppl.toFixed(1)} is not clearly below the unigram baseline ${results.heldout.unigram.ppl.toFixed(1)}`);
      }
    } finally {
      await ev.close();
    }
  });
});
