// The extension's side of the engine host: forks dist/engine-host.js on first use, matches
// events to requests by the protocol's REQUEST_EVENTS, and turns a dead child into a rejected
// request instead of a hang; so does a child that stays silent past a deadline it announced
// (it is killed). Ids are never reused, across restarts too. Plain
// Node (no vscode import) so it is testable outside VS Code.
import { fork, type ChildProcess } from "node:child_process";
import {
  parseHostEvent,
  REQUEST_EVENTS,
  type FinalEvent,
  type HostEvent,
  type HostRequest,
  type RequestBody,
  type RequestType,
  type StreamedEvent,
} from "../protocol/engine.js";
import { nativeDeathCause } from "../engine/llama/native-failure.js";

/** Enough of the host's stderr to hold llama.cpp's abort message and what follows it. */
const NATIVE_TAIL_CHARS = 16 * 1024;

/** The child died while requests were in flight (native abort, OOM kill, ...). */
export class EngineCrashedError extends Error {
  constructor(readonly exit: string) {
    super(`The TEMPO engine process stopped unexpectedly (${exit}). Results received so far are kept; the engine restarts on the next request.`);
  }
}

/**
 * The host went silent past a deadline it announced (a progress event's `deadlineMs`): its event
 * loop is held by JavaScript that cancel cannot reach, so the client killed it; the next request
 * starts a fresh one.
 */
export class EngineUnresponsiveError extends EngineCrashedError {
  constructor(what: string, deadlineMs: number) {
    super("killed: no answer");
    this.message = `The TEMPO engine stopped answering for ${deadlineMs / 1000} s while ${what}; it was stopped, and the next request starts a fresh engine.`;
  }
}

/** An error the engine reported for one request; `kind: "input"` is the user's to fix. */
export class EngineRequestError extends Error {
  constructor(message: string, readonly kind: "input" | "internal", readonly detail?: string) {
    super(message);
  }
}

/** A request in flight: `settle` takes each of its events until the final one (or an error). */
interface Pending {
  settle(event: HostEvent): void;
  reject(error: Error): void;
  /** Armed by a progress event with a deadline; any later event from the host re-arms or clears it. */
  watchdog?: { timer: NodeJS.Timeout; what: string; ms: number };
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

/** The same request, its result mapped (an event to the part of it callers want). */
export function mapHandle<T, U>(handle: Handle<T>, f: (value: T) => U): Handle<U> {
  return { id: handle.id, result: handle.result.then(f), cancel: handle.cancel };
}

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
    let nativeTail = ""; // what llama.cpp said before an abort: the crash message names it
    child.stderr?.on("data", (d: Buffer) => {
      const text = d.toString();
      nativeTail = (nativeTail + text).slice(-NATIVE_TAIL_CHARS);
      this.log.warn(`engine: ${text.trimEnd()}`);
    });
    child.on("message", (raw: unknown) => this.onMessage(raw));
    child.on("error", (e) => this.log.error(`engine host: ${e.message}`));
    // "close", not "exit": by then all of stderr has been read.
    child.on("close", (code, signal) => this.onExit(child, code, signal, nativeTail));
    return child;
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, nativeTail: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    const exit = signal ? nativeDeathCause(signal, nativeTail) : `exit code ${code}`;
    if (this.disposed) return;
    this.log.error(`engine host pid ${child.pid} stopped (${exit}) with ${this.pending.size} request(s) in flight`);
    this.failAll(new EngineCrashedError(exit));
  }

  /** The child is gone (or being killed): everything in flight fails with `error`. */
  private failAll(error: EngineCrashedError): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.watchdog?.timer);
      p.reject(error);
    }
    for (const l of this.crashListeners) l(error);
  }

  /** A deadline passed with no word from the child: SIGKILL, since its event loop cannot run a handler. */
  private unresponsive(what: string, ms: number): void {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    this.log.error(`engine host pid ${child.pid} sent nothing for ${ms} ms while ${what}; killing it`);
    child.kill("SIGKILL");
    this.failAll(new EngineUnresponsiveError(what, ms));
  }

  private arm(p: Pending, what: string, ms: number): void {
    clearTimeout(p.watchdog?.timer);
    p.watchdog = { timer: setTimeout(() => this.unresponsive(what, ms), ms), what, ms };
  }

  /** Any message shows the child's event loop runs: every armed deadline starts again. */
  private heard(): void {
    for (const p of this.pending.values()) if (p.watchdog) this.arm(p, p.watchdog.what, p.watchdog.ms);
  }

  private onMessage(raw: unknown): void {
    const parsed = parseHostEvent(raw);
    if (!parsed.ok) {
      this.log.error(`engine host sent an invalid message (${parsed.error}); dropped`);
      return;
    }
    const event = parsed.value;
    this.heard();
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
    clearTimeout(p.watchdog?.timer);
    p.watchdog = undefined;
    if (event.type === "progress" && event.deadlineMs !== undefined) this.arm(p, event.message, event.deadlineMs);
    if (event.type === "error") {
      this.pending.delete(event.id);
      if (event.detail) this.log.error(event.detail);
      p.reject(new EngineRequestError(event.message, event.kind, event.detail));
      return;
    }
    p.settle(event);
  }

  /**
   * Sends a request; its result is the event that ends it (REQUEST_EVENTS), and `onEvent` gets the
   * events it streams before that. An "error" event rejects it (EngineRequestError), and so does
   * the child's death (EngineCrashedError); an event the map does not allow is logged and dropped.
   */
  request<T extends Exclude<RequestType, "cancel">>(type: T, body: RequestBody<T>, onEvent?: (event: StreamedEvent<T>) => void): Handle<FinalEvent<T>> {
    const child = this.ensureChild();
    const id = this.nextId++;
    const answers = REQUEST_EVENTS[type];
    const isFinal = (e: HostEvent): e is FinalEvent<T> => e.type === answers.final;
    const isStreamed = (e: HostEvent): e is StreamedEvent<T> => (answers.streamed as readonly string[]).includes(e.type);
    const result = new Promise<FinalEvent<T>>((resolve, reject) => {
      this.pending.set(id, {
        settle: (event) => {
          if (isFinal(event)) {
            this.pending.delete(id);
            resolve(event);
          } else if (isStreamed(event)) {
            onEvent?.(event);
          } else {
            this.log.warn(`engine host sent "${event.type}" for a ${type} request (id ${id}); dropped`);
          }
        },
        reject,
      });
      // A T request's body with its type and id: that request (RequestBody<T>).
      child.send({ ...body, type, id }, (err) => {
        if (err && this.pending.delete(id)) reject(new EngineCrashedError(`could not send a request: ${err.message}`));
      });
    });
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
    for (const p of this.pending.values()) {
      clearTimeout(p.watchdog?.timer);
      p.reject(new Error("the engine client was disposed"));
    }
    this.pending.clear();
    child?.kill();
  }
}
