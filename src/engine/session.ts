/**
 * A session owns one llama context (unified KV cache, lanes) and THE index table: for every
 * token fed, its step, position, KV cell, sequence ids and batch row. Masks, captures,
 * analysis and UI all read that one table.
 */
import koffi from "koffi";
import { availableParallelism } from "node:os";
import { ContextParamsValue, LlamaApi, Pointer } from "./llama/c-api.js";
import { NativeBatch, BatchRow } from "./llama/batch.js";
import { AttentionTap, LayerAttention } from "./llama/attention-tap.js";
import { governorFor, ThreadGovernor } from "./llama/thread-governor.js";
import { TempoModel } from "./model.js";
import { ContextFullError, TempoInputError } from "./errors.js";
import { allSeqIds, extraSeqIds, LLAMA_MAX_SEQ, MAIN_SEQ, MAX_LANES, memberSeqIds, needsLaneSync } from "./lanes.js";
import { TempoMode, TokenRecord } from "./types.js";

/**
 * Off by default: compared runs must share the setting (it changes logits slightly), attention
 * capture needs it off, and a capture must say which one ran ("auto" would not).
 */
export type FlashAttention = "on" | "off";

export interface SessionOptions {
  /** KV cells (tokens, not positions: a set of M uses M cells). */
  contextSize?: number;
  /** Parallel lanes = the widest set this session can decode. */
  lanes?: number;
  /** Tokens per llama_decode asked for; llama.cpp lowers it to the context size asked for. */
  batchSize?: number;
  /** Cells added beyond `contextSize` for scratch rows, not counted against the context limit. */
  scratchCells?: number;
  flashAttention?: FlashAttention;
  /**
   * CPU threads llama.cpp decodes with: a fixed count, or a ThreadGovernor that chooses them
   * between decodes. Default: a governor giving the cores other processes leave idle, at most
   * the runtime's math cores (governorFor).
   */
  threads?: number | ThreadGovernor;
  /**
   * Layers whose attention probabilities are captured in every set's forward pass. Needs
   * flash attention off (the probabilities only exist as a graph node then).
   */
  attentionLayers?: number[];
  /**
   * Make the members of isolated sets removable one by one (`pruneMembers`) for this many sets
   * after each: reserves (pruneLookahead + 1) x lanes tag sequences (docs/pruning.md).
   * Undefined: no pruning, no extra sequences.
   */
  pruneLookahead?: number;
  /** KV cache precision; f32 makes the engine comparable with a float64 reference. Default f16 (llama.cpp's). */
  kvCacheType?: KvCacheType;
}

export type KvCacheType = "f16" | "f32";
const GGML_TYPE: Record<KvCacheType, number> = { f32: 0, f16: 1 };

/** Members of one decoded isolated set, each also held by a tag sequence of its own. */
interface TaggedSet { position: number; tags: number[]; firstRow: number }

/** Attention captured in the forward pass of one set. */
export interface SetAttention {
  step: number;
  /** KV cell of each member, in member (= batch row) order. */
  memberCells: number[];
  layers: LayerAttention[];
}

export const DEFAULT_CONTEXT_SIZE = 4096;
export const DEFAULT_LANES = 16;
export const MIN_CONTEXT_SIZE = 16;
export const MAX_THREADS = 512;
/** Largest context accepted at all: far past any KV cache that fits in memory, and never near uint32 wrap. */
export const MAX_CONTEXT_SIZE = 2 ** 24;
/**
 * A context may hold this many cells per trained position: a set of M puts M cells at one
 * position, so cells can exceed positions, but not by more than the widest useful set.
 */
export const CONTEXT_PER_TRAINED_POSITION = 16;

/** The context a session gets when none is asked for: 4096 cells, or the training context if shorter. */
export function defaultContextSize(nCtxTrain: number): number {
  return Math.min(DEFAULT_CONTEXT_SIZE, nCtxTrain);
}

/** The largest context accepted for a model (a multiple of 256, as llama.cpp rounds n_ctx up to one). */
export function maxContextSize(nCtxTrain: number): number {
  return Math.min(MAX_CONTEXT_SIZE, Math.ceil((Math.max(1, nCtxTrain) * CONTEXT_PER_TRAINED_POSITION) / 256) * 256);
}

