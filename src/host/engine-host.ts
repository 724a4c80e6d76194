// The engine host: a child process forked by the extension (dist/engine-host.js). It owns the
// models, sessions and captures, so a native abort in llama.cpp kills this process only, never
// VS Code's extension host. Requests arrive over the IPC channel and are validated first.
import { performance } from "node:perf_hooks";
import { TempoModel } from "../engine/model.js";
import { TempoInputError } from "../engine/errors.js";
import { hasChatTemplate, renderChatPrompt } from "../engine/chat-prompt.js";
import { DEFAULT_LANES, TempoSession } from "../engine/session.js";
import { SessionGroup } from "../engine/session-group.js";
import { resolveConfig } from "../engine/tempo/config.js";
import { generate } from "../engine/tempo/generate.js";
import { pruningSessionOptions } from "../engine/tempo/pruning.js";
import { CaptureRecorder } from "../engine/capture/recorder.js";
import { captureInfoFor } from "../engine/capture/run-info.js";
import { compareOnePrompt, evalSettingsOf, prepareOnOpenModel, storeExperiment } from "../cli/experiment.js";
import { compareExperimentFile, evalExperimentFile } from "../extension/experiment-files.js";
import { setContrasts } from "../engine/analysis/report-model.js";
import { layersOf } from "../protocol/attention.js";
import { downloadModelFile } from "./model-download.js";
import { distinctAlternatives, generateCompletionPaths } from "../engine/eval/completion-paths.js";
import { fitPrefix, inlineTruncationTarget } from "../engine/eval/inline-prompt.js";
import { REPORT_FILES, renderReport } from "../engine/analysis/report-write.js";
import { mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { evalMeta, runEvalIntoFolder } from "../engine/eval/report.js";
import { armConfig } from "../engine/eval/runner.js";
import { experimentView } from "../engine/eval/view.js";
import type { GenerationConfig, GenerationResult } from "../engine/types.js";
import { parseHostRequest, type EngineOptions, type HostEvent, type HostRequest, type RenderedPrompt, type ReplayRow, type StepEventMessage } from "../protocol/engine.js";
import { stepAttention } from "../engine/analysis/token-attention.js";
import { summarize } from "../engine/analysis/stats.js";
import { nullBandOf } from "../protocol/null-band.js";
import { batcher } from "./batcher.js";

/** Step events are sent in batches at most this often (the UI redraws per batch). */
const STEP_BATCH_MS = 25;
/** A compare's progress events at most this often (ms), besides each phase's last. */
const PROGRESS_MS = 250;

/**
 * How long a model's chat template may take to render before the client kills this host: the
 * template is Jinja run in JavaScript on this process's only thread, so a template that loops
 * holds the event loop and no cancel can reach it. One user turn renders in milliseconds
 * (node-llama-cpp renders a few sample chats too); 15 s leaves room for a busy machine and for
 * another model's synchronous prompt decode beside it, and is still a wait, not a hang.
 */
const CHAT_TEMPLATE_DEADLINE_MS = 15_000;

function send(event: HostEvent): void {
  // After the parent went away there is nobody to tell; exiting is handled by "disconnect".
  if (process.connected) process.send?.(event);
}

interface LoadedModel {
  model: TempoModel;
  session: TempoSession | undefined;
  sessionKey: string;
  loadMs: number;
}

const models = new Map<string, Promise<LoadedModel>>();
/** One chain per model: requests for the same model run one after another. */
const queues = new Map<string, Promise<unknown>>();
const controllers = new Map<number, AbortController>();

const modelKey = (e: EngineOptions): string => `${e.gpu}\u0000${e.modelPath}`;

function enqueue<T>(key: string, job: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.then(job, job);
  queues.set(key, next.catch(() => undefined));
  return next;
}

async function loadModel(id: number, engine: EngineOptions): Promise<LoadedModel> {
  const key = modelKey(engine);
  let loading = models.get(key);
  if (!loading) {
    send({ type: "progress", id, phase: "loadModel", message: `Loading ${engine.modelPath}` });
    const t0 = performance.now();
    loading = TempoModel.open(engine.modelPath, { gpu: engine.gpu }).then((model) => ({
      model, session: undefined, sessionKey: "", loadMs: performance.now() - t0,
    }));
    models.set(key, loading);
    // A failed load is not cached: the user may fix the file and try again.
    loading.catch(() => models.delete(key));
  }
  return loading;
}

/** The request's thread count as a session option; undefined = automatic (the cores other processes leave idle). */
const threadsOption = (engine: EngineOptions): number | undefined => (engine.threads > 0 ? engine.threads : undefined);

/**
 * `config`: the run's settings, when it may prune (the session then captures the scoring layers'
 * attention); `attention`: capture every layer's (the playground's overlay).
 */
function sessionFor(loaded: LoadedModel, engine: EngineOptions, width: number, config?: GenerationConfig, attention = false): TempoSession {
  const lanes = Math.max(DEFAULT_LANES, width);
  const threads = threadsOption(engine);
  const nLayer = loaded.model.info.nLayer;
  const pruningOptions = config ? pruningSessionOptions(config, nLayer) : {};
  const attentionLayers = attention ? layersOf("all", nLayer) : pruningOptions.attentionLayers;
  const extra = { ...pruningOptions, ...(attentionLayers ? { attentionLayers } : {}) };
  const key = `${lanes}/${engine.contextSize}/${engine.flashAttention}/${threads ?? "default"}/${JSON.stringify(extra)}`;
  if (!loaded.session || loaded.sessionKey !== key) {
    loaded.session?.dispose();
    loaded.session = undefined;
    loaded.session = new TempoSession(loaded.model, {
      lanes,
      contextSize: engine.contextSize > 0 ? engine.contextSize : undefined,
      flashAttention: engine.flashAttention,
      threads,
      ...extra,
    });
    loaded.sessionKey = key;
  }
  return loaded.session;
}

function summary(loaded: LoadedModel, session: TempoSession | undefined) {
  const { info, runtime } = loaded.model;
  return {
    path: info.path, fileName: info.fileName, description: info.description, backend: runtime.backend,
    nVocab: info.nVocab, nLayer: info.nLayer, contextSize: session?.contextSize ?? Math.min(4096, info.nCtxTrain), loadMs: loaded.loadMs,
    chatTemplate: hasChatTemplate(loaded.model),
  };
}

/** The prompt's tokens as the request's format makes them; chat adds its end-of-turn markers as stop strings. */
async function promptFor(model: TempoModel, req: Extract<HostRequest, { type: "generate" }>, config: GenerationConfig): Promise<{ tokens: number[]; rendered: RenderedPrompt; config: GenerationConfig }> {
  if (req.promptFormat !== "chat") {
    if (req.responsePrefix) throw new TempoInputError("a response prefix needs the chat prompt format");
    const tokens = model.promptTokens(req.prompt);
    return { tokens, rendered: { format: "raw", text: req.prompt, tokens: tokens.length }, config };
  }
  send({
    type: "progress", id: req.id, phase: "chatTemplate", deadlineMs: CHAT_TEMPLATE_DEADLINE_MS,
    message: `rendering the chat template of ${model.info.fileName} (a template that never finishes, e.g. one that loops; use the raw prompt format or fix tokenizer.chat_template)`,
  });
  const chat = await renderChatPrompt(model, req.prompt, req.responsePrefix, (message) =>
    send({ type: "log", level: "warn", message: `${model.info.fileName}: its chat template does not render (${message}); using the generic chat format` }),
  );
  const stopStrings = [...new Set([...config.stopStrings, ...chat.stopStrings])];
  return {
    tokens: chat.tokens,
    rendered: { format: "chat", text: chat.text, tokens: chat.tokens.length, chat: { wrapper: chat.wrapper, fromTemplate: chat.fromTemplate } },
    config: { ...config, stopStrings },
  };
}

async function runGenerate(req: Extract<HostRequest, { type: "generate" }>, signal: AbortSignal): Promise<void> {
  const settings = resolveConfig(req.settings);
  const loaded = await loadModel(req.id, req.engine);
  const session = sessionFor(loaded, req.engine, settings.maxWidth, settings, req.attention);
  send({ type: "modelLoaded", id: req.id, model: summary(loaded, session) });
  const prompt = await promptFor(loaded.model, req, settings);
  const { config, tokens: promptTokens } = prompt;
  send({ type: "promptRendered", id: req.id, prompt: prompt.rendered });
  const recorder = req.captureRoot ? new CaptureRecorder(await captureInfoFor(session, config, { text: prompt.rendered.text, tokens: promptTokens })) : undefined;

  const steps = batcher<StepEventMessage>(STEP_BATCH_MS, (batch) => send({ type: "steps", id: req.id, steps: batch }));

  const started = performance.now();
  const it = generate(session, {
    promptTokens, config, signal,
    onDistributions: recorder
      // The distribution after each set, as the policy formed it: probabilities already.
      ? (index, _logits, next) => recorder.addLogits(index, next, { input: "probs" })
      : undefined,
  });
  let result: GenerationResult;
  for (;;) {
    const r = await it.next();
    if (r.done) {
      result = r.value;
      break;
    }
    recorder?.addStep(r.value);
    // The set just decoded is the session's last: its attention, for the overlay.
    steps.push(req.attention && session.lastSetAttention ? { ...r.value, attention: stepAttention(session.lastSetAttention, session.indexTable, loaded.model) } : r.value);
  }
  steps.flush();
  const seconds = (performance.now() - started) / 1000;
  let captureDir: string | undefined;
  if (recorder && req.captureRoot) {
    recorder.finish({ stopReason: result.stopReason, timings: { totalMs: seconds * 1000 } });
    captureDir = recorder.writeNew(req.captureRoot, req.prompt.slice(0, 40));
  }
  send({
    type: "done",
    id: req.id,
    run: {
      stopReason: result.stopReason, text: result.text, steps: result.steps.length, promptTokens: promptTokens.length, seconds,
      stepsPerSecond: seconds > 0 ? result.steps.length / seconds : 0, backend: loaded.model.runtime.backend,
      decodeThreads: { last: session.threads, max: session.maxThreads, automatic: session.autoThreads }, config: { ...config },
      ...(captureDir ? { captureDir } : {}),
    },
  });
}

async function runCompare(req: Extract<HostRequest, { type: "compare" }>, signal: AbortSignal): Promise<void> {
  // "Compare Isolated vs Visible": P is always isolated and Q visible, whatever the playground's mode.
  const config = resolveConfig({ ...req.settings, mode: "isolated" });
  const loaded = await loadModel(req.id, req.engine);
  send({ type: "modelLoaded", id: req.id, model: summary(loaded, loaded.session) });
  // The experiment file the settings dialog showed, resolved and run as tempo compare runs it:
  // the folder stores it (tempo run reruns it) and the report states its settings.
  const experiment = compareExperimentFile(req.engine, req.prompt, config, req.attentionLayers, req.analysisWorkers);
  const { resolved } = await prepareOnOpenModel(experiment, loaded.model, "compare");
  // The rows as they are replayed, each batch with the null band of the steps so far.
  const nullJs: number[] = [];
  const rows = batcher<ReplayRow>(STEP_BATCH_MS, (batch) => send({ type: "replayed", id: req.id, rows: batch, nullBand: nullBandOf(summarize(nullJs)) }));
  let lastProgress = -Infinity;
  const result = await compareOnePrompt(loaded.model, resolved, req.prompt, {
    signal,
    onProgress: (phase, done, total) => {
      // A few times a second is plenty for a progress line, and costs nothing on long runs.
      if (done === total || performance.now() - lastProgress >= PROGRESS_MS) {
        lastProgress = performance.now();
        send({ type: "progress", id: req.id, phase, message: `${phase} ${done}/${total}`, fraction: total > 0 ? Math.min(1, done / total) : undefined, done, total });
      }
    },
    onReplayed: (r) => {
      if (Number.isFinite(r.nullJs)) nullJs.push(r.nullJs);
      const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);
      rows.push({ step: r.step.index, set: r.step.candidates, next: r.next, js: finiteOrNull(r.js), nullJs: finiteOrNull(r.nullJs) });
    },
  });
  rows.flush();
  const steps = result.generation.steps.slice(0, result.report.steps.length); // those replayed (all, unless cancelled)
  for (let i = 0; i < steps.length; i += 256) send({ type: "steps", id: req.id, steps: steps.slice(i, i + 256) });
  const writeReports = await renderReport(result.report);
  const dir = result.recorder.writeNew(req.captureRoot, `compare-${req.prompt.slice(0, 30)}`, undefined, (d) => {
    writeReports(d);
    storeExperiment(d, resolved);
  });
  const mean = (s: { mean: number } | undefined): number | null => (s && Number.isFinite(s.mean) ? s.mean : null);
  send({
    type: "compared",
    id: req.id,
    captureDir: dir,
    reportHtml: join(dir, REPORT_FILES.html),
    js: result.report.steps.map((s) => (Number.isFinite(s.js) ? s.js : null)),
    meanJs: mean(result.report.summary.js),
    nullMeanJs: mean(result.report.nullBaseline.summary.js),
    nullBand: nullBandOf(result.report.nullBaseline.summary.js),
    attention: setContrasts(result.report.attention ?? []),
    complete: result.complete,
  });
}

