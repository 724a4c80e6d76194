/**
 * DivergenceCollector: gathers a comparison's per-step metrics (made by a StepAnalyser, inline
 * or in worker threads) and turns them into a DivergenceReport at the end. It keeps only the
 * metrics, not the distributions, so a long replay costs no memory per step.
 *
 *   const c = new DivergenceCollector({ p: { mode: "isolated" }, q: { mode: "visible" },
 *     nullBaseline: { mode: "isolated", layouts: ["set alone", "set + unrelated row"] } });
 *   c.addStep({ index, text, setTokens }, { p: isoLogits, q: visLogits, nullAlt: isoOtherLayout });
 *   const report = c.build({ model: { fileName, sha256 } });
 *
 * With a StepAnalysisPool, pass `c.analysisOptions` to the pool and `c.add` as its onResult.
 */
import type { TempoMode } from "../types.js";
import { TOP_KS } from "./divergence.js";
import { buildDivergenceReport, type DivergenceReport, type SetAttentionSummary, type StepMetrics } from "./report-model.js";
import { StepAnalyser, type StepAnalysis, type StepAnalysisOptions, type StepInfo } from "./step-analysis.js";
import type { BootstrapOptions } from "./stats.js";

export type { StepInfo };

export interface CollectorOptions {
  p: { mode: TempoMode; label?: string };
  q: { mode: TempoMode; label?: string };
  /** The null baseline's mode must be P's or Q's: `nullAlt` is compared with that side. */
  nullBaseline: { mode: TempoMode; layouts: [string, string] };
  ks?: readonly number[];
  /** Softmax temperature applied to every vector (the run's policy). Default 1. */
  temperature?: number;
}

export interface StepLogits {
  p: Float32Array | Float64Array;
  q: Float32Array | Float64Array;
  /** Logits of the null-baseline mode decoded in the other batch layout. */
  nullAlt: Float32Array | Float64Array;
}

export class DivergenceCollector {
  private readonly steps: StepMetrics[] = [];
  private readonly nullSteps: StepMetrics[] = [];
  /** What every step's analysis needs to know (for a StepAnalysisPool). */
  readonly analysisOptions: StepAnalysisOptions;
  private inline?: StepAnalyser;

  constructor(private readonly o: CollectorOptions) {
    let nullSide: "p" | "q";
    if (o.nullBaseline.mode === o.p.mode) nullSide = "p";
    else if (o.nullBaseline.mode === o.q.mode) nullSide = "q";
    else throw new RangeError(`collector: null-baseline mode ${o.nullBaseline.mode} is neither P's (${o.p.mode}) nor Q's (${o.q.mode})`);
    this.analysisOptions = { ks: o.ks, nullSide, temperature: o.temperature };
  }

  /** Analyse one step's raw logits here, on this thread. */
  addStep(step: StepInfo, logits: StepLogits): void {
    this.inline ??= new StepAnalyser(this.analysisOptions);
    this.add(this.inline.analyse({ step, input: "logits", ...logits }));
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