/** What the sessions of one llama context share: one session's own, or a SessionGroup's. */
export interface ContextCore {
  readonly ctx: Pointer;
  readonly memory: Pointer;
  readonly batch: NativeBatch;
  /** n_ctx read back (llama.cpp may round up what was asked). */
  readonly cells: number;
  readonly batchSize: number;
  readonly ubatchSize: number;
  readonly maxThreads: number;
  readonly decodeOnWorker: boolean;
  /** Chooses the threads of each decode when none were asked for. */
  readonly governor: ThreadGovernor | undefined;
  /** The next KV cell llama.cpp fills: a cleared unified cache fills its cells in batch-row order. */
  nextCell: number;
  /** llama_decode calls on the context. */
  decodeCalls: number;
  /** Settles when the decode running on a worker thread is over, if one is. */
  inFlight: Promise<void> | undefined;
  disposed: boolean;
}

/** A session's place in a SessionGroup: the shared context, its first sequence id and its share of the cells. */
export interface Seat {
  readonly core: ContextCore;
  readonly seqBase: number;
  readonly contextSize: number;
  /** Decodes the seat's rows together with the other seats' (session-group.ts). */
  decodeTogether(rows: readonly BatchRow[], enter: (firstRow: number, call: number) => () => void): Promise<void>;
}

/** The context size a session asks for, checked against the model. */
export function checkedContextSize(model: TempoModel, asked: number | undefined): number {
  const requested = asked ?? defaultContextSize(model.info.nCtxTrain);
  const limit = maxContextSize(model.info.nCtxTrain);
  if (!Number.isInteger(requested) || requested < MIN_CONTEXT_SIZE || requested > limit) {
    throw new TempoInputError(`context size must be an integer in [${MIN_CONTEXT_SIZE}, ${limit}] (${CONTEXT_PER_TRAINED_POSITION} x the model's training context ${model.info.nCtxTrain}, at most 2^24), got ${requested}`);
  }
  return requested;
}

export interface ContextShape extends Pick<SessionOptions, "batchSize" | "scratchCells" | "flashAttention" | "threads" | "kvCacheType"> {
  /** Cells asked for, scratch cells aside. */
  cells: number;
  /** Sequence ids the context must accept (n_seq_max). */
  sequences: number;
  /** Most sequence ids one row carries. */
  seqIdsPerToken: number;
  tap?: AttentionTap;
}

/** Creates a llama context (unified KV cache, one ubatch per decode) and its batch. `sequencesWhat` names extra sequences in an error. */
export function openContext(model: TempoModel, shape: ContextShape, sequencesWhat = ""): ContextCore {
  const { api } = model.runtime;
  const threads = shape.threads instanceof ThreadGovernor ? shape.threads.max : shape.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS)) {
    throw new TempoInputError(`threads must be an integer in [1, ${MAX_THREADS}], got ${threads}`);
  }
  const batchSize = shape.batchSize ?? 512;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 65536) throw new TempoInputError(`batch size must be an integer in [1, 65536], got ${batchSize}`);
  const scratchCells = shape.scratchCells ?? 0;
  if (!Number.isInteger(scratchCells) || scratchCells < 0 || scratchCells > MAX_CONTEXT_SIZE) throw new TempoInputError(`scratch cells must be an integer in [0, 2^24], got ${scratchCells}`);
  const decodable = Math.min(shape.cells + scratchCells, batchSize);
  if (shape.sequences > decodable) {
    throw new TempoInputError(`${shape.seqIdsPerToken - 1} lanes need a context of at least ${shape.sequences} (one token per sequence: main, scratch${sequencesWhat} included); ask for a larger context or a smaller width`);
  }
  const params = api.llama_context_default_params() as ContextParamsValue;
  params.n_ctx = shape.cells + scratchCells;
  params.n_batch = batchSize;
  params.n_ubatch = batchSize; // a set must never be split across ubatches
  params.n_seq_max = shape.sequences;
  params.kv_unified = true; // coupled sequences and seq_cp need one stream
  // Sliding-window models: llama.cpp recycles a KV cell outside the window only when it
  // belongs to exactly one sequence; TEMPO's cells belong to many, so keep the full cache.
  params.swa_full = true;
  params.n_threads = params.n_threads_batch = threads ?? model.runtime.threads;
  // Decode threads on every core leave none for the JavaScript a worker-thread decode would
  // overlap: they then wait on each other at every barrier (4.7 -> 14 ms a step on 2 cores).
  // GPU backends run CPU ops with these threads too (the token embeddings), so same rule.
  // Decided by the most threads, once: callers plan their concurrency from it.
  const maxThreads = params.n_threads;
  const governor = shape.threads instanceof ThreadGovernor ? shape.threads : threads === undefined ? governorFor(maxThreads) : undefined;
  params.flash_attn_type = shape.flashAttention === "on" ? 1 : 0;
  params.type_k = params.type_v = GGML_TYPE[shape.kvCacheType ?? "f16"];
  params.no_perf = false;
  if (shape.tap) params.cb_eval = shape.tap.callback;
  const ctx = api.llama_init_from_model(model.pointer, params) as Pointer | null;
  if (!ctx) throw new TempoInputError(`llama.cpp could not create a context of ${shape.cells} cells with ${shape.seqIdsPerToken - 1} lanes (out of memory?)`);
  // llama.cpp lowers n_batch to the n_ctx asked for (and n_ubatch to n_batch): more rows in
  // one decode than it says is a GGML_ASSERT, so chunk and check by what it reports.
  const nBatch = api.llama_n_batch(ctx) as number;
  return {
    ctx, memory: api.llama_get_memory(ctx) as Pointer, batch: new NativeBatch(api, nBatch, shape.seqIdsPerToken),
    cells: api.llama_n_ctx(ctx) as number, batchSize: nBatch, ubatchSize: Math.min(nBatch, api.llama_n_ubatch(ctx) as number),
    maxThreads, decodeOnWorker: maxThreads < availableParallelism(), governor,
    nextCell: 0, decodeCalls: 0, inFlight: undefined, disposed: false,
  };
}