async function runComplete(req: Extract<HostRequest, { type: "complete" }>, signal: AbortSignal): Promise<void> {
  const config = resolveConfig(req.settings);
  const loaded = await loadModel(req.id, req.engine);
  const session = sessionFor(loaded, req.engine, config.maxWidth);
  send({ type: "modelLoaded", id: req.id, model: summary(loaded, session) });
  const sha256 = loaded.model.sha256(); // hashed while the run goes on (once per model)
  // The prompt keeps at least half the context; the rest is room for the sets.
  const room = Math.min(config.maxSteps * config.maxWidth, Math.floor(session.contextSize / 2));
  const prompt = fitPrefix(req.prompt, session.contextSize - room, (text) => loaded.model.promptTokens(text).length);
  const g = await generateCompletionPaths(session, inlineTruncationTarget(prompt, req.language), config, req.pathCap, signal);
  if (!g) {
    send({ type: "completed", id: req.id, result: null });
    return;
  }
  send({
    type: "completed",
    id: req.id,
    result: {
      alternatives: distinctAlternatives(g.paths, req.maxAlternatives),
      totalPaths: Number.isFinite(g.totalPaths) ? g.totalPaths : null,
      promptChars: prompt.length, steps: g.steps, forwardPasses: g.forwardPasses, generateMs: g.generateMs, stopReason: g.stopReason,
      config: { ...config }, modelSha256: await sha256,
    },
  });
}

