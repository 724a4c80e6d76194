/**
 * Runs StepAnalyser jobs on worker threads, so a comparison's per-step divergence work (three
 * softmaxes and two full-vocabulary comparisons, ~2 ms per 32k step on one core) overlaps the
 * replays' decoding and spreads over the cores. Results reach `onResult` in submission order.
 *
 *   const pool = new StepAnalysisPool({ ...collector.analysisOptions, workers: 2, onResult: (a) => collector.add(a) });
 *   try { for (...) await pool.submit(job); await pool.finish(); } finally { await pool.close(); }
 *
 * `submit` waits while 2 jobs per worker are queued (and while as many finished ones wait for an
 * earlier step), so memory stays bounded however fast the caller produces steps. With
 * `workers: 0` every job runs inline, inside `submit`. One caller at a time: steps are numbered
 * in the order `submit` is called.
 *
 * A finished pool's workers wait (unreferenced: they keep no process alive) for the next pool:
 * a fresh worker takes ~0.2 s to start and ~0.4 s more of its first steps to reach full speed
 * (V8 compiles the loops as they run), which a second comparison in the same process skips.
 */
import { existsSync } from "node:fs";
import * as os from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { slotViews, StepAnalyser, type StepAnalysis, type StepAnalysisOptions, type StepJob } from "./step-analysis.js";
import type { WorkerReply, WorkerRequest } from "./step-analysis-worker.js";

export interface StepAnalysisPoolOptions extends StepAnalysisOptions {
  /** Worker threads; 0 analyses inline. */
  workers: number;
  onResult: (a: StepAnalysis) => void;
}

/** Steps x vocabulary below which a cold pool costs more than it saves (~250 steps of 32k). */
const MIN_POOLED_TOKEN_STEPS = 8_000_000;

/** The most workers workersFor gives a comparison (and keeps waiting between pools). */
const MAX_WORKERS = 4;

/** Jobs queued per worker before `submit` waits: one running, one ready to start. */
const QUEUE_PER_WORKER = 2;

/**
 * A worker and its input slots: the step's vectors go through memory shared with the worker,
 * QUEUE_PER_WORKER slots of three vocabulary-long float64 rows. A message would copy them into
 * fresh 256 KB arrays on the worker's side each step, and allocating that size costs more than
 * the copy (glibc maps and faults in new pages each time): ~1 ms per step, measured.
 */
interface Lane {
  worker: Worker;
  /** slots[slot][row]: P, Q, nullAlt. */
  slots: Float64Array[][];
  free: number[];
  /** Slot of each step in flight on this worker. */
  slotOf: Map<number, number>;
}

export class StepAnalysisPool {
  private readonly lanes: Lane[] = [];
  private readonly inline?: StepAnalyser;
  /** Set by the first step: every step of a pool has the same vocabulary. */
  private vocab?: number;
  /** Finished out of order, waiting for the earlier ones. */
  private readonly finished = new Map<number, StepAnalysis>();
  private submitted = 0;
  private delivered = 0;
  private failure?: Error;
  private closed = false;
  /** Callers waiting for a result or a failure. */
  private waiting: (() => void)[] = [];

  /**
   * Workers for a comparison of `steps` steps over `vocab` tokens whose replays keep up to
   * `decodeThreads` CPU threads busy decoding at once: one per core those leave free, at most four. None when they
   * leave none (llama.cpp's threads wait on each other at every barrier once a core is taken:
   * a 300-step comparison on a 32k model took 24-25 s with two workers beside two decode
   * threads on two cores, 20.5 s inline), and none when the divergence work (~55 ns per token
   * and step on one core) is less than starting the workers costs (~0.6 s of a core with V8
   * compiling their loops; more from source, where each loads tsx), unless warm ones wait.
   */
  static workersFor(steps: number, vocab: number, decodeThreads: number): number {
    const free = Math.min(MAX_WORKERS, os.availableParallelism() - decodeThreads);
    if (free < 1) return 0;
    if (idleWorkers.length === 0 && steps * vocab < MIN_POOLED_TOKEN_STEPS) return 0;
    return free;
  }

  constructor(private readonly o: StepAnalysisPoolOptions) {
    if (!Number.isInteger(o.workers) || o.workers < 0) throw new RangeError(`analysis workers must be a whole number >= 0, got ${o.workers}`);
    const options: StepAnalysisOptions = { ks: o.ks, nullSide: o.nullSide, temperature: o.temperature, rows: o.rows };
    if (o.workers === 0) this.inline = new StepAnalyser(options);
    for (let w = 0; w < o.workers; w++) {
      const worker = idleWorkers.pop() ?? startWorker();
      worker.ref();
      worker.on("message", (m: WorkerReply) => this.receive(this.lanes[w], m));
      worker.on("error", (e) => this.fail(e));
      worker.on("exit", (code) => this.fail(new Error(`divergence worker stopped (exit code ${code})`)));
      worker.on("messageerror", (e) => this.fail(e));
      worker.postMessage({ options } satisfies WorkerRequest);
      this.lanes.push({ worker, slots: [], free: [], slotOf: new Map() });
    }
  }