/** Unrelated rows decoded beside a set (null-baseline layouts, same-shape reference runs). */
export interface ScratchRows { before?: number; after?: number }

export interface DecodeSetOptions {
  scratch?: ScratchRows;
  /**
   * Return this session's own logits rows, overwritten by the next set (after its
   * `whileDecoding`), instead of fresh arrays: the generation loop allocates no 128 KB row per
   * member per step.
   */
  reuseRows?: boolean;
  /**
   * Work to overlap with the decode: runs once the set is queued and in the index table,
   * before the lanes are synced and its logits read (which waits for the forward pass). It
   * must not call llama.cpp on this session's context: under `decodeSetAsync` the decode is
   * still running on another thread.
   */
  whileDecoding?: () => void;
}

/** One set's batch rows, as decodeSet lays them out. */
interface PlannedSet { rows: BatchRow[]; before: number; position: number; members: number }

/** `step` of null-baseline scratch rows in the index table. */
export const SCRATCH_STEP = -2;

export class TempoSession {
  readonly contextSize: number;
  readonly lanes: number;
  /** Tokens one llama_decode takes (n_batch, read back: llama.cpp may lower what was asked). */
  readonly batchSize: number;
  /** Tokens one forward pass takes (n_ubatch, read back): a set must fit in one. */
  readonly ubatchSize: number;
  readonly flashAttention: FlashAttention;
  /** Element type of the KV cache's keys and values (both alike). */
  readonly kvCacheType: KvCacheType;
  /** Most CPU threads llama.cpp decodes with (GPU backends too, for the ops left on the CPU). */
  readonly maxThreads: number;
  /** The llama context, alone or shared with a SessionGroup's other seats. */
  private readonly core: ContextCore;
  /** This session's seat in a group (its sequences start at seat.seqBase), if it is one. */
  private readonly seat: Seat | undefined;
  private readonly table: TokenRecord[] = [];
  /** Decodes this session took part in (the context's own count when it is alone). */
  private ownDecodes = 0;
  /** Rows this session fed (what llama.cpp's own counter says when it is alone). */
  private ownRows = 0;
  /** This session's cells in use: its share of the context (all of it when alone). */
  private cellsTaken = 0;
  /** This session's first sequence id: its main (0 unless it is a seat of a group). */
  private readonly seqBase: number;
  /** A sequence beyond the lanes for null-baseline scratch rows. */
  private readonly scratchSeq: number;
  /** Where pruned cells go: never a query's first sequence, so no later token sees them. */
  private readonly prunedSeq: number;
  /** Tag sequences not holding a member now (sessions with pruneLookahead). */
  private readonly freeTags: number[] = [];
  private readonly allTags: number[] = [];
  /** Isolated sets whose members can still be pruned, by step. */
  private readonly tagged = new Map<number, TaggedSet>();
  private scratchPosition = 0;
  private disposed = false;
  private readonly tap: AttentionTap | undefined;
  /** Logits rows handed out by `decodeSet(..., { reuseRows: true })`, one per member. */
  private readonly memberRows: Float32Array[] = [];
  /**
   * Whether decodeSetAsync decodes on a koffi worker thread (see openContext), so that
   * several sessions can decode at once.
   */
  get decodeOnWorker(): boolean { return this.core.decodeOnWorker; }
  /** Views of llama.cpp's logits rows by address (logitsViewAt). */
  private readonly logitsViews = new Map<bigint, Float32Array>();
  /** Attention of the most recent set, when this session captures attention. */
  lastSetAttention: SetAttention | undefined;
  /** Layers whose attention this session captures (SessionOptions.attentionLayers), ascending. */
  readonly attentionLayers: readonly number[] | undefined;
  /** Sets after each isolated set during which its members can be pruned (SessionOptions.pruneLookahead). */
  readonly pruneLookahead: number | undefined;