/**
 * The completion experiment, baselines too, with the CLI's defaults: bad input (task file, limit,
 * a baseline's setting) fails before the model loads; the files go to a new folder under outRoot,
 * each finished unit at once, so a cancelled or killed run keeps what it finished (partial).
 */
async function runExperiment(req: Extract<HostRequest, { type: "experiment" }>, signal: AbortSignal): Promise<void> {
  const loaded = await loadModel(req.id, req.engine);
  // The experiment file the settings dialog showed, resolved as tempo eval resolves it and
  // stored first in the folder (as tempo eval does), so tempo run reruns it.
  const prepared = await prepareOnOpenModel(evalExperimentFile(req.engine, req.spec), loaded.model, "eval");
  const { tasks, source } = prepared;
  const settings = evalSettingsOf(prepared.resolved.eval);
  const session = sessionFor(loaded, req.engine, Math.max(...settings.arms.map((arm) => armConfig(settings, arm).maxWidth)));
  send({ type: "modelLoaded", id: req.id, model: summary(loaded, session) });
  // The stored file says how many units share a decode (the layout): run exactly that, as tempo run would.
  const { batchPrompts } = prepared.resolved.eval;
  const engine = batchPrompts > 1
    ? new SessionGroup(loaded.model, batchPrompts, { lanes: session.lanes, contextSize: req.engine.contextSize > 0 ? req.engine.contextSize : undefined, flashAttention: req.engine.flashAttention, threads: threadsOption(req.engine) })
    : session;
  try {
    const meta = await evalMeta(engine, source, tasks.length, req.spec.limit ?? null);
    mkdirSync(req.outRoot, { recursive: true });
    const dir = mkdtempSync(join(req.outRoot, `eval-${new Date().toISOString().replace(/[-:.]/g, "")}-`));
    storeExperiment(dir, prepared.resolved);
    const { run, summary: results } = await runEvalIntoFolder(dir, { session: engine, tasks, settings, signal, onProgress: (progress) => send({ type: "experimentProgress", id: req.id, progress }) }, meta);
    send({ type: "experimentDone", id: req.id, view: experimentView(run, results, tasks, { dir, source, model: loaded.model.info.fileName }) });
  } finally {
    if (engine !== session) engine.dispose();
  }
}