  /** Queue one step; returns once it is queued (or, inline, analysed and delivered). */
  async submit(job: StepJob): Promise<void> {
    this.check();
    if (this.inline) {
      this.submitted++;
      this.o.onResult(this.inline.analyse(job));
      this.delivered++;
      return;
    }
    const n = job.p.length;
    this.vocab ??= this.share(n);
    for (const v of [job.q, job.nullAlt]) {
      if (v && v.length !== n) throw new RangeError(`step analysis: vectors of ${n} and ${v.length} in one step`);
    }
    if (n !== this.vocab) throw new RangeError(`step analysis: a step over ${n} tokens in a comparison over ${this.vocab}`);
    let lane: Lane | undefined;
    while (!(lane = this.laneWithRoom())) await this.nextWake();
    const slot = lane.free.pop()!;
    const rows = lane.slots[slot];
    rows[0].set(job.p);
    rows[1].set(job.q);
    if (job.nullAlt) rows[2].set(job.nullAlt);
    const seq = this.submitted++;
    lane.slotOf.set(seq, slot);
    lane.worker.postMessage({ seq, slot, step: job.step, input: job.input, withNull: job.nullAlt !== undefined } satisfies WorkerRequest);
  }

  /**
   * The least busy worker with a free slot, unless results already wait for an earlier step
   * (a slow one on another worker) as many as there are slots: those wait for it too.
   */
  private laneWithRoom(): Lane | undefined {
    if (this.submitted - this.delivered >= 2 * QUEUE_PER_WORKER * this.lanes.length) return undefined;
    let best: Lane | undefined;
    for (const lane of this.lanes) if (lane.free.length > 0 && (!best || lane.free.length > best.free.length)) best = lane;
    return best;
  }

  /** Give every worker its input slots for vectors of `vocab` tokens. */
  private share(vocab: number): number {
    for (const lane of this.lanes) {
      const buffer = new SharedArrayBuffer(QUEUE_PER_WORKER * 3 * vocab * Float64Array.BYTES_PER_ELEMENT);
      lane.slots = slotViews(buffer, vocab, QUEUE_PER_WORKER);
      lane.free = lane.slots.map((_, s) => s);
      lane.worker.postMessage({ buffer, vocab, slots: QUEUE_PER_WORKER } satisfies WorkerRequest);
    }
    return vocab;
  }

  /** Wait until every submitted step is delivered; the workers then wait for the next pool. */
  async finish(): Promise<void> {
    while (this.delivered < this.submitted) await this.nextWake();
    await this.close();
  }

  /**
   * Let the workers go (idempotent). Idle ones wait for the next pool; any with a step still
   * running (a cancelled or failed comparison) are stopped, so no stale result reaches a later pool.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.wake(); // a submit or finish waiting for room or results fails now instead of never
    const workers = this.lanes.splice(0).map((l) => l.worker);
    const busy = this.failure !== undefined || this.delivered < this.submitted;
    for (const w of workers) {
      for (const event of ["message", "messageerror", "error", "exit"]) w.removeAllListeners(event);
      w.on("error", () => {}).on("exit", () => forget(w)); // an idle worker's end is nobody's failure
    }
    // Idle workers beyond what workersFor ever asks for would only hold memory.
    const keep = busy ? [] : workers.slice(0, Math.max(0, MAX_WORKERS - idleWorkers.length));
    for (const w of keep) w.unref();
    idleWorkers.push(...keep);
    await Promise.all(workers.filter((w) => !keep.includes(w)).map((w) => w.terminate()));
  }

  private nextWake(): Promise<void> {
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.check());
  }

  private wake(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error("step analysis: the pool is closed");
  }

  private receive(lane: Lane, m: WorkerReply): void {
    lane.free.push(lane.slotOf.get(m.seq)!);
    lane.slotOf.delete(m.seq);
    if (this.failure) return; // a failed comparison takes no more results
    if ("error" in m) {
      const e = m.error.name === "RangeError" ? new RangeError(m.error.message) : new Error(m.error.message);
      if (m.error.stack) e.stack = m.error.stack; // where it went wrong: in the worker
      this.fail(e);
      return;
    }
    this.finished.set(m.seq, m.result);
    for (let a = this.finished.get(this.delivered); a; a = this.finished.get(this.delivered)) {
      this.finished.delete(this.delivered);
      this.delivered++;
      try {
        this.o.onResult(a);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
    }
    this.wake();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }
}

/** Workers of finished pools, warm, waiting for the next one. */
const idleWorkers: Worker[] = [];

function forget(w: Worker): void {
  const i = idleWorkers.indexOf(w);
  if (i >= 0) idleWorkers.splice(i, 1);
}

/**
 * The worker runs step-analysis-worker beside this module: the .js one esbuild emits next to
 * the bundle that contains this code (dist/), or, from source (tsx, mocha), the .ts one
 * through step-analysis-worker-tsx.mjs, which registers tsx's loader in the new thread first.
 */
function startWorker(): Worker {
  const fromSource = import.meta.url.endsWith(".ts");
  const url = new URL(fromSource ? "./step-analysis-worker.ts" : "./step-analysis-worker.js", import.meta.url);
  if (!existsSync(url)) throw new Error(`the divergence worker ${fileURLToPath(url)} is missing: rebuild with \`npm run build\`, or reinstall`);
  if (!fromSource) return new Worker(url);
  return new Worker(new URL("./step-analysis-worker-tsx.mjs", import.meta.url), { workerData: { entry: url.href } });
}