  /** A session of its own context; SessionGroup makes the seats of a shared one. */
  constructor(readonly model: TempoModel, options: SessionOptions = {}, seat?: Seat) {
    this.lanes = options.lanes ?? DEFAULT_LANES;
    if (!Number.isInteger(this.lanes) || this.lanes < 1 || this.lanes > MAX_LANES) {
      throw new TempoInputError(`lanes must be an integer in [1, ${MAX_LANES}] (llama.cpp allows 256 sequences; main and scratch take two), got ${this.lanes}`);
    }
    const requested = checkedContextSize(model, options.contextSize);
    this.flashAttention = options.flashAttention ?? "off";
    this.kvCacheType = options.kvCacheType ?? "f16";
    if (options.attentionLayers) {
      if (this.flashAttention !== "off") throw new TempoInputError("attention capture needs flash attention off");
      if (seat) throw new TempoInputError("attention capture needs a context of its own (not a seat of a group)");
      const bad = options.attentionLayers.filter((l) => !Number.isInteger(l) || l < 0 || l >= model.info.nLayer);
      if (bad.length || options.attentionLayers.length === 0) throw new TempoInputError(`attention layers must be integers in [0, ${model.info.nLayer}), got ${options.attentionLayers.join(",")}`);
      this.tap = new AttentionTap(model.runtime.api, new Set(options.attentionLayers));
      this.attentionLayers = [...new Set(options.attentionLayers)].sort((x, y) => x - y);
    }
    // llama.cpp will decode at most min(n_ctx, n_batch) tokens at once and reserves one output
    // per sequence in that: more sequences than that is a GGML_ASSERT inside context creation.
    const base = seat?.seqBase ?? 0;
    const extra = extraSeqIds(this.lanes);
    this.seqBase = base;
    this.scratchSeq = base + extra.scratch;
    this.prunedSeq = base + extra.pruned;
    const lookahead = options.pruneLookahead;
    this.pruneLookahead = lookahead;
    if (lookahead !== undefined) {
      if (seat) throw new TempoInputError("pruning needs a context of its own (not a seat of a group)");
      if (!Number.isInteger(lookahead) || lookahead < 1) throw new TempoInputError(`the pruning lookahead must be an integer >= 1 (steps whose attention scores a set), got ${lookahead}`);
      const tags = (lookahead + 1) * this.lanes;
      if (extra.firstTag + tags > LLAMA_MAX_SEQ) {
        throw new TempoInputError(`pruning ${lookahead} steps back with ${this.lanes} lanes needs ${tags} tag sequences besides main, the lanes, scratch and pruned; llama.cpp allows ${LLAMA_MAX_SEQ} in all: use a smaller width or lookahead`);
      }
      for (let t = 0; t < tags; t++) this.allTags.push(extra.firstTag + t);
      this.freeTags.push(...this.allTags);
    }
    if (seat) {
      this.seat = seat;
      this.core = seat.core;
      this.contextSize = seat.contextSize;
    } else {
      const nSeq = lookahead === undefined ? extra.scratch + 1 : extra.firstTag + this.allTags.length;
      this.core = openContext(model, { ...options, cells: requested, sequences: nSeq, seqIdsPerToken: this.lanes + 1, tap: this.tap }, lookahead === undefined ? "" : ", pruned and tags");
      this.contextSize = this.core.cells;
    }
    this.batchSize = this.core.batchSize;
    this.ubatchSize = this.core.ubatchSize;
    this.maxThreads = this.core.maxThreads;
  }

  /**
   * Forgets everything: the next token goes to position 0, cell 0. A seat of a group holds
   * nothing to forget at the start of a round (SessionGroup.round clears the shared cache), and
   * may not clear cells mid-round: llama.cpp would refill the holes out of batch-row order.
   */
  reset(): void {
    this.assertLive();
    if (this.seat) {
      if (this.cellsTaken) throw new Error("a seat of a session group is cleared with its round: one generation per seat per round");
    } else {
      this.model.runtime.api.llama_memory_clear(this.core.memory, true);
      this.core.nextCell = 0;
      this.cellsTaken = 0;
    }
    this.table.length = 0;
    this.scratchPosition = 0;
    this.tagged.clear();
    this.freeTags.length = 0;
    this.freeTags.push(...this.allTags);
  }

