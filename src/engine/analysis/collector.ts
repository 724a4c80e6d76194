/**
 * DivergenceCollector: gathers a comparison's per-step metrics (made by a StepAnalyser, inline
 * or in worker threads) and turns them into a DivergenceReport at the end. It keeps only the
 * metrics, not the distributions, so a long replay costs no memory per step.
 *
 *   const c = new DivergenceCollector({ p: { mode: "isolated" }, q: { mode: "visible" },
 *     nullBaseline: { mode: "isolated", layouts: ["set alone", "set + unrelated row"] } });
 *   const pool = new StepAnalysisPool({ ...c.analysisOptions, workers, onResult: (a) => c.add(a) });
 *   ... pool.submit({ step: { index, text, setTokens }, input: "probs", p, q, nullAlt }) per step ...
 *   const report = c.build({ model: { fileName, sha256 } });
 */
import type { TempoMode } from "../types.js";
import { TOP_KS } from "./divergence.js";
import { buildDivergenceReport, type DivergenceReport, type SetAttentionSummary, type StepMetrics } from "./report-model.js";
import type { StepAnalysis, StepAnalysisOptions } from "./step-analysis.js";
import type { BootstrapOptions } from "./stats.js";

export interface CollectorOptions {
  p: { mode: TempoMode; label?: string };
  q: { mode: TempoMode; label?: string };
  /** The null baseline's mode must be P's or Q's: `nullAlt` is compared with that side. */
  nullBaseline: { mode: TempoMode; layouts: [string, string] };
  ks?: readonly number[];
  /** Softmax temperature for raw logits (the run's policy). Default 1. */
  temperature?: number;
}

export class DivergenceCollector {
  private readonly steps: StepMetrics[] = [];
  private readonly nullSteps: StepMetrics[] = [];
  /** What every step's analysis needs to know (for a StepAnalysisPool). */
  readonly analysisOptions: StepAnalysisOptions;

  constructor(private readonly o: CollectorOptions) {
    let nullSide: "p" | "q";
    if (o.nullBaseline.mode === o.p.mode) nullSide = "p";
    else if (o.nullBaseline.mode === o.q.mode) nullSide = "q";
    else throw new RangeError(`collector: null-baseline mode ${o.nullBaseline.mode} is neither P's (${o.p.mode}) nor Q's (${o.q.mode})`);
    this.analysisOptions = { ks: o.ks, nullSide, temperature: o.temperature };
  }

  /** Record one analysed step (steps in order; each with its null-baseline comparison). */
  add(a: StepAnalysis): void {
    if (!a.null) throw new RangeError(`collector: step ${a.index} has no null-baseline comparison`);
    this.steps.push(a.main);
    this.nullSteps.push(a.null);
  }

  get stepCount(): number {
    return this.steps.length;
  }

  build(extra: { model?: { fileName: string; sha256: string }; notes?: string[]; bootstrap?: BootstrapOptions; now?: Date; attention?: SetAttentionSummary[] } = {}): DivergenceReport {
    return buildDivergenceReport({
      p: this.o.p, q: this.o.q, ks: this.o.ks ?? TOP_KS,
      steps: this.steps,
      nullBaseline: { ...this.o.nullBaseline, steps: this.nullSteps },
      ...extra,
    });
  }
}
