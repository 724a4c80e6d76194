/**
 * One step of a comparison as a unit of work: prepare the step's next-token distributions (P, Q
 * and, for the null baseline, one side decoded in the other batch layout), compare them, and
 * cut the capture rows. Plain data in and out, so it runs the same inline or in a worker thread
 * (step-analysis-pool.ts); the analyser recycles its float64 buffers from step to step.
 */
import type { LogitsCaptureOptions } from "../capture/recorder.js";
import { captureRow, rowTopK, type CapturedRow } from "../capture/recorder.js";
import { compare, TOP_KS } from "./divergence.js";
import { fromLogits, fromProbs, type Distribution } from "../math/distribution.js";
import type { StepMetrics } from "./report-model.js";

export interface StepInfo { index: number; text?: string; setTokens?: readonly number[]; referenceToken?: number }

/** A step's vectors: full vocabulary each, all of one kind. */
export interface StepJob {
  step: StepInfo;
  /** "probs": probabilities (the replay's next-token distributions); "logits": raw logits. */
  input: "probs" | "logits";
  p: Float32Array | Float64Array;
  q: Float32Array | Float64Array;
  /** The null baseline's side (P or Q, see `nullSide`) decoded in the other batch layout. */
  nullAlt?: Float32Array | Float64Array;
}

/** Fixed for every step of one comparison (a worker gets them once). */
export interface StepAnalysisOptions {
  ks?: readonly number[];
  /** Which side `nullAlt` is compared with. */
  nullSide: "p" | "q";
  /** Softmax temperature for "logits" input (the run's policy). Default 1. */
  temperature?: number;
  /** Cut capture rows of P, Q and nullAlt in this form (CaptureRecorder.addRow). */
  rows?: LogitsCaptureOptions;
}

export interface StepAnalysis {
  index: number;
  /** P vs Q. */
  main: StepMetrics;
  /** The null side vs nullAlt, when the job had one. */
  null?: StepMetrics;
  /** Capture rows of P, Q and nullAlt (in that order), when asked for. */
  rows?: CapturedRow[];
  /** P's and Q's most probable next token and its probability (what each mode would pick next). */
  next: { p: TopToken; q: TopToken };
}

export interface TopToken { token: number; prob: number }

export class StepAnalyser {
  private bufs: (Distribution | undefined)[] = [];
  private readonly topK: number;

  constructor(private readonly o: StepAnalysisOptions) {
    this.topK = Math.max(...(o.ks ?? TOP_KS), o.rows ? rowTopK(o.rows) : 1);
  }

  analyse(job: StepJob): StepAnalysis {
    const vectors = job.nullAlt ? [job.p, job.q, job.nullAlt] : [job.p, job.q];
    const dists = vectors.map((v, k) => job.input === "probs"
      ? fromProbs(v, { topK: this.topK, reuse: this.bufs[k] })
      : fromLogits(v, { topK: this.topK, temperature: this.o.temperature, reuse: this.bufs[k] }));
    this.bufs = dists;
    const [P, Q, N] = dists;
    const { step } = job;
    const copts = { ks: this.o.ks, tokens: step.setTokens, referenceToken: step.referenceToken };
    const base = { index: step.index, ...(step.text !== undefined ? { text: step.text } : {}) };
    const top = (d: Distribution): TopToken => ({ token: d.top[0], prob: d.prob(d.top[0]) });
    const out: StepAnalysis = { index: step.index, main: { ...base, ...compare(P, Q, copts) }, next: { p: top(P), q: top(Q) } };
    if (N) out.null = { ...base, ...compare(this.o.nullSide === "p" ? P : Q, N, copts) };
    if (this.o.rows) out.rows = dists.map((d) => captureRow(d, this.o.rows!));
    return out;
  }
}

/**
 * The input slots a pool shares with one worker: `slots` x 3 rows (P, Q, nullAlt) of `vocab`
 * float64s in one buffer, viewed the same way on both sides.
 */
export function slotViews(buffer: SharedArrayBuffer, vocab: number, slots: number): Float64Array[][] {
  return Array.from({ length: slots }, (_, s) => [0, 1, 2].map((r) => new Float64Array(buffer, (s * 3 + r) * vocab * Float64Array.BYTES_PER_ELEMENT, vocab)));
}