  /** A SessionGroup cleared the shared cache for a new round: this seat holds nothing now. */
  clearedWithRound(): void {
    if (!this.seat) throw new Error("only a seat of a session group is cleared with a round");
    this.cellsTaken = 0;
    this.reset();
  }

  /** CPU threads llama.cpp decodes with now (automatic sessions change it between decodes). */
  get threads(): number { return this.model.runtime.api.llama_n_threads(this.core.ctx) as number; }
  /** Whether this session is a seat of a SessionGroup (its sets share the group's decodes). */
  get seated(): boolean { return this.seat !== undefined; }
  /** The llama_context this session decodes with, for native code that drives it directly (the bench's C floor). */
  get contextPointer(): Pointer { return this.core.ctx; }
  /** Whether the thread count follows the machine's load (no count was asked for). */
  get autoThreads(): boolean { return this.core.governor !== undefined; }

  /**
   * Forgets every token from position `position` on, so the next one goes there: for a session
   * that holds ordinary tokens only (decodeSequence and standard one-token sets: one cell per
   * position, in every sequence). The eval baselines use it to go back to the prompt, or to the
   * prefix two beams share, instead of decoding it again.
   */
  truncate(position: number): void {
    this.assertLive();
    if (!Number.isInteger(position) || position < 0 || position > this.table.length) throw new RangeError(`truncate: position ${position} is outside [0, ${this.table.length}]`);
    // Cut-back cells are refilled in order only when they are the cache's last: a seat must hold every cell in use.
    if (this.tagged.size || this.core.nextCell !== this.cellsTaken || this.table.some((r, i) => r.position !== i || r.cell !== i)) {
      throw new Error("truncate: only a session of ordinary tokens (one cell per position: no sets, no scratch rows, no other seat's cells) can be cut back");
    }
    if (position === this.table.length) return;
    if (!this.model.runtime.api.llama_memory_seq_rm(this.core.memory, -1, position, -1)) {
      throw new TempoInputError("this model's memory cannot be cut back to a position (a recurrent model?); the sampling and beam baselines need that");
    }
    this.table.length = position;
    this.core.nextCell = this.cellsTaken = position;
  }

  get indexTable(): readonly TokenRecord[] { return this.table; }
  get cellsUsed(): number { return this.cellsTaken; }
  get cellsFree(): number { return this.contextSize - this.cellsTaken; }
  get decodeCount(): number { return this.ownDecodes; }
  /**
   * Tokens evaluated: llama.cpp's own counter when the context is this session's (to prove
   * nothing is fed twice), the rows this seat fed when it shares one.
   */
  get evaluatedTokens(): number {
    if (this.seat) return this.ownRows;
    const perf = this.model.runtime.api.llama_perf_context(this.core.ctx) as { n_p_eval: number; n_eval: number };
    return perf.n_p_eval + perf.n_eval;
  }
  get nextPosition(): number {
    for (let i = this.table.length - 1; i >= 0; i--) if (this.table[i].step !== SCRATCH_STEP) return this.table[i].position + 1;
    return 0;
  }

  /** Feeds ordinary tokens (prompt, forced text) at consecutive positions; returns the last token's logits. */
  decodeSequence(tokens: readonly number[], step = -1): Float32Array {
    if (tokens.length === 0) throw new TempoInputError("nothing to decode");
    this.checkTokens(tokens);
    if (tokens.length > this.cellsFree) {
      throw new ContextFullError(`${tokens.length} tokens do not fit: the context holds ${this.contextSize} cells and ${this.cellsFree} are free`);
    }
    const seqIds = this.ownSeqs(allSeqIds(this.lanes));
    let position = this.nextPosition;
    let logits: Float32Array | undefined;
    for (let start = 0; start < tokens.length; start += this.batchSize) {
      const chunk = tokens.slice(start, start + this.batchSize);
      const isLast = start + chunk.length === tokens.length;
      const rows: BatchRow[] = chunk.map((token, i) => ({ token, position: position + i, seqIds, wantLogits: isLast && i === chunk.length - 1 }));
      this.decode(rows, step);
      position += chunk.length;
      if (isLast) logits = this.logitsOfRow(chunk.length - 1);
    }
    return logits!;
  }

