/**
 * The head kernel (src/engine/math/head-kernel.ts) against the JavaScript it replaces: the
 * same tokens as topTokens and the same bits as the softmax row, on rows built to hit each of
 * its paths (ties, NaN, -Infinity, a range wide enough for fastExp's Math.exp fallback, lengths
 * that leave a tail after the groups of four and two, a vocabulary that grows its memory).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_TOP, topLogits } from "../../src/engine/math/head-kernel.js";
import { topTokens } from "../../src/engine/math/top-k.js";
import { DistributionRows, nextDistribution, softmaxHead } from "../../src/engine/tempo/distribution.js";
import { assembleKernel, kernelModule } from "../../scripts/build-kernel.js";
import { rng } from "../fixtures/seeded-model.js";

/** Rows of n logits: a coarse grid (many exact ties), with NaN, -Infinity and far-out entries when asked. */
function row(n: number, seed: number, extras: { nan?: number; minusInf?: number; far?: number } = {}): Float32Array {
  const r = rng(seed);
  const out = Float32Array.from({ length: n }, () => Math.round(r() * 40) / 8);
  const place = (count: number | undefined, value: () => number) => { for (let c = 0; c < (count ?? 0); c++) out[Math.floor(r() * n)] = value(); };
  place(extras.nan, () => NaN);
  place(extras.minusInf, () => -Infinity);
  place(extras.far, () => -800 - r() * 100); // (x - max) < -708: fastExp hands these to Math.exp
  return out;
}

const CASES: { name: string; logits: Float32Array }[] = [
  { name: "32k with ties", logits: row(32000, 1) },
  { name: "odd length (tails after the groups)", logits: row(32003, 2) },
  { name: "NaN entries", logits: row(4099, 3, { nan: 17 }) },
  { name: "-Infinity entries", logits: row(4097, 4, { minusInf: 40 }) },
  { name: "far below the max", logits: row(2051, 5, { far: 60 }) },
  { name: "shorter than the head", logits: row(7, 6) },
  { name: "a vocabulary that grows the memory", logits: row(300_001, 7, { minusInf: 3 }) },
];

describe("head kernel", () => {
  it("ships the binary its source assembles to (npm run build:kernel)", async () => {
    const shipped = readFileSync(join("src", "engine", "math", "head-kernel.wasm.ts"), "utf8");
    assert.equal(shipped, kernelModule(await assembleKernel()), "head-kernel.wasm.ts is stale: run npm run build:kernel");
  });

  for (const { name, logits } of CASES) {
    it(`topLogits is topTokens: ${name}`, () => {
      for (const k of [1, 10, 64, MAX_TOP]) assert.deepEqual(topLogits(logits, k), topTokens(logits, k), `k = ${k}`);
    });
    it(`softmaxHead has the softmax row's bits: ${name}`, () => {
      for (const temperature of [1, 0.7, 2]) {
        const rows: DistributionRows = { out: new Float64Array(logits.length), scratch: new Float64Array(logits.length) };
        nextDistribution("top", [logits], [1], temperature, rows);
        const tokens = [...topTokens(logits, 10), 0, logits.length - 1];
        const head = softmaxHead(logits, temperature, tokens);
        assert.deepEqual(head.probs, tokens.map((t) => rows.out[t]), `T = ${temperature}`);
        assert.ok(Object.is(head.entropy, rows.entropy), `T = ${temperature}: entropy ${head.entropy} vs ${rows.entropy}`);
      }
    });
  }

  it("an all-NaN row has no head, and a head longer than the row is the whole row", () => {
    assert.deepEqual(topLogits(new Float32Array([NaN, NaN, NaN]), 2), []);
    assert.deepEqual(topLogits(new Float32Array([1, 3, 2]), 10), [1, 2, 0]);
  });

  it("refuses a head it cannot hold, in one line", () => {
    assert.throws(() => topLogits(new Float32Array(1000), MAX_TOP + 1), /^RangeError: topLogits: asks for 513 of 1000 entries; 1 to 512$/);
    assert.throws(() => topLogits(new Float32Array(10), 0), /1 to 512/);
  });
});
