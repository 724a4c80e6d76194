/**
 * DivergenceCollector: what a teacher-forced replay calls once per step with the raw logits,
 * and turns into a DivergenceReport at the end. It keeps only the per-step metrics (not the
 * distributions) and recycles its float64 buffers, so a long replay costs no memory per step.
 *
 *   const c = new DivergenceCollector({ p: { mode: "isolated" }, q: { mode: "visible" },
 *     nullBaseline: { mode: "isolated", layouts: ["set alone", "set + unrelated row"] } });
 *   c.addStep({ index, text, setTokens }, { p: isoLogits, q: visLogits, nullAlt: isoOtherLayout });
 *   const report = c.build({ model: { fileName, sha256 } });
 */
import type { TempoMode } from "../types.js";
import { compare, fromLogits, TOP_KS, type Distribution } from "./divergence.js";
import { buildDivergenceReport, type DivergenceReport, type SetAttentionSummary, type StepMetrics } from "./report-model.js";
import type { BootstrapOptions } from "./stats.js";

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
  p: ArrayLike<number>;
  q: ArrayLike<number>;
  /** Logits of the null-baseline mode decoded in the other batch layout. */
  nullAlt: ArrayLike<number>;
}

export interface StepInfo { index: number; text?: string; setTokens?: readonly number[]; referenceToken?: number }

export class DivergenceCollector {
  private readonly steps: StepMetrics[] = [];
  private readonly nullSteps: StepMetrics[] = [];
  private bufs: (Distribution | undefined)[] = [undefined, undefined, undefined];
  private readonly nullSide: "p" | "q";

  constructor(private readonly o: CollectorOptions) {
    if (o.nullBaseline.mode === o.p.mode) this.nullSide = "p";
    else if (o.nullBaseline.mode === o.q.mode) this.nullSide = "q";
    else throw new RangeError(`collector: null-baseline mode ${o.nullBaseline.mode} is neither P's (${o.p.mode}) nor Q's (${o.q.mode})`);
  }

  addStep(step: StepInfo, logits: StepLogits): void {
    const prep = { temperature: this.o.temperature, topK: this.topK };
    const P = fromLogits(logits.p, { ...prep, reuse: this.bufs[0] });
    const Q = fromLogits(logits.q, { ...prep, reuse: this.bufs[1] });
    const N = fromLogits(logits.nullAlt, { ...prep, reuse: this.bufs[2] });
    this.bufs = [P, Q, N];
    this.addStepDistributions(step, { p: P, q: Q, nullAlt: N });
  }

  /**
   * The same from distributions prepared by the caller (e.g. `fromProbs` on the replay's
   * probabilities, which saves a log and a softmax per token). Each must keep at least the
   * top max(ks) tokens; the collector keeps none of them.
   */
  addStepDistributions(step: StepInfo, d: { p: Distribution; q: Distribution; nullAlt: Distribution }): void {
    const copts = { ks: this.o.ks, tokens: step.setTokens, referenceToken: step.referenceToken };
    const base = { index: step.index, ...(step.text !== undefined ? { text: step.text } : {}) };
    this.steps.push({ ...base, ...compare(d.p, d.q, copts) });
    this.nullSteps.push({ ...base, ...compare(this.nullSide === "p" ? d.p : d.q, d.nullAlt, copts) });
  }

  /** How many top tokens each distribution must keep. */
  get topK(): number {
    return Math.max(...(this.o.ks ?? TOP_KS));
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