  /**
   * Decodes one parallel set: ALL members in ONE llama_decode at ONE shared position, every
   * member entering the KV cache. Returns each member's next-token logits, in member order.
   */
  decodeSet(tokens: readonly number[], mode: TempoMode, step: number, options: DecodeSetOptions = {}): Float32Array[] {
    const set = this.planSet(tokens, mode, options.scratch);
    this.tap?.arm();
    try {
      this.decode(set.rows, step);
    } catch (e) {
      this.tap?.disarm();
      throw e;
    }
    const layers = this.tap?.disarm();
    const firstMember = this.table.length - set.rows.length + set.before;
    if (layers) this.lastSetAttention = { step, memberCells: this.table.slice(firstMember, firstMember + set.members).map((r) => r.cell), layers };
    options.whileDecoding?.();
    return this.finishSet(set, mode, options.reuseRows);
  }

  /**
   * decodeSet with llama_decode on a worker thread, so that `whileDecoding` overlaps the whole
   * call: for a small model on a GPU, building the graph and launching its kernels takes about
   * as long as the step's JavaScript. It decodes on this thread instead when the session
   * captures attention (its eval callback would hop threads at every graph node) or its
   * decode threads take every core.
   */
  async decodeSetAsync(tokens: readonly number[], mode: TempoMode, step: number, options: DecodeSetOptions = {}): Promise<Float32Array[]> {
    if (this.seat) return this.decodeSetTogether(this.seat, tokens, mode, step, options);
    if (this.tap || !this.decodeOnWorker) return this.decodeSet(tokens, mode, step, options);
    const set = this.planSet(tokens, mode, options.scratch);
    const undo = this.enter(set.rows, step);
    const decoded = startDecode(this.model.runtime.api, this.core, set.rows);
    let failure: { error: unknown } | undefined;
    try { options.whileDecoding?.(); } catch (error) { failure = { error }; }
    const rc = await decoded.catch((e: unknown) => { undo(); throw e; });
    this.checkDecode(rc, set.rows.length, undo);
    if (failure) throw failure.error;
    if (this.disposed) throw new Error("the session was disposed while a set was decoding");
    return this.finishSet(set, mode, options.reuseRows);
  }

  /**
   * A seat's set, decoded in the same llama_decode as the other seats' sets of this round
   * (SessionGroup): its rows are entered when that decode is laid out. `whileDecoding` runs
   * after it: the event reads the rows' cells, which are only known then.
   */
  private async decodeSetTogether(seat: Seat, tokens: readonly number[], mode: TempoMode, step: number, options: DecodeSetOptions): Promise<Float32Array[]> {
    const set = this.planSet(tokens, mode, options.scratch);
    let firstRow = 0;
    await seat.decodeTogether(set.rows, (first, call) => { firstRow = first; return this.enter(set.rows, step, first, call); });
    if (this.disposed) throw new Error("the session was disposed while a set was decoding");
    options.whileDecoding?.();
    return this.finishSet(set, mode, options.reuseRows, firstRow);
  }

  /** Checks a set and lays out its batch rows. */
  private planSet(tokens: readonly number[], mode: TempoMode, scratch: ScratchRows | undefined): PlannedSet {
    const m = tokens.length;
    if (m === 0) throw new TempoInputError("a parallel set needs at least one member");
    if (m > this.lanes) throw new TempoInputError(`a set of ${m} exceeds this session's ${this.lanes} lanes`);
    if (mode === "standard" && m !== 1) throw new TempoInputError("standard mode decodes one token per step");
    this.checkTokens(tokens);
    const before = scratch?.before ?? 0, after = scratch?.after ?? 0;
    const cells = m + before + after;
    if (cells > this.ubatchSize) {
      throw new TempoInputError(`a set of ${m}${cells > m ? ` with ${cells - m} scratch rows` : ""} needs ${cells} rows in one decode; this context decodes at most ${this.ubatchSize} at once (llama.cpp caps it at the context size asked for): ask for a context of at least ${cells}`);
    }
    if (cells > this.cellsFree) throw new ContextFullError(`a set of ${m} needs ${cells} cells; ${this.cellsFree} are free of ${this.contextSize}`);
    if (new Set(tokens).size !== m) throw new TempoInputError("a parallel set cannot hold the same token twice");
    const position = this.nextPosition;
    // Scratch rows live in their own sequence at their own positions: invisible to every
    // other token and blind to them; they only change the batch's shape and row positions.
    // They ask for logits (then unread) so the output projection runs over as many rows as the
    // set it mirrors: CUDA takes another kernel for one output row than for eight, and that
    // alone moved logits by 1e-2 on an H200.
    const scratchRow = (): BatchRow => ({ token: tokens[0], position: this.scratchPosition++, seqIds: [this.scratchSeq], wantLogits: true });
    const rows: BatchRow[] = [
      ...Array.from({ length: before }, scratchRow),
      ...tokens.map((token, j) => ({ token, position, seqIds: this.ownSeqs(memberSeqIds(mode, j, m, this.lanes)), wantLogits: true })),
      ...Array.from({ length: after }, scratchRow),
    ];
    return { rows, before, position, members: m };
  }

