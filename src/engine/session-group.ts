/**
 * Several sessions on ONE llama context, so that a suite's prompts share each llama_decode: a
 * small model's step is bound by reading the weights, and one decode of eight prompts' rows
 * reads them once (docs/benchmarks.md, "Prompt suites in one decode").
 *
 * Each seat is a TempoSession with sequences of its own (main, lanes, scratch: the lane scheme
 * of lanes.ts shifted past the seats before it) and a share of the cells. No row of one seat
 * carries another seat's sequence ids, so no token sees another seat's: each seat computes what
 * a session of its own would, in another batch layout (the null baseline's kind of difference).
 *
 * Work runs in rounds: the cache is cleared, each seat runs one piece of work (a generation),
 * and every set a seat decodes waits until each seat still at work has submitted one; then all
 * of them go in one llama_decode. A seat never clears cells mid-round, because a unified cache
 * with holes would place the next rows out of batch-row order and the index table's cells
 * would be wrong.
 */
import { ContextFullError, TempoInputError } from "./errors.js";
import type { BatchRow } from "./llama/batch.js";
import { extraSeqIds, LLAMA_MAX_SEQ } from "./lanes.js";
import { TempoModel } from "./model.js";
import { checkedContextSize, ContextCore, DEFAULT_LANES, disposeContext, openContext, SessionOptions, startDecode, TempoSession } from "./session.js";

/** Most prompts one decode takes when none is asked for: 8 rows cost ~3.2x one on a 2-core CPU (docs/benchmarks.md). */
export const DEFAULT_BATCH_PROMPTS = 8;

/** Sequences one seat takes at `lanes`: main, the lanes, scratch. */
const seqsPerSeat = (lanes: number): number => extraSeqIds(lanes).scratch + 1;

/** The most seats llama.cpp's sequence ids allow at `lanes`. */
export const maxSeats = (lanes: number): number => Math.floor(LLAMA_MAX_SEQ / seqsPerSeat(lanes));

/**
 * Prompts per decode for a suite at width `lanes` whose items take `seatsPerItem` seats each
 * (a comparison: SEATS_PER_COMPARISON): the number asked for (checked), or DEFAULT_BATCH_PROMPTS
 * within what the sequences allow. 1 (one item per decode) is always allowed.
 */
export function batchPromptsFor(asked: number | undefined, lanes: number, seatsPerItem = 1): number {
  const most = Math.max(1, Math.floor(maxSeats(lanes) / seatsPerItem));
  if (asked === undefined) return Math.min(DEFAULT_BATCH_PROMPTS, most);
  if (!Number.isInteger(asked) || asked < 1 || asked > most) {
    throw new TempoInputError(`prompts per decode must be a whole number from 1 to ${most} (llama.cpp allows ${LLAMA_MAX_SEQ} sequences; each prompt takes ${seatsPerItem * seqsPerSeat(lanes)} at width ${lanes}), got ${asked}`);
  }
  return asked;
}

/** Options of a group: a session's, but neither attention capture nor pruning (both need a context of their own). */
export type GroupOptions = Omit<SessionOptions, "attentionLayers" | "pruneLookahead">;

