// The null baseline's band of per-step Jensen–Shannon divergence: the same mode decoded in two
// batch layouts, i.e. what rounding alone moves. The one declaration of it that the report
// (its share of steps above the band, its shaded chart band) and the comparison view (its
// highlight and bar scale) share.
import { z } from "zod";

export const nullBandSchema = z.object({
  /** Smallest null JS over the steps (nats): the band's floor, as the report shades it. */
  min: z.number().nonnegative(),
  /** The null JS's 99th percentile (R type 7, nats): the band's top. */
  p99: z.number().nonnegative(),
  /** Steps the band was measured on (fewer than the run's while a comparison is replaying). */
  steps: z.number().int().positive(),
}).strict();
export type NullBand = z.infer<typeof nullBandSchema>;

/** The band of a null summary (stats.ts summarize of the null steps' JS); null without one. */
export function nullBandOf(summary: { n: number; min: number; p99: number } | undefined): NullBand | null {
  if (!summary || summary.n < 1 || !Number.isFinite(summary.min) || !Number.isFinite(summary.p99)) return null;
  return { min: summary.min, p99: summary.p99, steps: summary.n };
}

/** Whether a step's JS lies above the band: a difference between the modes that noise does not explain. */
export function aboveNullBand(js: number | null | undefined, band: Pick<NullBand, "p99">): boolean {
  return typeof js === "number" && js > band.p99;
}