  /**
   * After the decode: members tagged (pruning sessions), lanes re-synchronised with main, then
   * the members' logits (the set's rows start at batch row `firstRow`).
   */
  private finishSet(set: PlannedSet, mode: TempoMode, reuseRows = false, firstRow = 0): Float32Array[] {
    if (this.allTags.length && mode === "isolated" && set.members > 1) this.tagMembers(set);
    if (needsLaneSync(mode, set.members)) {
      const main = this.seqBase + MAIN_SEQ;
      for (let lane = 1; lane <= this.lanes; lane++) {
        this.model.runtime.api.llama_memory_seq_cp(this.core.memory, main, main + lane, set.position, set.position + 1);
      }
    }
    return Array.from({ length: set.members }, (_, j) => {
      const row = firstRow + set.before + j;
      if (!reuseRows) return this.logitsOfRow(row);
      this.memberRows[j] ??= new Float32Array(this.model.info.nVocab);
      return this.logitsOfRow(row, this.memberRows[j]);
    });
  }

  /** The lane scheme's sequence ids (lanes.ts) as this session's: shifted past the seats before it. */
  private ownSeqs(ids: number[]): number[] {
    return this.seqBase === 0 ? ids : ids.map((id) => id + this.seqBase);
  }

  /** Before the lane sync lane_i holds member i alone at the set's position: copy it to a tag. */
  private tagMembers(set: PlannedSet): void {
    if (this.freeTags.length < set.members) {
      throw new Error(`no free tag sequences for a set of ${set.members}: prune or release (pruneMembers) each set within the lookahead`);
    }
    const api = this.model.runtime.api;
    const tags = this.freeTags.splice(0, set.members);
    tags.forEach((tag, j) => api.llama_memory_seq_cp(this.core.memory, j + 1, tag, set.position, set.position + 1));
    const firstRow = this.table.length - set.rows.length + set.before;
    this.tagged.set(this.table[firstRow].step, { position: set.position, tags, firstRow });
  }

  /** Steps of isolated sets whose members can still be pruned (pruning sessions). */
  get prunableSteps(): number[] { return [...this.tagged.keys()]; }

  /**
   * Decides the set decoded at `step` for good: members with `prune[j]` leave main and every
   * lane, so no token decoded from now on sees them (their cells move to the pruned sequence
   * and are never reused); the others stay exactly as they were. Tokens decoded before keep
   * what they saw. Either way the set's tags are released. Isolated sets only.
   */
  pruneMembers(step: number, prune: readonly boolean[]): void {
    this.assertLive();
    const set = this.tagged.get(step);
    if (!set) throw new Error(`step ${step} has no prunable set (not isolated, already decided, or the session cannot prune)`);
    if (prune.length !== set.tags.length) throw new Error(`step ${step}: ${prune.length} decisions for a set of ${set.tags.length}`);
    const { api } = this.model.runtime;
    const p0 = set.position, p1 = set.position + 1;
    if (prune.some(Boolean)) {
      // llama.cpp removes cells by (sequence, position) only and the members share one
      // position: take them all out of main and the lanes, then put the survivors back.
      for (let seq = MAIN_SEQ; seq <= this.lanes; seq++) api.llama_memory_seq_rm(this.core.memory, seq, p0, p1);
      set.tags.forEach((tag, j) => {
        if (prune[j]) {
          api.llama_memory_seq_cp(this.core.memory, tag, this.prunedSeq, p0, p1);
          this.table[set.firstRow + j].pruned = true;
        } else {
          for (let seq = MAIN_SEQ; seq <= this.lanes; seq++) api.llama_memory_seq_cp(this.core.memory, tag, seq, p0, p1);
        }
      });
    }
    for (const tag of set.tags) api.llama_memory_seq_rm(this.core.memory, tag, -1, -1);
    this.freeTags.push(...set.tags);
    this.tagged.delete(step);
  }

  private checkTokens(tokens: readonly number[]): void {
    const n = this.model.info.nVocab;
    for (const t of tokens) if (!Number.isInteger(t) || t < 0 || t >= n) throw new TempoInputError(`token id ${t} is outside the vocabulary [0, ${n})`);
  }

  private decode(rows: BatchRow[], step: number): void {
    const undo = this.enter(rows, step);
    governThreads(this.model.runtime.api, this.core);
    this.checkDecode(this.model.runtime.api.llama_decode(this.core.ctx, this.core.batch.fill(rows)) as number, rows.length, undo);
  }

