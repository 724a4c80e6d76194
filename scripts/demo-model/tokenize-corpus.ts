/**
 * Tokenizes the corpus with llama.cpp itself (node-llama-cpp, vocab-only load of a GGUF that
 * carries the learned vocabulary), so the ids the model trains on are exactly the ids it
 * sees at inference. Writes, per split, uint16 ids (each document = <s> + its tokens) and
 * a JSON index of document offsets and UTF-8 byte counts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeLlamaGguf } from "../../src/gguf/llama-model.js";
import { CACHE, TOKENS_DIR, VOCAB_GGUF, loadVocabulary, readJsonl } from "./common.js";

/** A 1-layer, 4-wide stand-in: vocab-only loads read the tokenizer, never these weights. */
function writeVocabOnlyGguf(): void {
  const vocab = loadVocabulary();
  const n = vocab.tokens.length;
  const d = 4;
  const z = (k: number) => new Float32Array(k);
  writeLlamaGguf(VOCAB_GGUF, { name: "tempo-demo-code-vocab", nLayer: 1, nEmbd: d, nHead: 1, nHeadKv: 1, nFf: d, nCtxTrain: 256 }, vocab, {
    tokenEmbd: z(d * n), outputNorm: z(d),
    layers: [{ attnNorm: z(d), attnQ: z(d * d), attnK: z(d * d), attnV: z(d * d), attnOutput: z(d * d), ffnNorm: z(d), ffnGate: z(d * d), ffnUp: z(d * d), ffnDown: z(d * d) }],
  });
}

async function main(): Promise<void> {
  writeVocabOnlyGguf();
  const { getLlama } = await import("node-llama-cpp");
  const llama = await getLlama({ build: "never", gpu: false });
  const model = await llama.loadModel({ modelPath: VOCAB_GGUF, vocabOnly: true });
  const bos = model.tokens.bos;
  if (bos === null) throw new Error("vocabulary has no <s>");
  mkdirSync(TOKENS_DIR, { recursive: true });
  for (const split of ["train", "heldout"]) {
    const docs = readJsonl<{ id: string; text: string }>(join(CACHE, "corpus", `${split}.jsonl`));
    const chunks: Uint16Array[] = [];
    const index: Array<{ id: string; offset: number; tokens: number; bytes: number }> = [];
    let offset = 0;
    for (const doc of docs) {
      const ids = model.tokenize(doc.text, false);
      const arr = new Uint16Array(ids.length + 1);
      arr[0] = bos;
      arr.set(ids, 1);
      chunks.push(arr);
      index.push({ id: doc.id, offset, tokens: arr.length, bytes: Buffer.byteLength(doc.text, "utf8") });
      offset += arr.length;
    }
    const all = new Uint16Array(offset);
    let at = 0;
    for (const c of chunks) { all.set(c, at); at += c.length; }
    writeFileSync(join(TOKENS_DIR, `${split}.u16`), all);
    writeFileSync(join(TOKENS_DIR, `${split}.index.json`), JSON.stringify(index));
    const bytes = index.reduce((s, d) => s + d.bytes, 0);
    console.log(`tokens: ${split} ${docs.length} docs, ${offset} tokens, ${bytes} bytes, ${(bytes / (offset - docs.length)).toFixed(2)} bytes/token`);
  }
  await model.dispose();
  await llama.dispose();
}

await main();
