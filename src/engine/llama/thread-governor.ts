/**
 * Automatic decode threads. llama.cpp's CPU threads spin at every graph barrier, so a thread
 * that another process takes off its core stalls all the others until it runs again: on this
 * project's 2-core machine, with both cores busy elsewhere, 2 threads generated 16 steps/s on
 * the demo model where 1 thread generated 369. The governor measures how many cores OTHER
 * processes keep busy (every core's busy time minus this process's own CPU time, over the last
 * window) and decodes with the cores they leave, at least one and at most its maximum. It
 * re-measures between decodes, at most once per window. Thread counts do not change llama.cpp's
 * CPU results (each output element is reduced by one thread; thread-governor.test.ts checks the steps
 * bit for bit), so only speed depends on the choice.
 */
import { availableParallelism, cpus } from "node:os";
import { performance } from "node:perf_hooks";

/** Cumulative CPU counters, in milliseconds. */
export interface CpuSample {
  /** Monotonic wall clock. */
  wallMs: number;
  /** Busy time of every core, summed (all processes, this one included). */
  busyMs: number;
  /** CPU time of this process (all its threads). */
  ownMs: number;
}
export type CpuSampler = () => CpuSample;

/**
 * Shortest window the busy cores are measured over: os.cpus() counts 10 ms ticks, so on 2 cores
 * a count is within 0.1 core, well inside the half core that rounding to threads leaves.
 */
export const THREAD_WINDOW_MS = 200;
/** A window longer than this measured an idle past (between runs), not now: it starts a new one. */
export const STALE_WINDOW_MS = 5000;

export function readCpuSample(): CpuSample {
  let busyMs = 0;
  for (const { times } of cpus()) busyMs += times.user + times.nice + times.sys + times.irq;
  const own = process.cpuUsage();
  return { wallMs: performance.now(), busyMs, ownMs: (own.user + own.system) / 1000 };
}

/** The threads left for decoding when other processes keep `othersBusy` of `cores` cores busy. */
export function threadsLeft(max: number, cores: number, othersBusy: number): number {
  return Math.min(max, Math.max(1, Math.round(cores - othersBusy)));
}

/**
 * How many cores other processes keep busy, over the latest window of at least
 * THREAD_WINDOW_MS. One per process, so that the first window starts when the engine loads,
 * not when a session first decodes.
 */
export class MachineLoad {
  private last: CpuSample;
  private estimate: number | undefined;

  /**
   * `cores`: the cores os.cpus() counts. Where that is not the cores this process may use (a
   * container limited below the host's CPUs) other tenants' busy time would count against us:
   * `machineLoad()` is then undefined and sessions keep their maximum.
   */
  constructor(readonly cores: number, private readonly sample: CpuSampler = readCpuSample) {
    this.last = sample();
  }

  /** Cores busy elsewhere in the latest window; undefined until one has been measured. */
  othersBusy(): number | undefined {
    const now = this.sample();
    const wall = now.wallMs - this.last.wallMs;
    if (wall < THREAD_WINDOW_MS) return this.estimate;
    if (wall <= STALE_WINDOW_MS) this.estimate = Math.max(0, (now.busyMs - this.last.busyMs) - (now.ownMs - this.last.ownMs)) / wall;
    this.last = now;
    return this.estimate;
  }
}

const cores = cpus().length;
const processLoad = cores > 0 && cores === availableParallelism() ? new MachineLoad(cores) : undefined;

/** Chooses a session's threads before each decode: the cores `load` finds idle, at least one, at most `max`. */
export class ThreadGovernor {
  private current: number;

  constructor(readonly max: number, private readonly load: MachineLoad) {
    this.current = max;
  }

  /** Threads the last decode was given. */
  get threads(): number { return this.current; }

  /**
   * Threads for the next decode. Before the first window is measured: one core fewer than the
   * maximum, as a thread too few costs a fraction of a step where a thread too many on a busy
   * machine costs steps many times over.
   */
  next(): number {
    const others = this.load.othersBusy();
    this.current = others === undefined ? Math.max(1, this.max - 1) : threadsLeft(this.max, this.load.cores, others);
    return this.current;
  }
}

/** A governor over this machine's load, or undefined where os.cpus() counts cores this process cannot use. */
export function governorFor(max: number): ThreadGovernor | undefined {
  return processLoad && new ThreadGovernor(max, processLoad);
}