  /**
   * Enters `rows` in the index table ahead of their decode (from batch row `firstRow` of the
   * context's decode `call`; a call of its own when none is given); returns what takes them out again.
   */
  private enter(rows: BatchRow[], step: number, firstRow = 0, call?: number): () => void {
    this.assertLive();
    const { core } = this;
    const tableLength = this.table.length, nextCell = core.nextCell;
    const ownCall = call === undefined;
    const decodeCall = call ?? core.decodeCalls++;
    rows.forEach((r, i) => {
      const isScratch = r.seqIds.length === 1 && r.seqIds[0] === this.scratchSeq;
      this.table.push({ token: r.token, step: isScratch ? SCRATCH_STEP : step, position: r.position, cell: core.nextCell++, seqIds: [...r.seqIds], batchRow: firstRow + i, decodeCall });
    });
    this.cellsTaken += rows.length;
    this.ownRows += rows.length;
    this.ownDecodes++;
    return () => {
      this.table.length = tableLength;
      core.nextCell = nextCell;
      this.cellsTaken -= rows.length;
      this.ownRows -= rows.length;
      this.ownDecodes--;
      if (ownCall) core.decodeCalls = decodeCall;
    };
  }

  private checkDecode(rc: number, tokens: number, undo: () => void): void {
    if (rc === 0) return;
    undo();
    if (rc === 1) throw new ContextFullError(`llama.cpp found no free KV cell for ${tokens} tokens`);
    throw new Error(`llama_decode failed with code ${rc}`);
  }

  /** A copy of the logits of batch row `row` (llama.cpp reuses its buffer), into `into` when given. */
  private logitsOfRow(row: number, into: Float32Array = new Float32Array(this.model.info.nVocab)): Float32Array {
    const api = this.model.runtime.api;
    const ptr = api.llama_get_logits_ith(this.core.ctx, row);
    if (!ptr) throw new Error(`no logits for batch row ${row}`);
    into.set(this.logitsViewAt(ptr, into.length));
    return into;
  }

  /**
   * A view of n floats at `ptr`, kept while llama.cpp hands out the same address (step after
   * step, as long as its output buffer is not reallocated): a koffi.view makes an external
   * ArrayBuffer, ~10 us per read of a 32k row, against ~3 us for the cached view's copy.
   */
  private logitsViewAt(ptr: Pointer, n: number): Float32Array {
    const address = koffi.address(ptr);
    let view = this.logitsViews.get(address);
    if (!view || view.length !== n) {
      view = new Float32Array(koffi.view(ptr, 4 * n));
      this.logitsViews.set(address, view);
    }
    return view;
  }

  private assertLive(): void {
    if (this.disposed) throw new Error("session is disposed");
    if (this.core.inFlight) throw new Error("session is busy: a set is still decoding (await decodeSetAsync first)");
  }

  /** Frees the context, or only leaves it when it is a group's (SessionGroup.dispose frees that). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (!this.seat) disposeContext(this.model.runtime.api, this.core, () => this.tap?.dispose());
  }
}

/** Gives the next decode the threads the governor chooses (automatic sessions). */
function governThreads(api: LlamaApi, core: ContextCore): void {
  if (!core.governor) return;
  const before = core.governor.threads, threads = core.governor.next();
  if (threads !== before) api.llama_set_n_threads(core.ctx, threads, threads);
}

/**
 * Starts llama_decode of `rows` (already entered) on a koffi worker thread, or on this one
 * when decode threads take every core; resolves with its return code. The context is busy
 * (`inFlight`) meanwhile: nothing else may call llama.cpp on it, and it is not freed under it.
 */
export function startDecode(api: LlamaApi, core: ContextCore, rows: readonly BatchRow[]): Promise<number> {
  governThreads(api, core);
  const batch = core.batch.fill(rows);
  if (!core.decodeOnWorker) return Promise.resolve(api.llama_decode(core.ctx, batch) as number);
  let release!: () => void;
  core.inFlight = new Promise<void>((resolve) => { release = resolve; });
  return new Promise<number>((resolve, reject) => {
    api.llama_decode.async(core.ctx, batch, (err: unknown, rc: number) => (err ? reject(err) : resolve(rc)));
  }).finally(() => { core.inFlight = undefined; release(); });
}

/** Frees a context once no decode runs on it (never under a worker thread's decode). */
export function disposeContext(api: LlamaApi, core: ContextCore, after?: () => void): void {
  if (core.disposed) return;
  core.disposed = true;
  const free = () => {
    core.batch.free();
    api.llama_free(core.ctx);
    after?.();
  };
  if (core.inFlight) void core.inFlight.then(free);
  else free();
}