interface Queued {
  work: (seat: TempoSession) => Promise<unknown>;
  solo: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Submission {
  rows: readonly BatchRow[];
  enter: (firstRow: number, call: number) => () => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class SessionGroup {
  readonly seats: readonly TempoSession[];
  private readonly core: ContextCore;
  private pending: Submission[] = [];
  /** Seats still at work in the running round. */
  private active = 0;
  private running = false;
  private readonly queue: Queued[] = [];
  private roundDue = false;

  /** `size` seats, each like `new TempoSession(model, options)` would be (its contextSize cells, its lanes). */
  constructor(readonly model: TempoModel, readonly size: number, options: GroupOptions = {}) {
    const lanes = options.lanes ?? DEFAULT_LANES;
    const perSeat = seqsPerSeat(lanes);
    batchPromptsFor(size, lanes);
    const cells = checkedContextSize(model, options.contextSize) + (options.scratchCells ?? 0);
    // Every seat's widest set and its scratch row in one decode.
    const rows = size * (lanes + 1);
    const batchSize = Math.max(options.batchSize ?? 512, rows);
    this.core = openContext(model, { ...options, cells: size * cells, scratchCells: 0, batchSize, sequences: size * perSeat, seqIdsPerToken: lanes + 1 });
    if (this.core.cells < size * cells || this.core.ubatchSize < rows) {
      disposeContext(model.runtime.api, this.core);
      throw new TempoInputError(`llama.cpp gave a context of ${this.core.cells} cells decoding ${this.core.ubatchSize} rows at once; ${size} prompts need ${size * cells} and ${rows}`);
    }
    const seatOptions: SessionOptions = { ...options, lanes, contextSize: cells - (options.scratchCells ?? 0) };
    this.seats = Array.from({ length: size }, (_, k) => new TempoSession(model, seatOptions, {
      core: this.core, seqBase: k * perSeat, contextSize: cells,
      decodeTogether: (setRows, enter) => new Promise<void>((resolve, reject) => {
        this.pending.push({ rows: setRows, enter, resolve, reject });
        this.decodeWhenAllIn();
      }),
    }));
  }

  /**
   * Runs `work` on a seat, in a round with the other work given before the event loop turns
   * (up to one per seat); `solo` work has a round to itself, so that it may cut its cells back
   * (TempoSession.truncate: the eval baselines). A piece of work runs one generation
   * (TempoSession.reset is allowed once, at its start).
   */
  run<T>(work: (seat: TempoSession) => Promise<T>, solo = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, solo, resolve: resolve as (value: unknown) => void, reject });
      this.scheduleRound();
    });
  }

  private scheduleRound(): void {
    if (this.running || this.roundDue || this.queue.length === 0) return;
    this.roundDue = true;
    setImmediate(() => {
      this.roundDue = false;
      void this.nextRound();
    });
  }

  /** The queue's front: a solo piece alone, or the pieces before the next solo one, one per seat. */
  private async nextRound(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    let n = 1;
    if (!this.queue[0].solo) while (n < this.size && n < this.queue.length && !this.queue[n].solo) n++;
    const taken = this.queue.splice(0, n);
    this.running = true;
    const api = this.model.runtime.api;
    api.llama_memory_clear(this.core.memory, true);
    this.core.nextCell = 0;
    for (const seat of this.seats) seat.clearedWithRound();
    this.active = taken.length;
    await Promise.all(taken.map(async (q, k) => {
      try {
        q.resolve(await q.work(this.seats[k]));
      } catch (error) {
        q.reject(error);
      } finally {
        this.active--;
        this.decodeWhenAllIn(); // the others need not wait for this seat any more
      }
    }));
    this.running = false;
    this.scheduleRound();
  }

  /** When every seat at work has a set waiting: one llama_decode for all of them, in seat order of arrival. */
  private decodeWhenAllIn(): void {
    if (this.pending.length === 0 || this.pending.length < this.active) return;
    const subs = this.pending;
    this.pending = [];
    const { core } = this;
    const call = core.decodeCalls++;
    const rows: BatchRow[] = [];
    const undos: (() => void)[] = [];
    const fail = (error: unknown) => {
      for (const undo of undos.reverse()) undo();
      core.decodeCalls = call;
      for (const s of subs) s.reject(error);
    };
    try {
      for (const s of subs) {
        undos.push(s.enter(rows.length, call));
        rows.push(...s.rows);
      }
    } catch (error) {
      fail(error);
      return;
    }
    let decoded: Promise<number>;
    try {
      // Throws before any decode when the seats' rows together overflow the batch: every seat learns it.
      decoded = startDecode(this.model.runtime.api, core, rows);
    } catch (error) {
      fail(error);
      return;
    }
    decoded.then((rc) => {
      if (rc === 0) for (const s of subs) s.resolve();
      else fail(rc === 1 ? new ContextFullError(`llama.cpp found no free KV cell for ${rows.length} tokens`) : new Error(`llama_decode failed with code ${rc}`));
    }, fail);
  }

  dispose(): void {
    for (const seat of this.seats) seat.dispose();
    disposeContext(this.model.runtime.api, this.core);
  }
}

/** Runs a piece of work on a seat: of a group (batched into its rounds; `solo` alone), or of one session, one piece after another. */
export type OnSeat = <T>(work: (seat: TempoSession) => Promise<T>, solo?: boolean) => Promise<T>;

/** The seats of `engine`, for callers that take a session or a group alike (eval, perplexity). */
export function seatRunner(engine: TempoSession | SessionGroup): { lanes: number; contextSize: number; onSeat: OnSeat } {
  if (engine instanceof SessionGroup) return { lanes: engine.seats[0].lanes, contextSize: engine.seats[0].contextSize, onSeat: (work, solo) => engine.run(work, solo) };
  let turn: Promise<unknown> = Promise.resolve();
  return {
    lanes: engine.lanes,
    contextSize: engine.contextSize,
    onSeat: (work) => {
      const mine = turn.then(() => work(engine));
      turn = mine.catch(() => undefined);
      return mine;
    },
  };
}

/**
 * A seat of `onSeat` held until `release` is called: for work that drives several seats at once
 * (a comparison's three replays in lock step) rather than one generation per piece of work.
 * The round's decodes wait for a held seat's sets, so release it as soon as it has decoded its
 * last set, and never ask for another seat while holding one (the next round starts only when
 * this one's seats are all released).
 */
export function leaseSeat(onSeat: OnSeat): Promise<{ seat: TempoSession; release: () => void }> {
  return new Promise((resolve, reject) => {
    let release!: () => void;
    const held = new Promise<void>((done) => { release = done; });
    onSeat(async (seat) => {
      resolve({ seat, release });
      await held;
    }).catch(reject);
  });
}

/** Seats a comparison takes at once: its P, Q and null-baseline replays (its generation runs on one of them first). */
export const SEATS_PER_COMPARISON = 3;
