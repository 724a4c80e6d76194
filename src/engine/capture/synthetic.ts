/**
 * A deterministic synthetic run (steps, logits, attention) for tests and benchmarks of the
 * capture writers, so they do not need a model.
 */
import type { GenerationConfig, StepEvent } from "../types.js";
import type { AttentionRecord } from "./attention.js";
import type { CaptureInfo } from "./manifest.js";

export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export const SYNTHETIC_CONFIG: GenerationConfig = {
  mode: "isolated", policy: "top", threshold: 0.1, relativeAlpha: 0, schedule: "constant", thresholdEnd: 0.1,
  maxWidth: 4, maxSteps: 16, minSteps: 0, temperature: 1, stopStrings: [], pruneMass: 0, pruneLookahead: 2, pruneLayers: [],
};

export function syntheticInfo(): CaptureInfo {
  return {
    config: SYNTHETIC_CONFIG,
    model: { fileName: "synthetic.gguf", sha256: "0".repeat(63) + "1", quantization: "F32" },
    versions: { tempo: "0.0.0-test" },
    backend: { name: "none" },
    context: { nCtx: 256, nBatch: 64, nUbatch: 64, lanes: 4, kvUnified: true, flashAttention: false },
    seeds: { sampler: 1 },
    prompt: { text: "Hello <b>&</b> \"world\"", tokens: [1, 15043] },
  };
}

export function syntheticLogits(vocab: number, rnd: () => number): Float32Array {
  const a = new Float32Array(vocab);
  for (let i = 0; i < vocab; i++) a[i] = (rnd() - 0.5) * 12;
  return a;
}

export function syntheticStep(index: number, rnd: () => number): StepEvent {
  const width = 1 + Math.floor(rnd() * 3);
  const candidates = Array.from({ length: width }, (_, r) => {
    const prob = 0.5 / (r + 1);
    return { token: 100 + index * 3 + r, text: ["a", "<b>", "é", "\u{1F600}", "\"q\""][(index + r) % 5], prob, logprob: Math.log(prob), rank: r, cell: 10 + index * 4 + r };
  });
  return {
    index, position: 2 + index, mode: "isolated", policy: "top", threshold: 0.1, candidates,
    top: candidates.map((c) => ({ token: c.token, text: c.text, prob: c.prob })),
    entropy: 1.25 + rnd(), setMass: candidates.reduce((s, c) => s + c.prob, 0),
    timings: { decodeMs: 3.5, selectMs: 0.25 },
  };
}

/** An attention record for a set of `q` members over a prompt of `promptLen` and the set itself. */
export function syntheticAttention(step: number, layer: number, heads: number, q: number, promptLen: number, rnd: () => number, isolated = true): AttentionRecord {
  const k = promptLen + q;
  const keyCells = Int32Array.from({ length: k }, (_, j) => j);
  const keySteps = Int32Array.from({ length: k }, (_, j) => (j < promptLen ? -1 : step));
  const keyPositions = Int32Array.from({ length: k }, (_, j) => (j < promptLen ? j : promptLen));
  const keyTokens = Int32Array.from({ length: k }, (_, j) => 1000 + j);
  const queryCells = Int32Array.from({ length: q }, (_, i) => promptLen + i);
  const weights = new Float32Array(heads * q * k);
  for (let h = 0; h < heads; h++) for (let i = 0; i < q; i++) {
    const row = (h * q + i) * k;
    let s = 0;
    for (let j = 0; j < k; j++) {
      const sibling = j >= promptLen && j !== promptLen + i;
      const w = isolated && sibling ? 0 : rnd() + 0.01;
      weights[row + j] = w;
      s += w;
    }
    for (let j = 0; j < k; j++) weights[row + j] /= s;
  }
  return { step, layer, heads, weights, queryCells, keyCells, keyTokens, keySteps, keyPositions };
}
