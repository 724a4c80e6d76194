/**
 * ln(1 + x) for 0 <= x <= 1, inlined into the divergence loop in place of a Math.log call
 * (V8's is out of line, and it was a third of a comparison of two unrelated distributions).
 *
 * 128 intervals of [0, 1]: ln(1 + x) = ln(1 + c) + ln(1 + r) with c the interval's centre and
 * r = (x - c) / (1 + c), |r| <= 1/256, and a degree-7 series for ln(1 + r) (truncation below
 * 3e-20). The error is a few ulp of the result for x >= 1e-3 (the divergence loop calls it
 * for x >= 0.1); below, it stays under 1e-17 absolute, which is a growing relative error.
 */
// Tables and constants in a closure rather than at module level, for the reason in fast-exp.ts.
export const log1pTable: (x: number) => number = /* @__PURE__ */ (() => {
  const STEPS = 128;
  const CENTRE = Float64Array.from({ length: STEPS + 1 }, (_, j) => (j + 0.5) / STEPS); // x = 1 lands in the extra entry
  const INV_ONE_PLUS_CENTRE = Float64Array.from(CENTRE, (c) => 1 / (1 + c));
  const LOG1P_CENTRE = Float64Array.from(CENTRE, (c) => Math.log1p(c));
  // Series coefficients as multiplications (V8 keeps `r / 3` a division).
  const L2 = 1 / 2, L3 = 1 / 3, L4 = 1 / 4, L5 = 1 / 5, L6 = 1 / 6, L7 = 1 / 7;

  /** ln(1 + x) for 0 <= x <= 1 (not checked, for speed: outside it the result is NaN or wrong). */
  return function log1pTable(x: number): number {
    const j = (x * STEPS) | 0;
    const r = (x - CENTRE[j]) * INV_ONE_PLUS_CENTRE[j];
    return LOG1P_CENTRE[j] + (r - r * r * (L2 - r * (L3 - r * (L4 - r * (L5 - r * (L6 - r * L7))))));
  };
})();
