/**
 * What TEMPO cannot run is refused when the model is opened, before any context or decode,
 * in one line: multi-axis-position (M-RoPE), encoder-decoder, encoder-only and embedding
 * models and a recurrent one (mamba), each a generated file the real llama.cpp loads; hybrid
 * models and the other RoPE kinds through the same decision with the C API's answers stubbed.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelParamsValue, Pointer } from "../../src/engine/llama/c-api.js";
import { embeddingOnlyProblem, loadedModelProblem, LoadedModelQueries } from "../../src/engine/llama/model-support.js";
import { loadRuntime } from "../../src/engine/llama/runtime.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoInputError } from "../../src/engine/errors.js";
import { familyModelPath } from "../fixtures/family-models.js";
import { UnsupportedKind, writeUnsupportedModel } from "../fixtures/unsupported-models.js";

interface Case {
  kind: UnsupportedKind;
  /** What the loaded model answers through the C API. */
  api: { hasEncoder: boolean; hasDecoder: boolean; ropeType: number };
  message: RegExp;
}

const CASES: Case[] = [
  { kind: "qwen2vl", api: { hasEncoder: false, hasDecoder: true, ropeType: 8 }, message: /^qwen2vl\.gguf is a multi-axis-position model \(M-RoPE: /u },
  { kind: "t5", api: { hasEncoder: true, hasDecoder: true, ropeType: -1 }, message: /^t5\.gguf is an encoder-decoder model /u },
  // t5encoder is refused from its header (an embedding architecture) before llama.cpp loads
  // it; its C API answer (no decoder) is the second line of defence.
  { kind: "t5encoder", api: { hasEncoder: true, hasDecoder: false, ropeType: -1 }, message: /^t5encoder\.gguf is an embedding model \(architecture t5encoder\): /u },
  { kind: "mamba", api: { hasEncoder: false, hasDecoder: true, ropeType: -1 }, message: /^mamba\.gguf is a recurrent\/hybrid model: /u },
  { kind: "bert", api: { hasEncoder: false, hasDecoder: true, ropeType: 2 }, message: /^bert\.gguf is an embedding model \(bert\.pooling_type mean\): /u },
];

describe("refusals: models TEMPO cannot run, refused on open", () => {
  const dir = mkdtempSync(join(tmpdir(), "tempo-unsupported-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const c of CASES) {
    it(`${c.kind}: llama.cpp loads it; TempoModel.open refuses it in one line`, async () => {
      const path = join(dir, `${c.kind}.gguf`);
      writeUnsupportedModel(path, c.kind);
      const { api } = await loadRuntime();
      const params = api.llama_model_default_params() as ModelParamsValue;
      params.n_gpu_layers = 0;
      const pointer = api.llama_model_load_from_file(path, params) as Pointer | null;
      assert.ok(pointer, `llama.cpp loads the generated ${c.kind} model`);
      try {
        assert.deepEqual({
          hasEncoder: api.llama_model_has_encoder(pointer) as boolean,
          hasDecoder: api.llama_model_has_decoder(pointer) as boolean,
          ropeType: api.llama_model_rope_type(pointer) as number,
        }, c.api);
        assert.equal(api.llama_model_is_recurrent(pointer), c.kind === "mamba");
        assert.equal(api.llama_model_is_hybrid(pointer), false);
      } finally { api.llama_model_free(pointer); }
      await assert.rejects(TempoModel.open(path), (e: Error) => {
        assert.ok(e instanceof TempoInputError, `${e.constructor.name}: ${e.message}`);
        assert.match(e.message, c.message);
        assert.match(e.message, /so TEMPO cannot run it$/u);
        assert.doesNotMatch(e.message, /\n/u, "one line");
        return true;
      });
    });
  }

  it("a supported family (qwen2, NeoX RoPE, decoder only) is not refused", async () => {
    const model = await TempoModel.open(await familyModelPath("qwen2"));
    try {
      const { api } = model.runtime;
      assert.equal(api.llama_model_rope_type(model.pointer), 2);
      assert.equal(api.llama_model_has_encoder(model.pointer), false);
      assert.equal(api.llama_model_has_decoder(model.pointer), true);
    } finally { await model.dispose(); }
  });

  describe("the decision, for the kinds no small file is generated for", () => {
    const decoder: LoadedModelQueries = { isRecurrent: () => false, isHybrid: () => false, hasEncoder: () => false, hasDecoder: () => true, ropeType: () => 0 };
    it("recurrent and hybrid models", () => {
      assert.match(loadedModelProblem({ ...decoder, isRecurrent: () => true })!, /^a recurrent\/hybrid model: /u);
      assert.match(loadedModelProblem({ ...decoder, isHybrid: () => true })!, /^a recurrent\/hybrid model: /u);
    });
    it("every multi-axis RoPE type (M-RoPE 8, vision 24, interleaved M-RoPE 40); none of the single-axis ones", () => {
      assert.match(loadedModelProblem({ ...decoder, ropeType: () => 24 })!, /vision RoPE/u);
      assert.match(loadedModelProblem({ ...decoder, ropeType: () => 40 })!, /interleaved M-RoPE/u);
      for (const t of [-1, 0, 2]) assert.equal(loadedModelProblem({ ...decoder, ropeType: () => t }), undefined, `rope type ${t}`);
    });
    it("embedding models from the header: an embedding architecture without a pooling key, a non-causal decoder", () => {
      const md = (entries: Record<string, string | number | boolean>) => new Map(Object.entries(entries));
      assert.match(embeddingOnlyProblem(md({ "general.architecture": "nomic-bert" }))!, /^an embedding model \(architecture nomic-bert\)/u);
      assert.match(embeddingOnlyProblem(md({ "general.architecture": "llama", "llama.attention.causal": false }))!, /^a non-causal model /u);
      assert.match(embeddingOnlyProblem(md({ "general.architecture": "qwen3", "qwen3.pooling_type": 3 }))!, /pooling_type last/u);
      assert.equal(embeddingOnlyProblem(md({ "general.architecture": "llama", "llama.pooling_type": 0, "llama.attention.causal": true })), undefined);
    });
  });
});
