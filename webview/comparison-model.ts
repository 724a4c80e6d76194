// What the comparison view derives from a comparison, without the DOM: the replay's highlight
// and bar scale (both from the null band the engine reports), where the free runs part, and
// the progress line. The view and the notification show the same text.
import type { ReplayRow, StepEventMessage } from "../src/protocol/engine.js";
import { aboveNullBand, type NullBand } from "../src/protocol/null-band.js";
import { COMPARE_PHASES, COMPARED_MODES, type CompareProgress, type ComparisonData } from "./comparison-protocol.js";

/** A JS value as the view prints it (nats, two significant digits: never broken mid-number). */
export const formatJs = (v: number): string => (v === 0 ? "0" : v.toExponential(1));

/** Rows highlighted: those whose JS lies above the null band (none without a band). */
export function highlightedRows(rows: readonly ReplayRow[], band: NullBand | null): boolean[] {
  return rows.map((r) => band !== null && aboveNullBand(r.js, band));
}

/**
 * Bars measure JS in multiples of `unit` on a log(1 + x) scale whose full width is the run's
 * largest multiple (at least 1): a step at the null band's top draws to the tick. The unit is
 * the band's top (its p99); when the null is exactly 0 at every step, the smallest positive JS.
 */
export interface BarScale {
  unit: number;
  unitIsNullP99: boolean;
  maxMultiple: number;
}

export function barScale(rows: readonly ReplayRow[], band: NullBand | null): BarScale | null {
  if (!band) return null;
  const positive = rows.map((r) => r.js).filter((v): v is number => v !== null && v > 0);
  const unit = band.p99 > 0 ? band.p99 : positive.reduce((a, b) => Math.min(a, b), Infinity);
  if (!Number.isFinite(unit)) return null; // the null is 0 and so is every JS: nothing to draw
  const maxMultiple = positive.reduce((m, v) => Math.max(m, v / unit), 1);
  return { unit, unitIsNullP99: band.p99 > 0, maxMultiple };
}

/** The bar's length in [0, 1] for `js` under `scale`. */
export function barFraction(js: number | null, scale: BarScale): number {
  if (js === null || js <= 0) return 0;
  return Math.min(1, Math.log1p(js / scale.unit) / Math.log1p(scale.maxMultiple));
}

/** A multiple of the unit, short. */
export const formatMultiple = (m: number): string => `×${m >= 100 ? Math.round(m).toLocaleString("en-US") : m.toPrecision(2)}`;

/** The scale stated in words (the view's legend). */
export function scaleText(scale: BarScale | null, band: NullBand | null, final: boolean): string {
  if (!band) return "No null baseline yet: no bars and no highlight.";
  const measured = final ? `over ${band.steps} steps` : `so far (${band.steps} steps)`;
  if (!scale) return `Null band ${formatJs(band.min)}–${formatJs(band.p99)} nats ${measured}; every JS is 0.`;
  const unit = scale.unitIsNullP99
    ? `the null's 99th percentile (${formatJs(scale.unit)} nats ${measured}), marked by the tick`
    : `the smallest JS (${formatJs(scale.unit)} nats; the null is 0 at every step ${measured})`;
  return `Bar: JS in multiples of ${unit}; log scale, full width ${formatMultiple(scale.maxMultiple)}.`;
}

const stepKey = (s: StepEventMessage | undefined): string => (s ? s.candidates.map((c) => c.token).join(",") : "");

/** The first step where the free runs chose differently (a set's members, standard's token, or one ended); null when they never part. */
export function firstParting(runs: ComparisonData["runs"]): number | null {
  const n = Math.max(...COMPARED_MODES.map((m) => runs[m].length));
  for (let i = 0; i < n; i++) {
    if (new Set(COMPARED_MODES.map((m) => stepKey(runs[m][i]))).size > 1) return i;
  }
  return null;
}

const PHASE_TEXT: Record<CompareProgress["phase"], string> = {
  generate: "generating isolated",
  replay: "replaying isolated, visible and null",
  visible: "free visible run",
  standard: "free standard run",
};

const seconds = (s: number): string => (s < 90 ? `${Math.ceil(s)} s` : `${Math.round(s / 60)} min`);

/** The progress line: "replaying isolated, visible and null 23/64 · 2.1 steps/s · ~20 s left (2 of 4)". */
export function progressText(p: CompareProgress): string {
  const steps = `${p.done}/${p.atMost ? "≤" : ""}${p.total}`;
  const rate = p.rate === undefined ? " · measuring rate" : ` · ${p.rate.toPrecision(2)} steps/s`;
  const eta = p.etaS === undefined ? "" : ` · ${p.atMost ? "at most " : "~"}${seconds(p.etaS)} left`;
  return `${PHASE_TEXT[p.phase]} ${steps}${rate}${eta} (phase ${COMPARE_PHASES.indexOf(p.phase) + 1} of ${COMPARE_PHASES.length})`;
}
