/**
 * Isolated vs visible, done right: generate once, then replay exactly those sets under both
 * modes (teacher forcing) and under the same mode in another batch layout (the null
 * baseline), in lock-step, comparing the next-token distributions step by step.
 */
import { TempoModel, TempoInputError } from "../model.js";
import { TempoSession } from "../session.js";
import { GenerationConfig, GenerationResult, TempoMode } from "../types.js";
import { runGeneration } from "../tempo/generate.js";
import { replay, ReplayStep, setsOf } from "../tempo/replay.js";
import { CaptureRecorder, LogitsCaptureOptions } from "../capture/recorder.js";
import { ATTENTION_TARGETS, attentionBreakdown, attentionRecordsFromSet } from "../capture/attention.js";
import { captureInfoFor } from "../capture/run-info.js";
import { DivergenceCollector } from "./collector.js";
import { StepAnalysisPool } from "./step-analysis-pool.js";
import { DivergenceReport, SetAttentionSummary } from "./report-model.js";
import { visibleSet } from "../../protocol/token-display.js";
import { checkRecordedRun } from "./recorded-check.js";

/** The report shows attention for at most this many sets (the capture keeps them all). */
export const REPORT_ATTENTION_SETS = 12;

/** A run recorded earlier (a capture): compare replays its sets instead of generating. */
export interface RecordedRun {
  promptTokens: number[];
  steps: GenerationResult["steps"];
  stopReason: GenerationResult["stopReason"];
}

export interface CompareRequest {
  prompt: string;
  /** Replay this recorded run (same model file!) instead of generating from `prompt`. */
  recorded?: RecordedRun;
  /** The generation's settings; its mode is P (usually isolated). */
  config: GenerationConfig;
  /** Q, the mode the same sets are replayed under (usually visible). */
  qMode?: TempoMode;
  contextSize?: number;
  /** CPU threads per context (default: the runtime's). */
  threads?: number;
  /** Layers whose attention is captured during the generation. */
  attentionLayers?: number[];
  logits?: LogitsCaptureOptions;
  signal?: AbortSignal;
  /** Worker threads for the per-step divergence work (0: on this thread). Default StepAnalysisPool.workersFor(steps, vocabulary, decode threads). */
  analysisWorkers?: number;
  onProgress?: (phase: "generate" | "replay", done: number, total: number) => void;
}

export interface CompareResult {
  generation: GenerationResult;
  report: DivergenceReport;
  /** Holds the capture (steps, distributions, attention); `write`/`writeNew` it. */
  recorder: CaptureRecorder;
}

export const NULL_LAYOUTS: [string, string] = ["set alone in its batch", "set + one unrelated row in a scratch sequence"];

function summariseAttention(rec: ReturnType<typeof attentionRecordsFromSet>[number], members: string[], bos: number | undefined): SetAttentionSummary {
  const b = attentionBreakdown(rec, bos);
  const q = rec.queryCells.length, T = ATTENTION_TARGETS.length;
  const mass = ATTENTION_TARGETS.map((_, t) => members.map((__, m) => Array.from({ length: rec.heads }, (___, h) => b[(h * q + m) * T + t])));
  return { step: rec.step, layer: rec.layer, members, heads: rec.heads, targets: [...ATTENTION_TARGETS], mass };
}

