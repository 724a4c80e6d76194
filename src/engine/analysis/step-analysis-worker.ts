/**
 * Worker-thread entry of StepAnalysisPool: a StepAnalyser per pool (its buffers recycled
 * across steps), set up by the pool's first message; each job is answered with its analysis or
 * its error. The worker outlives a pool and serves the next one.
 */
import { parentPort, type MessagePort } from "node:worker_threads";
import { slotViews, StepAnalyser, type StepAnalysis, type StepAnalysisOptions, type StepJob } from "./step-analysis.js";

export type WorkerRequest =
  | { options: StepAnalysisOptions }
  /** The pool's input slots (slotViews). */
  | { buffer: SharedArrayBuffer; vocab: number; slots: number }
  /** Analyse the step whose vectors are in `slot`. */
  | { seq: number; slot: number; step: StepJob["step"]; input: StepJob["input"]; withNull: boolean };
export type WorkerReply = { seq: number; result: StepAnalysis } | { seq: number; error: { name: string; message: string; stack?: string } };

function serve(port: MessagePort): void {
  let analyser: StepAnalyser | undefined;
  let slots: Float64Array[][] = [];
  port.on("message", (m: WorkerRequest) => {
    if ("options" in m) {
      analyser = new StepAnalyser(m.options);
      return;
    }
    if ("buffer" in m) {
      slots = slotViews(m.buffer, m.vocab, m.slots);
      return;
    }
    let reply: WorkerReply;
    try {
      if (!analyser || !slots[m.slot]) throw new Error("step-analysis worker: a step before its options and slots");
      const [p, q, nullAlt] = slots[m.slot];
      // The analysis copies the rows into its own buffers first, so the pool may refill the slot
      // as soon as this reply arrives.
      reply = { seq: m.seq, result: analyser.analyse({ step: m.step, input: m.input, p, q, nullAlt: m.withNull ? nullAlt : undefined }) };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reply = { seq: m.seq, error: { name: err.name, message: err.message, stack: err.stack } };
    }
    // The capture rows are fresh arrays: move them instead of copying.
    const rows = "result" in reply ? reply.result.rows ?? [] : [];
    port.postMessage(reply, rows.flatMap((r) => ("ids" in r ? [r.ids.buffer, r.logprobs.buffer] : [r.logprobs.buffer]) as ArrayBuffer[]));
  });
}

if (!parentPort) throw new Error("step-analysis-worker runs as a worker thread (StepAnalysisPool)");
serve(parentPort);
