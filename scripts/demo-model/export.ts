/**
 * Writes the trained demo model as GGUF through the project's own writer: f16 matrices,
 * f32 norms, output projection tied to the token embedding (no output.weight tensor).
 * Usage: tsx scripts/demo-model/export.ts [--weights DIR] [--out FILE] [--f32]
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { GgmlType, GgufValueType } from "../../src/gguf/writer.js";
import { writeLlamaGguf, type LlamaWeights } from "../../src/gguf/llama-model.js";
import { DEMO_MODEL_PATH, WEIGHTS_DIR, loadVocabulary } from "./common.js";

interface WeightsIndex {
  config: { n_vocab: number; n_embd: number; n_layer: number; n_head: number; n_head_kv: number; n_ff: number; n_ctx: number; rms_eps: number; rope_base: number };
  tensors: Record<string, { shape: number[]; offset: number; count: number }>;
}

export function exportDemoModel(weightsDir: string, outPath: string, matrixType: GgmlType): void {
  const index = JSON.parse(readFileSync(join(weightsDir, "weights.json"), "utf8")) as WeightsIndex;
  const raw = readFileSync(join(weightsDir, "weights.f32"));
  const tensor = (name: string): Float32Array => {
    const t = index.tensors[name];
    if (!t) throw new Error(`weights.json has no tensor ${name}`);
    // copy out: Buffer offsets need not be 4-byte aligned for a Float32Array view
    return new Float32Array(raw.buffer.slice(raw.byteOffset + t.offset, raw.byteOffset + t.offset + t.count * 4));
  };
  const c = index.config;
  const vocab = loadVocabulary();
  if (vocab.tokens.length !== c.n_vocab) throw new Error(`vocabulary has ${vocab.tokens.length} tokens, weights expect ${c.n_vocab}`);
  const weights: LlamaWeights = {
    tokenEmbd: tensor("token_embd.weight"),
    outputNorm: tensor("output_norm.weight"),
    layers: Array.from({ length: c.n_layer }, (_, i) => {
      const b = (n: string) => tensor(`blk.${i}.${n}.weight`);
      return {
        attnNorm: b("attn_norm"), attnQ: b("attn_q"), attnK: b("attn_k"), attnV: b("attn_v"), attnOutput: b("attn_output"),
        ffnNorm: b("ffn_norm"), ffnGate: b("ffn_gate"), ffnUp: b("ffn_up"), ffnDown: b("ffn_down"),
      };
    }),
  };
  writeLlamaGguf(outPath, {
    name: "tempo-demo-code", nLayer: c.n_layer, nEmbd: c.n_embd, nHead: c.n_head, nHeadKv: c.n_head_kv,
    nFf: c.n_ff, nCtxTrain: c.n_ctx, ropeFreqBase: c.rope_base, rmsEps: c.rms_eps,
  }, vocab, weights, matrixType, {
    "general.description": { type: GgufValueType.STRING, value: "TEMPO Playground demo code model: trained on MIT/Apache-2.0 TypeScript and JavaScript from npm packages (see docs/demo-model.md)" },
  });
}

function main(): void {
  const { values } = parseArgs({ options: { weights: { type: "string", default: WEIGHTS_DIR }, out: { type: "string", default: DEMO_MODEL_PATH }, f32: { type: "boolean", default: false } } });
  exportDemoModel(values.weights, values.out, values.f32 ? GgmlType.F32 : GgmlType.F16);
  console.log(`export: wrote ${values.out} (${statSync(values.out).size} bytes)`);
}

main();
