/**
 * The head of a next-token distribution from one row of float32 logits, for greedy steps and
 * beams (tempo/distribution.ts's softmaxHead): the k largest logits, and the sums of the
 * temperature softmax, without writing its 32k-entry row.
 *
 * Both run in WebAssembly (head-kernel.wat): the top-k scan compares four logits at a time with
 * the bar, and the exponentials go two at a time through fastExp's operations, added in index
 * order, so the results have the same bits as topTokens and shiftedExp (checked in
 * test/unit/head-kernel.test.ts). In JavaScript the two passes took ~0.4 ms of a standard step
 * on a 32k vocabulary, most of the engine's distance from the C floor (docs/benchmarks.md).
 */
import { fastExpConstants } from "./fast-exp.js";
import { HEAD_KERNEL_WASM } from "./head-kernel.wasm.js";

/** The most tokens `topLogits` returns (a beam of width w asks for 2w). */
export const MAX_TOP = 512;

/** The sums of softmax(logits / temperature) (tempo/distribution.ts's ExpSums): sum e_i, sum e_i x_i, the max logit and 1 / temperature. */
export interface SoftmaxSums { sum: number; weighted: number; max: number; scale: number }

const PAGE = 65536;
/** Byte offsets in the kernel's memory: fastExp's tables, the top-k buffers, the sums, then the logits row (which may grow the memory). */
const LAYOUT = (() => {
  const { FRACTION_POW, INTEGER_POW } = fastExpConstants();
  const fractionAt = 0, integerAt = fractionAt + FRACTION_POW.byteLength;
  const topIdsAt = integerAt + INTEGER_POW.byteLength, topValsAt = topIdsAt + 4 * MAX_TOP, sumsAt = topValsAt + 4 * MAX_TOP;
  const logitsAt = Math.ceil((sumsAt + 3 * 8) / PAGE) * PAGE;
  return { fractionAt, integerAt, topIdsAt, topValsAt, sumsAt, logitsAt };
})();

interface Kernel {
  memory: WebAssembly.Memory;
  top: (n: number, k: number) => number;
  sums: (n: number, scale: number) => void;
  /** The logits row in `memory`, remade when the memory grows or the vocabulary changes. */
  row: Float32Array;
}

let kernel: Kernel | undefined;

/** Compiled on first use (synchronously: a few KB) and shared: calls never overlap on this thread, and each brings its row. */
function load(): Kernel {
  if (kernel) return kernel;
  const c = fastExpConstants();
  const memory = new WebAssembly.Memory({ initial: LAYOUT.logitsAt / PAGE + 2 });
  new Float64Array(memory.buffer, LAYOUT.fractionAt, c.FRACTION_POW.length).set(c.FRACTION_POW);
  new Float64Array(memory.buffer, LAYOUT.integerAt, c.INTEGER_POW.length).set(c.INTEGER_POW);
  const f64 = (value: number) => new WebAssembly.Global({ value: "f64" }, value);
  const i32 = (value: number) => new WebAssembly.Global({ value: "i32" }, value);
  const imports = {
    fastExp: {
      exp: Math.exp, low: f64(c.LOW), high: f64(c.HIGH), toSteps: f64(c.TO_STEPS), stepHi: f64(c.STEP_HI), stepLo: f64(c.STEP_LO),
      round: f64(c.ROUND), c2: f64(c.C2), c3: f64(c.C3), c4: f64(c.C4), tableBits: i32(c.TABLE_BITS), tableMask: i32(c.TABLE_MASK), powOffset: i32(c.POW_OFFSET),
    },
    layout: { memory, ...Object.fromEntries(Object.entries(LAYOUT).map(([name, at]) => [name, i32(at)])) },
  };
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(HEAD_KERNEL_WASM, "base64")), imports);
  kernel = { memory, top: exports.top as Kernel["top"], sums: exports.sums as Kernel["sums"], row: new Float32Array(0) };
  return kernel;
}

/** The kernel with `logits` copied into its row (its memory grown when a larger vocabulary comes). */
function loaded(logits: Float32Array): Kernel {
  const k = load();
  const needed = LAYOUT.logitsAt + logits.byteLength;
  if (needed > k.memory.buffer.byteLength) k.memory.grow(Math.ceil((needed - k.memory.buffer.byteLength) / PAGE));
  if (k.row.length !== logits.length || k.row.buffer !== k.memory.buffer) k.row = new Float32Array(k.memory.buffer, LAYOUT.logitsAt, logits.length);
  k.row.set(logits);
  return k;
}

/** topTokens(logits, count) for a float32 row: the `count` largest (capped by the row's length), descending, ties to the lower index, NaN never. */
export function topLogits(logits: Float32Array, count: number): number[] {
  const k = Math.min(count, logits.length);
  if (!Number.isInteger(k) || k < 1 || k > MAX_TOP) throw new RangeError(`topLogits: asks for ${count} of ${logits.length} entries; 1 to ${MAX_TOP}`);
  const kern = loaded(logits);
  const filled = kern.top(logits.length, k);
  return Array.from(new Int32Array(kern.memory.buffer, LAYOUT.topIdsAt, filled));
}

/** The sums of softmax(logits / temperature), with the bits of tempo/distribution.ts's shiftedExp. */
export function softmaxSums(logits: Float32Array, temperature: number): SoftmaxSums {
  const scale = 1 / temperature;
  const kern = loaded(logits);
  kern.sums(logits.length, scale);
  const [sum, weighted, max] = new Float64Array(kern.memory.buffer, LAYOUT.sumsAt, 3);
  return { sum, weighted, max, scale };
}
