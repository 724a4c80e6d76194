// The extension's side of the engine host: forks dist/engine-host.js on first use, matches
// events to requests, and turns a dead child into a rejected request instead of a hang. Plain
// Node (no vscode import) so it is testable outside VS Code.
import { fork, type ChildProcess } from "node:child_process";
import {
  parseHostEvent,
  type CompletionRequest,
  type CompletionResult,
  type DownloadRequest,
  type EngineOptions,
  type GenerationSettings,
  type HostEvent,
  type HostRequest,
  type ModelSummary,
  type PromptOptions,
  type RenderedPrompt,
  type RunSummary,
  type StepEventMessage,
} from "../protocol/engine.js";
import type { ExperimentProgress, ExperimentSpec, ExperimentView } from "../protocol/experiment.js";

/** The child died while requests were in flight (native abort, OOM kill, ...). */
export class EngineCrashedError extends Error {
  constructor(readonly exit: string) {
    super(`The TEMPO engine process stopped unexpectedly (${exit}). Results received so far are kept; the engine restarts on the next request.`);
  }
}

/** An error the engine reported for one request; `kind: "input"` is the user's to fix. */
export class EngineRequestError extends Error {
  constructor(message: string, readonly kind: "input" | "internal", readonly detail?: string) {
    super(message);
  }
}

export interface RequestHandlers {
  onProgress?(phase: string, message: string, fraction?: number): void;
  onModel?(model: ModelSummary): void;
  onSteps?(steps: StepEventMessage[]): void;
  /** A generate's prompt as the engine fed it (before its first step). */
  onPrompt?(prompt: RenderedPrompt): void;
  /** An experiment finished one more task × arm unit. */
  onExperimentProgress?(progress: ExperimentProgress): void;
}

interface Pending extends RequestHandlers {
  resolve(event: HostEvent): void;
  reject(error: Error): void;
}

export interface EngineLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface Handle<T> {
  readonly id: number;
  readonly result: Promise<T>;
  cancel(): void;
}
export type RunHandle = Handle<RunSummary>;
export type CompareOutcome = Omit<Extract<HostEvent, { type: "compared" }>, "type" | "id">;

export class EngineClient {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly crashListeners = new Set<(error: EngineCrashedError) => void>();
  private disposed = false;
  /** Children started so far (1 after the first request, 2 after one restart, ...). */
  starts = 0;

  constructor(private readonly entry: string, private readonly log: EngineLog) {}

