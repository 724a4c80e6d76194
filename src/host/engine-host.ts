// The engine host: a child process forked by the extension (dist/engine-host.js). It owns the
// models, sessions and captures, so a native abort in llama.cpp kills this process only, never
// VS Code's extension host. Requests arrive over the IPC channel and are validated first.
import { performance } from "node:perf_hooks";
import { TempoInputError, TempoModel } from "../engine/model.js";
import { DEFAULT_LANES, TempoSession } from "../engine/session.js";
import { resolveConfig } from "../engine/tempo/config.js";
import { generate } from "../engine/tempo/generate.js";
import { CaptureRecorder } from "../engine/capture/recorder.js";
import { captureInfoFor } from "../engine/capture/run-info.js";
import type { GenerationConfig, GenerationResult, StepEvent } from "../engine/types.js";
import { parseHostRequest, type EngineOptions, type HostEvent, type HostRequest } from "../protocol/engine.js";

/** Step events are sent in batches at most this often (the UI redraws per batch). */
const STEP_BATCH_MS = 25;

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

function sessionFor(loaded: LoadedModel, engine: EngineOptions, width: number): TempoSession {
  const lanes = Math.max(DEFAULT_LANES, width);
  const key = `${lanes}/${engine.contextSize}/${engine.flashAttention}`;
  if (!loaded.session || loaded.sessionKey !== key) {
    loaded.session?.dispose();
    loaded.session = undefined;
    loaded.session = new TempoSession(loaded.model, {
      lanes,
      contextSize: engine.contextSize > 0 ? engine.contextSize : undefined,
      flashAttention: engine.flashAttention,
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
  };
}

async function runGenerate(req: Extract<HostRequest, { type: "generate" }>, signal: AbortSignal): Promise<void> {
  const config: GenerationConfig = resolveConfig(req.settings as Partial<GenerationConfig>);
  const loaded = await loadModel(req.id, req.engine);
  const session = sessionFor(loaded, req.engine, config.maxWidth);
  send({ type: "modelLoaded", id: req.id, model: summary(loaded, session) });
  const promptTokens = loaded.model.promptTokens(req.prompt);
  const recorder = req.captureRoot ? new CaptureRecorder(await captureInfoFor(session, config, { text: req.prompt, tokens: promptTokens })) : undefined;
  let logp: Float64Array | undefined;

  let pending: StepEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length) send({ type: "steps", id: req.id, steps: pending });
    pending = [];
  };

  const started = performance.now();
  const it = generate(session, {
    promptTokens, config, signal,
    onDistributions: recorder
      ? (index, _logits, next) => {
          // The recorder stores log-probabilities of the distribution after each set.
          if (!logp || logp.length !== next.length) logp = new Float64Array(next.length);
          for (let i = 0; i < next.length; i++) logp[i] = Math.log(next[i] > 0 ? next[i] : Number.MIN_VALUE);
          recorder.addLogits(index, logp, { isLogProbs: true });
        }
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
    pending.push(r.value);
    timer ??= setTimeout(flush, STEP_BATCH_MS);
  }
  flush();
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
      stepsPerSecond: seconds > 0 ? result.steps.length / seconds : 0, backend: loaded.model.runtime.backend, config: { ...config },
      ...(captureDir ? { captureDir } : {}),
    },
  });
}

function reportError(id: number, e: unknown): void {
  if (e instanceof TempoInputError) send({ type: "error", id, kind: "input", message: e.message });
  else send({ type: "error", id, kind: "internal", message: (e as Error)?.message ?? String(e), detail: (e as Error)?.stack });
}

function handle(req: HostRequest): void {
  switch (req.type) {
    case "loadModel":
      void enqueue(modelKey(req.engine), async () => {
        const loaded = await loadModel(req.id, req.engine);
        send({ type: "modelLoaded", id: req.id, model: summary(loaded, loaded.session) });
      }).catch((e: unknown) => reportError(req.id, e));
      break;
    case "generate": {
      const controller = new AbortController();
      controllers.set(req.id, controller);
      void enqueue(modelKey(req.engine), () => runGenerate(req, controller.signal))
        .catch((e: unknown) => reportError(req.id, e))
        .finally(() => controllers.delete(req.id));
      break;
    }
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
  handle(parsed.value);
});
// The extension went away (window closed, extension host crashed): nothing left to serve.
process.on("disconnect", () => process.exit(0));
send({ type: "hello", pid: process.pid, node: process.version });