export async function compareModes(model: TempoModel, r: CompareRequest): Promise<CompareResult> {
  const pMode = r.config.mode;
  const qMode = r.qMode ?? "visible";
  if (pMode === "standard" || qMode === "standard") throw new TempoInputError("compare needs two parallel modes (isolated, visible, causal); standard has no sets");
  if (pMode === qMode) throw new TempoInputError(`compare needs two different modes, got ${pMode} twice`);
  if (r.recorded) checkRecordedRun(r.recorded, model.info.nVocab);
  const lanes = r.config.maxWidth;
  // Every session: flash attention off, same context, so only the mode differs.
  const options = { contextSize: r.contextSize, lanes, flashAttention: "off" as const, threads: r.threads };
  const sessions: TempoSession[] = [new TempoSession(model, { ...options, attentionLayers: r.attentionLayers })];
  try {
    const [main] = sessions;
    const promptTokens = r.recorded?.promptTokens ?? model.promptTokens(r.prompt);
    const recorder = new CaptureRecorder(await captureInfoFor(main, r.config, { text: r.prompt, tokens: promptTokens }, {
      comparison: { p: pMode, q: qMode, nullBaseline: { mode: pMode, layouts: NULL_LAYOUTS } },
    }), { logits: r.logits });
    const t0 = performance.now();
    const attention: SetAttentionSummary[] = [];
    const onStep = (step: GenerationResult["steps"][number]) => {
      recorder.addStep(step);
      if (main.lastSetAttention && r.attentionLayers) {
        const records = attentionRecordsFromSet(main.lastSetAttention, main.indexTable);
        for (const rec of records) recorder.addAttention(rec);
        const sets = new Set(attention.map((a) => a.step));
        if (step.candidates.length > 1 && (sets.has(step.index) || sets.size < REPORT_ATTENTION_SETS)) {
          for (const rec of records) attention.push(summariseAttention(rec, step.candidates.map((c) => c.text), model.info.addsBos ? model.info.bos : undefined));
        }
      }
      r.onProgress?.("generate", step.index + 1, r.config.maxSteps);
    };
    const generation: GenerationResult = r.recorded
      ? { config: r.config, promptTokens, steps: r.recorded.steps, stopReason: r.recorded.stopReason, text: model.pathText(r.recorded.steps.map((s) => s.candidates[0].token)) }
      : await runGeneration(main, { promptTokens, config: r.config, signal: r.signal }, onStep);
    if (r.recorded) r.recorded.steps.forEach((s) => recorder.addStep(s));
    const generateMs = performance.now() - t0;
    if (generation.stopReason === "aborted") throw new TempoInputError("comparison cancelled");

    const sets = setsOf(generation);
    // The same cells and decode chunks as the run (llama.cpp caps n_batch by the context asked
    // for, so pass the run's); the null layout adds one scratch cell per step.
    const same = { ...options, contextSize: main.contextSize, batchSize: main.batchSize };
    const qSession = new TempoSession(model, same);
    sessions.push(qSession);
    // Replaying P on the capturing session would capture every set's attention a second time.
    const pSession = r.attentionLayers ? new TempoSession(model, same) : main;
    if (pSession !== main) sessions.push(pSession);
    const nullSession = new TempoSession(model, { ...same, scratchCells: sets.length });
    sessions.push(nullSession);
    const common = { promptTokens, sets, policy: r.config.policy, temperature: r.config.temperature, signal: r.signal };
    const streams = [
      replay(pSession, { ...common, mode: pMode }),
      replay(qSession, { ...common, mode: qMode }),
      replay(nullSession, { ...common, mode: pMode, scratchRow: true }),
    ];
    const collector = new DivergenceCollector({ p: { mode: pMode }, q: { mode: qMode }, nullBaseline: { mode: pMode, layouts: NULL_LAYOUTS } });
    // The divergence work of a step (three softmaxes, two comparisons, the capture rows) runs on
    // worker threads, while the replays decode the next steps, when workersFor (or the caller)
    // gives some; otherwise here, between decodes. Results come back in step order.
    const rowStreams = [`after-${pMode}`, `after-${qMode}`, `null-${pMode}`];
    const analysis = new StepAnalysisPool({
      ...collector.analysisOptions,
      rows: recorder.logitsOptions,
      // The three replays decode at once when their decodes leave the main thread.
      workers: r.analysisWorkers ?? StepAnalysisPool.workersFor(sets.length, model.info.nVocab, main.threads * (main.decodeOnWorker ? streams.length : 1)),
      onResult: (a) => {
        collector.add(a);
        a.rows!.forEach((row, k) => recorder.addRow(a.index, row, rowStreams[k]));
      },
    });
    const t1 = performance.now();
    try {
      for (let i = 0; i < sets.length; i++) {
        const steps = await Promise.all(streams.map((s) => s.next()));
        if (steps.some((s) => s.done)) throw new TempoInputError(r.signal?.aborted ? "comparison cancelled" : `replay ended early at step ${i}`);
        const replayed = steps.map((s) => s.value as ReplayStep);
        // Each member's own next-token distribution, one row per member (rows share the step index).
        for (const [k, mode] of [[0, pMode], [1, qMode]] as const) {
          for (const logits of replayed[k].memberLogits) recorder.addLogits(i, logits, { stream: `members-${mode}`, temperature: r.config.temperature });
        }
        // The replays hand over probabilities (already a softmax): one log per token, no second softmax.
        const [p, q, nullAlt] = replayed.map((s) => s.next);
        await analysis.submit({ step: { index: i, text: visibleSet(generation.steps[i].candidates), setTokens: sets[i + 1] }, input: "probs", p, q, nullAlt });
        r.onProgress?.("replay", i + 1, sets.length);
      }
      await analysis.finish();
    } finally {
      await analysis.close();
    }
    recorder.finish({ stopReason: generation.stopReason, timings: { generateMs, replayMs: performance.now() - t1 } });
    const report = collector.build({
      model: { fileName: model.info.fileName, sha256: await model.sha256() },
      attention,
      notes: [`prompt: ${JSON.stringify(r.prompt)}`, `${sets.length} steps; sets of up to ${lanes}; policy ${r.config.policy}; flash attention off in every run`],
    });
    return { generation, report, recorder };
  } finally {
    for (const s of sessions) s.dispose();
  }
}
