/**
 * Paths and vocabulary loading shared by the demo-model pipeline steps
 * (training/run.sh drives them; see docs/demo-model.md).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SpmVocabulary } from "../../src/gguf/llama-model.js";

export const CACHE = ".cache/demo-model";
export const VOCAB_JSON = join(CACHE, "tokenizer", "vocab.json");
export const VOCAB_GGUF = join(CACHE, "tokenizer", "vocab-only.gguf");
export const TOKENS_DIR = join(CACHE, "tokens");
export const WEIGHTS_DIR = join(CACHE, "weights");
export const DEMO_MODEL_PATH = "models/tempo-demo-code.gguf";

interface VocabFile { tokens: string[]; scores: number[]; types: number[]; unkId: number; bosId: number; eosId: number }

export function loadVocabulary(path = VOCAB_JSON): SpmVocabulary {
  const v = JSON.parse(readFileSync(path, "utf8")) as VocabFile;
  if (v.tokens.length !== v.scores.length || v.tokens.length !== v.types.length) throw new Error(`${path}: inconsistent vocabulary arrays`);
  return { tokens: v.tokens, scores: v.scores, types: v.types, bosId: v.bosId, eosId: v.eosId, unkId: v.unkId, addBos: true };
}

export function readJsonl<T>(path: string): T[] {
  return readFileSync(path, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l) as T);
}