  /** The running child's pid, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  onCrash(listener: (error: EngineCrashedError) => void): { dispose(): void } {
    this.crashListeners.add(listener);
    return { dispose: () => this.crashListeners.delete(listener) };
  }

  private ensureChild(): ChildProcess {
    if (this.disposed) throw new Error("the engine client is disposed");
    if (this.child) return this.child;
    // execArgv []: never inherit the extension host's inspector flags. ELECTRON_RUN_AS_NODE
    // makes a desktop VS Code's Electron binary behave as Node (no-op under code-server).
    const child = fork(this.entry, [], {
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
    });
    this.starts++;
    this.child = child;
    this.log.info(`engine host started (pid ${child.pid})`);
    child.stdout?.on("data", (d: Buffer) => this.log.info(`engine: ${d.toString().trimEnd()}`));
    child.stderr?.on("data", (d: Buffer) => this.log.warn(`engine: ${d.toString().trimEnd()}`));
    child.on("message", (raw: unknown) => this.onMessage(raw));
    child.on("error", (e) => this.log.error(`engine host: ${e.message}`));
    child.on("exit", (code, signal) => this.onExit(child, code, signal));
    return child;
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    const exit = signal ? `signal ${signal}` : `exit code ${code}`;
    if (this.disposed) return;
    this.log.error(`engine host pid ${child.pid} stopped (${exit}) with ${this.pending.size} request(s) in flight`);
    const error = new EngineCrashedError(exit);
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
    for (const l of this.crashListeners) l(error);
  }

  private onMessage(raw: unknown): void {
    const parsed = parseHostEvent(raw);
    if (!parsed.ok) {
      this.log.error(`engine host sent an invalid message (${parsed.error}); dropped`);
      return;
    }
    const event = parsed.value;
    switch (event.type) {
      case "hello":
        this.log.info(`engine host ready (pid ${event.pid}, Node ${event.node})`);
        return;
      case "log":
        this.log[event.level](`engine: ${event.message}`);
        return;
    }
    const p = this.pending.get(event.id);
    if (!p) return; // a late event for a request that already ended
    switch (event.type) {
      case "progress":
        p.onProgress?.(event.phase, event.message, event.fraction);
        return;
      case "modelLoaded":
        p.onModel?.(event.model);
        // Settles a loadModel request; a generate goes on (its settle waits for "done").
        p.resolve(event);
        return;
      case "steps":
        p.onSteps?.(event.steps);
        return;
      case "experimentProgress":
        p.onExperimentProgress?.(event.progress);
        return;
      case "promptRendered":
        p.onPrompt?.(event.prompt);
        return;
      case "error":
        this.pending.delete(event.id);
        if (event.detail) this.log.error(event.detail);
        p.reject(new EngineRequestError(event.message, event.kind, event.detail));
        return;
      default:
        this.pending.delete(event.id);
        p.resolve(event);
    }
  }

  private send(request: HostRequest, handlers: RequestHandlers, settle: (event: HostEvent) => boolean): Promise<HostEvent> {
    const child = this.ensureChild();
    return new Promise<HostEvent>((resolve, reject) => {
      this.pending.set(request.id, {
        ...handlers,
        resolve: (event) => {
          if (!settle(event)) return;
          this.pending.delete(request.id);
          resolve(event);
        },
        reject,
      });
      child.send(request, (err) => {
        if (err && this.pending.delete(request.id)) reject(new EngineCrashedError(`could not send a request: ${err.message}`));
      });
    });
  }

  loadModel(engine: EngineOptions, handlers: RequestHandlers = {}): Promise<ModelSummary> {
    const id = this.nextId++;
    return this.send({ type: "loadModel", id, engine }, handlers, (e) => e.type === "modelLoaded").then((e) => (e as Extract<HostEvent, { type: "modelLoaded" }>).model);
  }

  generate(engine: EngineOptions, prompt: string, settings: GenerationSettings, handlers: RequestHandlers = {}, captureRoot?: string, promptOptions: PromptOptions = {}): RunHandle {
    const id = this.nextId++;
    const result = this.send({ type: "generate", id, engine, prompt, settings, ...promptOptions, ...(captureRoot ? { captureRoot } : {}) }, handlers, (e) => e.type === "done").then(
      (e) => (e as Extract<HostEvent, { type: "done" }>).run,
    );
    return { id, result, cancel: () => this.cancel(id) };
  }

  /** Isolated vs visible with the null baseline (the engine's compareModes); steps of the isolated run stream first. */
  compare(engine: EngineOptions, prompt: string, settings: GenerationSettings, captureRoot: string, handlers: RequestHandlers = {}): Handle<CompareOutcome> {
    const id = this.nextId++;
    const result = this.send({ type: "compare", id, engine, prompt, settings, captureRoot }, handlers, (e) => e.type === "compared").then((e) => {
      const c = e as Extract<HostEvent, { type: "compared" }>;
      return { captureDir: c.captureDir, reportHtml: c.reportHtml, js: c.js, meanJs: c.meanJs, nullMeanJs: c.nullMeanJs };
    });
    return { id, result, cancel: () => this.cancel(id) };
  }

  /** The completion experiment; its files go into a new folder under `outRoot`. Cancelled, it resolves with the partial results. */
  experiment(engine: EngineOptions, spec: ExperimentSpec, outRoot: string, handlers: RequestHandlers = {}): Handle<ExperimentView> {
    const id = this.nextId++;
    const result = this.send({ type: "experiment", id, engine, spec, outRoot }, handlers, (e) => e.type === "experimentDone").then(
      (e) => (e as Extract<HostEvent, { type: "experimentDone" }>).view,
    );
    return { id, result, cancel: () => this.cancel(id) };
  }

  /** A TEMPO run turned into its distinct completions (inline completions); null when cancelled. */
  complete(engine: EngineOptions, request: CompletionRequest, handlers: RequestHandlers = {}): Handle<CompletionResult | null> {
    const id = this.nextId++;
    const result = this.send({ type: "complete", id, engine, ...request }, handlers, (e) => e.type === "completed").then(
      (e) => (e as Extract<HostEvent, { type: "completed" }>).result,
    );
    return { id, result, cancel: () => this.cancel(id) };
  }

  /** Downloads a model into `request.dirPath`; resolves with the downloaded file's path. */
  download(request: DownloadRequest, handlers: RequestHandlers = {}): Handle<string> {
    const id = this.nextId++;
    const result = this.send({ type: "download", id, ...request }, handlers, (e) => e.type === "downloaded").then(
      (e) => (e as Extract<HostEvent, { type: "downloaded" }>).path,
    );
    return { id, result, cancel: () => this.cancel(id) };
  }

  /** Immediate: the child aborts between two steps; a run then ends with "aborted". */
  private cancel(target: number): void {
    if (this.child && this.pending.has(target)) this.child.send({ type: "cancel", id: this.nextId++, target } satisfies HostRequest);
  }

  /** Stops the child (used on deactivate and by "restart" paths). */
  dispose(): void {
    this.disposed = true;
    const child = this.child;
    this.child = undefined;
    for (const p of this.pending.values()) p.reject(new Error("the engine client was disposed"));
    this.pending.clear();
    child?.kill();
  }
}
