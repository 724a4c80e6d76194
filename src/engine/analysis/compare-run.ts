/**
 * Isolated vs visible, done right: generate once, then replay exactly those sets under both
 * modes (teacher forcing) and under the same mode in another batch layout (the null
 * baseline), in lock-step, comparing the next-token distributions step by step.
 */
import { TempoModel } from "../model.js";
import { TempoInputError } from "../errors.js";
import { SCRATCH_STEP, SessionOptions, TempoSession } from "../session.js";
import { leaseSeat, OnSeat } from "../session-group.js";
import { GenerationConfig, GenerationResult, TempoMode, TopEntry } from "../types.js";
import { runGeneration } from "../tempo/generate.js";
import { replay, ReplayStep, setsOf } from "../tempo/replay.js";
import { CaptureRecorder, LogitsCaptureOptions } from "../capture/recorder.js";
import { ATTENTION_TARGETS, attentionBreakdown, attentionRecordsFromSet, UNKNOWN_KEY_STEP, type AttentionRecord } from "../capture/attention.js";
import { captureInfoFor } from "../capture/run-info.js";
import { DivergenceCollector } from "./collector.js";
import { StepAnalysisPool } from "./step-analysis-pool.js";
import { DivergenceReport, SetAttentionSummary, SetTokenAttention } from "./report-model.js";
import { visibleSet, visibleToken } from "../../protocol/token-display.js";
import { layersOf, type AttentionLayers } from "../../protocol/attention.js";
import { checkRecordedRun } from "./recorded-check.js";

/** The report shows attention for at most this many sets (the capture keeps them all). */
export const REPORT_ATTENTION_SETS = 12;
/** ...and token by token for the first this many of those, with at most this many keys (+ BOS). */
export const REPORT_TOKEN_SETS = 4;
export const REPORT_TOKEN_KEYS = 40;

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
  /**
   * Layers whose attention is captured, in the P and Q replays and the null-baseline replay
   * (not the generation: every stream is a replay, so a recorded run captures it too);
   * "all": every layer of the model.
   */
  attentionLayers?: AttentionLayers;
  logits?: LogitsCaptureOptions;
  signal?: AbortSignal;
  /** Worker threads for the per-step divergence work (0: on this thread). Default StepAnalysisPool.workersFor(steps, vocabulary, decode threads). */
  analysisWorkers?: number;
  onProgress?: (phase: "generate" | "replay", done: number, total: number) => void;
  /** Each replayed step as soon as its divergence is known, in step order (a comparison's partial rows). */
  onReplayed?: (r: ReplayedStep) => void;
  /**
   * Seats of a SessionGroup shared with other prompts' comparisons (compare --prompts in
   * batches): the generation runs on one, then the three replays on three others in the next
   * round, so that every prompt's sets go in the same llama_decode. No attention capture (a
   * tapped context is a context of its own). Absent: sessions of this comparison's own.
   */
  seats?: OnSeat;
}

/** One teacher-forced step: the set replayed, what P and Q would pick next, and their JS beside the null's. */
export interface ReplayedStep {
  step: GenerationResult["steps"][number];
  next: { p: TopEntry; q: TopEntry };
  /** JS(P, Q) and JS of the null baseline at this step, nats. */
  js: number;
  nullJs: number;
}

export interface CompareResult {
  generation: GenerationResult;
  report: DivergenceReport;
  /** Holds the capture (steps, distributions, attention); `write`/`writeNew` it. */
  recorder: CaptureRecorder;
  /** False when cancelled during the replays: the capture and report hold the steps replayed (stop reason "aborted"). */
  complete: boolean;
}

export const NULL_LAYOUTS: [string, string] = ["set alone in its batch", "set + one unrelated row in a scratch sequence"];
/** The null baseline's layouts when the comparison runs on seats of a group (CompareRequest.seats). */
export const SEATED_NULL_LAYOUTS: [string, string] = ["set in one decode with other prompts' sets", "the same + one unrelated row in a scratch sequence"];

/** Per target, member and head ([target][member][head]) of one record: the report's layout. */
function massOf(rec: AttentionRecord, bos: number | undefined): number[][][] {
  const b = attentionBreakdown(rec, bos);
  const q = rec.queryCells.length, T = ATTENTION_TARGETS.length;
  return ATTENTION_TARGETS.map((_, t) => Array.from({ length: q }, (__, m) => Array.from({ length: rec.heads }, (___, h) => b[(h * q + m) * T + t])));
}

