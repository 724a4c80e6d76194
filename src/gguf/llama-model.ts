/**
 * Describes a llama-architecture model (hyper-parameters, SPM tokenizer, weights) and turns
 * it into GGUF metadata + tensors for `writeGguf`. Shared by the seeded test models and the
 * trained demo model.
 */
import { GgmlType, GgufTensor, GgufValue, GgufValueType, writeGguf } from "./writer.js";

export interface LlamaHyperParams {
  name: string;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  nCtxTrain: number;
  ropeFreqBase?: number;
  rmsEps?: number;
}

/** SentencePiece-style vocabulary as llama.cpp's "llama" tokenizer reads it. */
export interface SpmVocabulary {
  tokens: string[];
  scores: number[];
  /** llama.cpp token types: 1 normal, 2 unknown, 3 control, 6 byte. */
  types: number[];
  bosId: number;
  eosId: number;
  unkId: number;
  addBos: boolean;
}

/** Weights in ggml order (row-major, ne[0] = input dimension fastest). */
export interface LlamaWeights {
  tokenEmbd: Float32Array; // [nEmbd, nVocab]
  outputNorm: Float32Array; // [nEmbd]
  /** Omit to tie the output projection to tokenEmbd: llama.cpp then reuses token_embd. */
  output?: Float32Array; // [nEmbd, nVocab]
  layers: Array<{
    attnNorm: Float32Array; attnQ: Float32Array; attnK: Float32Array; attnV: Float32Array;
    attnOutput: Float32Array; ffnNorm: Float32Array; ffnGate: Float32Array; ffnUp: Float32Array;
    ffnDown: Float32Array;
  }>;
}

export const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, BYTE: 6 } as const;

export function writeLlamaGguf(
  path: string,
  hp: LlamaHyperParams,
  vocab: SpmVocabulary,
  weights: LlamaWeights,
  matrixType: GgmlType = GgmlType.F32,
  extraMetadata: Record<string, GgufValue> = {},
): void {
  const nVocab = vocab.tokens.length;
  const headDim = hp.nEmbd / hp.nHead;
  if (!Number.isInteger(headDim) || hp.nHead % hp.nHeadKv !== 0) throw new Error("nEmbd must divide by nHead, nHead by nHeadKv");
  const nEmbdKv = headDim * hp.nHeadKv;
  const u32 = (value: number): GgufValue => ({ type: GgufValueType.UINT32, value });
  const f32 = (value: number): GgufValue => ({ type: GgufValueType.FLOAT32, value });
  const metadata: Record<string, GgufValue> = {
    "general.architecture": { type: GgufValueType.STRING, value: "llama" },
    "general.name": { type: GgufValueType.STRING, value: hp.name },
    "general.alignment": u32(32),
    "llama.context_length": u32(hp.nCtxTrain),
    "llama.embedding_length": u32(hp.nEmbd),
    "llama.block_count": u32(hp.nLayer),
    "llama.feed_forward_length": u32(hp.nFf),
    "llama.attention.head_count": u32(hp.nHead),
    "llama.attention.head_count_kv": u32(hp.nHeadKv),
    "llama.rope.dimension_count": u32(headDim),
    "llama.rope.freq_base": f32(hp.ropeFreqBase ?? 10000),
    "llama.attention.layer_norm_rms_epsilon": f32(hp.rmsEps ?? 1e-5),
    "llama.vocab_size": u32(nVocab),
    "tokenizer.ggml.model": { type: GgufValueType.STRING, value: "llama" },
    "tokenizer.ggml.tokens": { type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: vocab.tokens },
    "tokenizer.ggml.scores": { type: GgufValueType.ARRAY, itemType: GgufValueType.FLOAT32, value: vocab.scores },
    "tokenizer.ggml.token_type": { type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: vocab.types },
    "tokenizer.ggml.bos_token_id": u32(vocab.bosId),
    "tokenizer.ggml.eos_token_id": u32(vocab.eosId),
    "tokenizer.ggml.unknown_token_id": u32(vocab.unkId),
    "tokenizer.ggml.add_bos_token": { type: GgufValueType.BOOL, value: vocab.addBos },
    "tokenizer.ggml.add_eos_token": { type: GgufValueType.BOOL, value: false },
    ...extraMetadata,
  };
  const t = (name: string, shape: number[], data: Float32Array, type = matrixType): GgufTensor => ({ name, shape, data, type });
  const vec = (name: string, data: Float32Array): GgufTensor => t(name, [hp.nEmbd], data, GgmlType.F32);
  const tensors: GgufTensor[] = [
    t("token_embd.weight", [hp.nEmbd, nVocab], weights.tokenEmbd),
    vec("output_norm.weight", weights.outputNorm),
  ];
  if (weights.output) tensors.push(t("output.weight", [hp.nEmbd, nVocab], weights.output));
  weights.layers.forEach((l, i) => {
    tensors.push(
      vec(`blk.${i}.attn_norm.weight`, l.attnNorm),
      t(`blk.${i}.attn_q.weight`, [hp.nEmbd, hp.nEmbd], l.attnQ),
      t(`blk.${i}.attn_k.weight`, [hp.nEmbd, nEmbdKv], l.attnK),
      t(`blk.${i}.attn_v.weight`, [hp.nEmbd, nEmbdKv], l.attnV),
      t(`blk.${i}.attn_output.weight`, [hp.nEmbd, hp.nEmbd], l.attnOutput),
      vec(`blk.${i}.ffn_norm.weight`, l.ffnNorm),
      t(`blk.${i}.ffn_gate.weight`, [hp.nEmbd, hp.nFf], l.ffnGate),
      t(`blk.${i}.ffn_up.weight`, [hp.nEmbd, hp.nFf], l.ffnUp),
      t(`blk.${i}.ffn_down.weight`, [hp.nFf, hp.nEmbd], l.ffnDown),
    );
  });
  writeGguf(path, metadata, tensors);
}