async function runDownload(req: Extract<HostRequest, { type: "download" }>, signal: AbortSignal): Promise<void> {
  let lastSent = 0;
  send({ type: "progress", id: req.id, phase: "download", message: "connecting" });
  const path = await downloadModelFile(req.uri, req.dirPath, {
    signal,
    huggingFaceEndpoint: req.huggingFaceEndpoint,
    onProgress: (downloadedSize, totalSize) => {
      const now = Date.now();
      if (now - lastSent < 250 && downloadedSize < totalSize) return;
      lastSent = now;
      const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
      send({
        type: "progress", id: req.id, phase: "download", message: `${mb(downloadedSize)} / ${mb(totalSize)} MiB`,
        fraction: totalSize > 0 ? Math.min(1, downloadedSize / totalSize) : undefined,
      });
    },
  });
  send({ type: "downloaded", id: req.id, path });
}

function reportError(id: number, e: unknown): void {
  if (e instanceof TempoInputError) send({ type: "error", id, kind: "input", message: e.message });
  else send({ type: "error", id, kind: "internal", message: (e as Error)?.message ?? String(e), detail: (e as Error)?.stack });
}

/** Runs `job` with a signal that a "cancel" request naming `id` fires; its error is reported for `id`. */
function cancellable(id: number, job: (signal: AbortSignal) => Promise<void>): void {
  const controller = new AbortController();
  // handle() refuses an id in flight before this: a second entry would take over the first's cancel.
  controllers.set(id, controller);
  void job(controller.signal)
    .catch((e: unknown) => reportError(id, e))
    .finally(() => controllers.delete(id));
}