/**
 * Token-level weights of one set in one layer under P and Q: BOS, then the last
 * REPORT_TOKEN_KEYS cells the table maps (prompt tail, earlier sets, the set itself), keys
 * labelled by `text`. Undefined when the two replays' cells do not hold the same tokens.
 */
export function tokenAttention(p: AttentionRecord, q: AttentionRecord, text: (token: number) => string, maxKeys = REPORT_TOKEN_KEYS): SetTokenAttention | undefined {
  if (p.keyCells.length !== q.keyCells.length || p.keyTokens.some((t, j) => t !== q.keyTokens[j])) return undefined;
  const known = Array.from(p.keyCells.keys()).filter((j) => p.keySteps[j] !== UNKNOWN_KEY_STEP && p.keySteps[j] !== SCRATCH_STEP);
  const bos = known.filter((j) => p.keyPositions[j] === 0 && p.keySteps[j] === -1).slice(0, 1);
  const tail = known.filter((j) => j !== bos[0]).slice(-maxKeys);
  const shown = [...bos, ...tail];
  const isShown = new Set(shown);
  const hiddenIdx = known.filter((j) => !isShown.has(j));
  const qn = p.queryCells.length, k = p.keyCells.length;
  const pick = (r: AttentionRecord, keys: number[]) => Array.from({ length: r.heads }, (_, h) => Array.from({ length: qn }, (__, m) => keys.map((j) => r.weights[(h * qn + m) * k + j])));
  const hiddenMass = (r: AttentionRecord) => pick(r, hiddenIdx).flat().reduce((mx, row) => Math.max(mx, row.reduce((a, b) => a + b, 0)), 0);
  return {
    keys: shown.map((j) => ({ text: text(p.keyTokens[j]), step: p.keySteps[j] })),
    hidden: { keys: hiddenIdx.length, maxMass: Math.max(hiddenMass(p), hiddenMass(q)) },
    p: pick(p, shown),
    q: pick(q, shown),
  };
}

/** The three replays whose attention a compare captures, in stream order. */
export function attentionStreams(pMode: TempoMode, qMode: TempoMode): { name: string; mode: TempoMode }[] {
  return [{ name: `replay-${pMode}`, mode: pMode }, { name: `replay-${qMode}`, mode: qMode }, { name: `null-${pMode}`, mode: pMode }];
}

