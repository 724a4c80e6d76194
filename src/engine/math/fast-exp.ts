/**
 * exp(x) for the softmax hot loops: the engine's next-token distributions (one exp per token
 * per set member, every step) and the divergence metrics. V8's Math.exp is an out-of-line
 * call; this one inlines into the loop (~40% less time per 32k row).
 *
 * Table of 2^(j/256) with Cody–Waite reduction (fdlibm's split of ln 2) and a degree-4
 * polynomial on |r| <= ln2/512, whose truncation error (r^5/120 < 4e-17) is below rounding:
 * max relative error ~4e-16 against Math.exp (checked in the tests). Integer shifts instead
 * of Math.floor and multiplications instead of divisions by constants keep it cheap: V8 does
 * not turn `r / 24` into a multiplication, and a division costs as much as the whole rest.
 */
/** The method's constants and tables, declared once: fastExp below and the head kernel (head-kernel.ts) both use them. */
export function fastExpConstants() {
  const TABLE_BITS = 8;
  const TABLE_N = 1 << TABLE_BITS;
  const LN2_HI = 6.93147180369123816490e-1; // fdlibm ln2_hi: low 32 bits zero, n * LN2_HI / 256 exact
  const LN2_LO = 1.90821492927058770002e-10;
  /** 2^k for k in [-POW_OFFSET, POW_OFFSET). */
  const POW_OFFSET = 1100;
  return {
    TABLE_BITS, TABLE_N, TABLE_MASK: TABLE_N - 1, POW_OFFSET,
    FRACTION_POW: Float64Array.from({ length: TABLE_N }, (_, j) => 2 ** (j / TABLE_N)),
    INTEGER_POW: Float64Array.from({ length: 2 * POW_OFFSET }, (_, k) => 2 ** (k - POW_OFFSET)),
    TO_STEPS: TABLE_N / Math.LN2,
    STEP_HI: LN2_HI / TABLE_N, STEP_LO: LN2_LO / TABLE_N,
    ROUND: 6755399441055744.0, // 1.5 * 2^52: adding and subtracting rounds to an integer
    C2: 1 / 2, C3: 1 / 6, C4: 1 / 24,
    /** Outside (LOW, HIGH) (subnormal results, overflow, NaN) fastExp is Math.exp. */
    LOW: -708, HIGH: 709,
  };
}

// The tables and constants live in this closure, not at module level: esbuild turns a bundled
// ES module's top-level consts into module-scope vars, which V8 reads in a hot loop at up to
// twice the cost (a loop of fastExp in an ESM bundle: 388 vs 221 ms). The engine host ships
// as such a bundle.
export const fastExp: (x: number) => number = /* @__PURE__ */ (() => {
  const { TABLE_BITS, TABLE_MASK, POW_OFFSET, FRACTION_POW, INTEGER_POW, TO_STEPS, STEP_HI, STEP_LO, ROUND, C2, C3, C4, LOW, HIGH } = fastExpConstants();

  /** exp(x), within a few ulp of Math.exp; outside (LOW, HIGH) it is Math.exp. */
  return function fastExp(x: number): number {
    if (!(x > LOW && x < HIGH)) return Math.exp(x);
    const n = x * TO_STEPS + ROUND - ROUND; // nearest integer to x / (ln2 / 256), |n| < 2^18
    const r = x - n * STEP_HI - n * STEP_LO;
    const steps = n | 0;
    const r2 = r * r; // Estrin's scheme: a shorter dependency chain than Horner's
    const poly = 1 + r + r2 * (C2 + r * C3 + r2 * C4);
    // Arithmetic shift floors negative step counts too; the mask is the matching remainder.
    return INTEGER_POW[(steps >> TABLE_BITS) + POW_OFFSET] * (FRACTION_POW[steps & TABLE_MASK] * poly);
  };
})();