/** A cancellable job queued behind the other requests for the same model. */
function queueCancellable(req: { id: number; engine: EngineOptions }, job: (signal: AbortSignal) => Promise<void>): void {
  cancellable(req.id, (signal) => enqueue(modelKey(req.engine), () => job(signal)));
}

function handle(req: HostRequest): void {
  switch (req.type) {
    case "loadModel":
      // Cancellable only to be tracked as in flight: a load itself does not stop midway.
      queueCancellable(req, async () => {
        const loaded = await loadModel(req.id, req.engine);
        send({ type: "modelLoaded", id: req.id, model: summary(loaded, loaded.session) });
      });
      break;
    case "generate":
      queueCancellable(req, (signal) => runGenerate(req, signal));
      break;
    case "compare":
      queueCancellable(req, (signal) => runCompare(req, signal));
      break;
    case "experiment":
      queueCancellable(req, (signal) => runExperiment(req, signal));
      break;
    case "complete":
      queueCancellable(req, (signal) => runComplete(req, signal));
      break;
    case "download":
      // Not queued behind a model: a download does not touch the engine.
      cancellable(req.id, (signal) => runDownload(req, signal));
      break;
    case "cancel":
      // Unknown targets (already finished) are fine: cancel is idempotent.
      controllers.get(req.target)?.abort();
      send({ type: "cancelled", id: req.id });
      break;
  }
}


process.on("message", (raw: unknown) => {
  const parsed = parseHostRequest(raw);
  if (!parsed.ok) {
    const id = typeof (raw as { id?: unknown })?.id === "number" ? (raw as { id: number }).id : 0;
    send({ type: "error", id, kind: "internal", message: `engine host: invalid request (${parsed.error})` });
    return;
  }
  const req = parsed.value;
  // Two runs under one id would interleave their events into one request on the client's side.
  if (controllers.has(req.id)) {
    send({ type: "error", id: req.id, kind: "internal", message: `engine host: request id ${req.id} is already in flight; this ${req.type} request was refused` });
    return;
  }
  handle(req);
});
// The extension went away (window closed, extension host crashed): nothing left to serve.
process.on("disconnect", () => process.exit(0));
send({ type: "hello", pid: process.pid, node: process.version });