export async function compareModes(model: TempoModel, request: CompareRequest): Promise<CompareResult> {
  const r = { ...request, attentionLayers: request.attentionLayers && layersOf(request.attentionLayers, model.info.nLayer) };
  const pMode = r.config.mode;
  const qMode = r.qMode ?? "visible";
  if (pMode === "standard" || qMode === "standard") throw new TempoInputError("compare needs two parallel modes (isolated, visible, causal); standard has no sets");
  if (pMode === qMode) throw new TempoInputError(`compare needs two different modes, got ${pMode} twice`);
  // Its replays decode the run's sets as they were; pruning would change what they see.
  if (r.config.pruneMass > 0) throw new TempoInputError("compare replays sets without pruning: prune with tempo generate (--prune-attention)");
  if (r.recorded) checkRecordedRun(r.recorded, model.info.nVocab);
  if (r.seats && r.attentionLayers) throw new TempoInputError("attention capture needs sessions of their own: compare these prompts one per decode (--batch-prompts 1)");
  const lanes = r.config.maxWidth;
  // Every session: flash attention off, same context, so only the mode differs.
  const options = { contextSize: r.contextSize, lanes, flashAttention: "off" as const, threads: r.threads };
  const sessions: TempoSession[] = [];
  const leases: (() => void)[] = [];
  const releaseSeats = () => { for (const release of leases.splice(0)) release(); };
  /** A session of this comparison's own, or a seat of the caller's group. */
  const sessionFor = async (o: SessionOptions): Promise<TempoSession> => {
    if (!r.seats) {
      sessions.push(new TempoSession(model, o));
      return sessions[sessions.length - 1];
    }
    const { seat, release } = await leaseSeat(r.seats);
    leases.push(release);
    return seat;
  };
  const nullLayouts = r.seats ? SEATED_NULL_LAYOUTS : NULL_LAYOUTS;
  // The generation captures nothing (with a tap its decodes could not leave the main thread).
  const main = await sessionFor(options);
  try {
    const promptTokens = r.recorded?.promptTokens ?? model.promptTokens(r.prompt);
    const recorder = new CaptureRecorder(await captureInfoFor(main, r.config, { text: r.prompt, tokens: promptTokens }, {
      comparison: { p: pMode, q: qMode, nullBaseline: { mode: pMode, layouts: nullLayouts }, ...(r.attentionLayers ? { attention: { layers: r.attentionLayers, streams: attentionStreams(pMode, qMode) } } : {}) },
    }), { logits: r.logits });
    const t0 = performance.now();
    const onStep = (step: GenerationResult["steps"][number]) => {
      recorder.addStep(step);
      r.onProgress?.("generate", step.index + 1, r.config.maxSteps);
    };
    const generation: GenerationResult = r.recorded
      ? { config: r.config, promptTokens, steps: r.recorded.steps, stopReason: r.recorded.stopReason, text: model.pathText(r.recorded.steps.map((s) => s.candidates[0].token)) }
      : await runGeneration(main, { promptTokens, config: r.config, signal: r.signal }, onStep);
    if (r.recorded) r.recorded.steps.forEach((s) => recorder.addStep(s));
    const generateMs = performance.now() - t0;
    if (generation.stopReason === "aborted") throw new TempoInputError("comparison cancelled");

    const sets = setsOf(generation);
    const decodeThreads = main.threads * (main.decodeOnWorker && !r.attentionLayers ? 3 : 1); // the three replays decode at once when they leave the main thread
    let pSession: TempoSession, qSession: TempoSession, nullSession: TempoSession;
    if (r.seats) {
      // The generation's seat goes back first: the replays' seats come with the next round,
      // which starts when every seat of this one is free. (The group's scratch cells hold
      // the null layout's row per step.)
      releaseSeats();
      [pSession, qSession, nullSession] = await Promise.all([sessionFor(options), sessionFor(options), sessionFor(options)]);
    } else {
      // The same cells and decode chunks as the run (llama.cpp caps n_batch by the context asked
      // for, so pass the run's); the null layout adds one scratch cell per step.
      const same = { ...options, contextSize: main.contextSize, batchSize: main.batchSize };
      const tapped = { ...same, attentionLayers: r.attentionLayers };
      qSession = await sessionFor(tapped);
      // Without attention, P replays on the generating session (its cache is reset by replay).
      pSession = r.attentionLayers ? await sessionFor(tapped) : main;
      nullSession = await sessionFor({ ...tapped, scratchCells: sets.length });
    }
    const common = { promptTokens, sets, policy: r.config.policy, temperature: r.config.temperature, signal: r.signal };
    const streams = [
      replay(pSession, { ...common, mode: pMode }),
      replay(qSession, { ...common, mode: qMode }),
      replay(nullSession, { ...common, mode: pMode, scratchRow: true }),
    ];
    const collector = new DivergenceCollector({ p: { mode: pMode }, q: { mode: qMode }, nullBaseline: { mode: pMode, layouts: nullLayouts } });
    // The divergence work of a step (three softmaxes, two comparisons, the capture rows) runs on
    // worker threads, while the replays decode the next steps, when workersFor (or the caller)
    // gives some; otherwise here, between decodes. Results come back in step order.
    const rowStreams = [`after-${pMode}`, `after-${qMode}`, `null-${pMode}`];
    const analysis = new StepAnalysisPool({
      ...collector.analysisOptions,
      rows: recorder.logitsOptions,
      // The three replays decode at once when their decodes leave the main thread (not when
      // they capture attention: a tapped session decodes on this thread, one after another).
      workers: r.analysisWorkers ?? StepAnalysisPool.workersFor(sets.length, model.info.nVocab, decodeThreads),
      onResult: (a) => {
        collector.add(a);
        a.rows!.forEach((row, k) => recorder.addRow(a.index, row, rowStreams[k]));
        const entry = (t: { token: number; prob: number }): TopEntry => ({ token: t.token, ...model.tokenView(t.token), prob: t.prob });
        r.onReplayed?.({ step: generation.steps[a.index], next: { p: entry(a.next.p), q: entry(a.next.q) }, js: a.main.js, nullJs: a.null!.js });
      },
    });
    // Every record goes into the capture; the report summarises the first sets of more than one member.
    const attention: SetAttentionSummary[] = [];
    const bos = model.info.addsBos ? model.info.bos : undefined;
    const labels = attentionStreams(pMode, qMode);
    const collectAttention = (i: number, tappedSessions: TempoSession[]) => {
      const records = tappedSessions.map((s, k) => {
        const a = s.lastSetAttention;
        if (!a || a.step !== i) throw new Error(`attention of step ${i} was not captured in the ${labels[k].name} replay`);
        const recs = attentionRecordsFromSet(a, s.indexTable, { stream: labels[k].name, mode: labels[k].mode });
        for (const rec of recs) recorder.addAttention(rec);
        return recs;
      });
      const step = generation.steps[i];
      if (step.candidates.length < 2 || new Set(attention.map((a) => a.step)).size >= REPORT_ATTENTION_SETS) return;
      const members = step.candidates.map((c) => c.text);
      const withTokens = new Set(attention.map((a) => a.step)).size < REPORT_TOKEN_SETS;
      records[0].forEach((p, l) => {
        const [q, nul] = [records[1][l], records[2][l]];
        const tokens = withTokens ? tokenAttention(p, q, (t) => visibleToken({ token: t, ...model.tokenView(t) })) : undefined;
        attention.push({ step: i, layer: p.layer, members, heads: p.heads, targets: [...ATTENTION_TARGETS], p: massOf(p, bos), q: massOf(q, bos), nullBaseline: massOf(nul, bos), ...(tokens ? { tokens } : {}) });
      });
    };
    const t1 = performance.now();
    let replayed = 0; // steps replayed by all three streams: fewer than the sets when cancelled
    try {
      for (let i = 0; i < sets.length; i++, replayed = i) {
        const steps = await Promise.all(streams.map((s) => s.next()));
        if (steps.some((s) => s.done)) {
          if (r.signal?.aborted) break;
          throw new TempoInputError(`replay ended early at step ${i}`);
        }
        const results = steps.map((s) => s.value as ReplayStep);
        // Each member's own next-token distribution, one row per member (rows share the step index).
        for (const [k, mode] of [[0, pMode], [1, qMode]] as const) {
          for (const logits of results[k].memberLogits) recorder.addLogits(i, logits, { stream: `members-${mode}`, temperature: r.config.temperature });
        }
        if (r.attentionLayers) collectAttention(i, [pSession, qSession, nullSession]);
        // The replays hand over probabilities (already a softmax): one log per token, no second softmax.
        const [p, q, nullAlt] = results.map((s) => s.next);
        await analysis.submit({ step: { index: i, text: visibleSet(generation.steps[i].candidates), setTokens: sets[i + 1] }, input: "probs", p, q, nullAlt });
        r.onProgress?.("replay", i + 1, sets.length);
      }
      await analysis.finish();
    } finally {
      releaseSeats(); // every set is decoded: the group's other seats need not wait for these
      await analysis.close();
    }
    const complete = replayed === sets.length;
    if (!complete && replayed === 0) throw new TempoInputError("comparison cancelled before its first step was replayed; nothing to keep");
    // Cancelled: the capture of the steps replayed, a complete comparison of a shorter run.
    if (!complete) recorder.keepFirstSteps(replayed);
    recorder.finish({ stopReason: complete ? generation.stopReason : "aborted", timings: { generateMs, replayMs: performance.now() - t1 } });
    const report = collector.build({
      model: { fileName: model.info.fileName, sha256: await model.sha256() },
      attention,
      notes: [
        `prompt: ${JSON.stringify(r.prompt)}`,
        `${complete ? `${sets.length} steps` : `cancelled: ${replayed} of ${sets.length} steps replayed`}; sets of up to ${lanes}; policy ${r.config.policy}; flash attention off in every run`,
      ],
    });
    return { generation, report, recorder, complete };
  } finally {
    releaseSeats();
    for (const s of sessions) s.dispose();
  }
}
