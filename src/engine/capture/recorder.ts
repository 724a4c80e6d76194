/**
 * CaptureRecorder: what the engine calls while a run streams, then `write()` once at the end.
 *
 *   const rec = new CaptureRecorder(info, { logits: { kind: "topk", k: 50 } });
 *   for await (const step of run) { rec.addStep(step); rec.addLogits(step.index, logits); }
 *   rec.finish({ stopReason, timings: { totalMs } });
 *   const dir = rec.writeNew(".tempo/captures", "my-prompt");
 *
 * Everything is held in memory until written (full-vocabulary rows: vocab * 4 or 2 bytes each).
 * The folder is created exclusively (never reusing an existing one) and each file is written
 * atomically; manifest.json is written last, so a folder without it is an unfinished capture.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { StepEvent, StopReason } from "../types.js";
import { fromLogits, fromLogProbs, fromProbs, type Distribution } from "../math/distribution.js";
import { writeFileAtomic } from "./atomic.js";
import { serializeSafetensors, toFloat16Bits, type TensorInput } from "./safetensors.js";
import { validateAttentionRecord, type AttentionRecord } from "./attention.js";
import { CAPTURE_FILES, CAPTURE_SCHEMA_VERSION, type CaptureInfo, type CaptureManifest, type LogitsStreamInfo } from "./manifest.js";

export type LogitsCaptureOptions = { kind: "topk"; k?: number } | { kind: "full"; dtype?: "F32" | "F16" };

export const DEFAULT_LOGITS_CAPTURE: LogitsCaptureOptions = { kind: "topk", k: 50 };

/** The stream addLogits writes to unless told otherwise: the distribution each step selected from. */
export const DEFAULT_STREAM = "next";

/** One captured row: the top-k tokens and their log-probabilities, or the whole vocabulary's. */
export type CapturedRow = { ids: Int32Array; logprobs: Float32Array } | { logprobs: Float32Array | Uint16Array };

/** How many top tokens a distribution must keep for `captureRow` (1 for full rows). */
export function rowTopK(opts: LogitsCaptureOptions): number {
  return opts.kind === "topk" ? opts.k ?? 50 : 1;
}

/** The row a capture keeps of a prepared distribution, as `opts` asks (top-k rows need d.top that long). */
export function captureRow(d: Distribution, opts: LogitsCaptureOptions): CapturedRow {
  if (opts.kind === "topk") {
    const k = rowTopK(opts);
    if (d.top.length < k) throw new RangeError(`capture: a top-${k} row from a distribution that kept ${d.top.length}`);
    const ids = Int32Array.from(d.top.subarray(0, k));
    const logprobs = new Float32Array(k);
    for (let i = 0; i < k; i++) logprobs[i] = d.logProb(ids[i]);
    return { ids, logprobs };
  }
  if ((opts.dtype ?? "F32") === "F16") {
    const row = new Uint16Array(d.size);
    for (let i = 0; i < row.length; i++) row[i] = toFloat16Bits(d.logProb(i));
    return { logprobs: row };
  }
  const row = new Float32Array(d.size);
  for (let i = 0; i < row.length; i++) row[i] = d.logProb(i);
  return { logprobs: row };
}

export class CaptureExistsError extends Error {
  constructor(readonly dir: string) {
    super(`capture folder ${dir} already exists; captures are never overwritten (choose another name or use writeNew)`);
    this.name = "CaptureExistsError";
  }
}

interface Stream {
  opts: LogitsCaptureOptions;
  width: number;
  steps: number[];
  ids: Int32Array[];
  rows: (Float32Array | Uint16Array)[];
}

export interface AddLogitsOptions {
  /** Stream name ([A-Za-z0-9_-]+), e.g. "next", "replay-visible", "member". Default "next". */
  stream?: string;
  /** Divide raw logits by this before the softmax (the policy's temperature). Default 1. */
  temperature?: number;
  /** What the vector holds: raw logits (default), normalised log-probabilities, or probabilities. */
  input?: "logits" | "logprobs" | "probs";
}

export class CaptureRecorder {
  private readonly steps: StepEvent[] = [];
  private readonly streams = new Map<string, Stream>();
  private readonly attention: AttentionRecord[] = [];
  private stopReason?: StopReason;
  private timings: Record<string, number> = {};
  private written = false;
  /** Recycled float64 buffers for the per-row log-softmax (rows are copied out as float32/16). */
  private scratch?: Distribution;

  constructor(private readonly info: CaptureInfo, private readonly opts: { logits?: LogitsCaptureOptions } = {}) {
    if (!/^[0-9a-f]{64}$/.test(info.model.sha256)) throw new RangeError(`capture: model sha256 must be 64 lower-case hex digits, got ${JSON.stringify(info.model.sha256)}`);
    if (/[\\/]/.test(info.model.fileName)) throw new RangeError(`capture: model fileName must be a bare file name, got ${info.model.fileName}`);
  }

  addStep(step: StepEvent): void {
    this.steps.push(step);
  }

  /** Record one next-token distribution (full vocabulary in) for `step`. */
  addLogits(step: number, values: ArrayLike<number>, o: AddLogitsOptions = {}): void {
    const opts = this.logitsOptions;
    const topK = rowTopK(opts);
    if (values.length < topK) throw new RangeError(`capture: top-${topK} asked for a vocabulary of ${values.length}`);
    const reuse = this.scratch;
    const d = o.input === "probs" ? fromProbs(values, { topK, reuse })
      : o.input === "logprobs" ? fromLogProbs(values, { topK, reuse })
      : fromLogits(values, { temperature: o.temperature, topK, reuse });
    this.scratch = d;
    this.addRow(step, captureRow(d, opts), o.stream);
  }

  /** Record a row already made by `captureRow` with this recorder's `logitsOptions` (e.g. in a worker). */
  addRow(step: number, row: CapturedRow, streamName = DEFAULT_STREAM): void {
    if (!/^[A-Za-z0-9_-]+$/.test(streamName)) throw new RangeError(`capture: stream name ${JSON.stringify(streamName)} must match [A-Za-z0-9_-]+`);
    const opts = this.logitsOptions;
    const width = row.logprobs.length;
    if ((opts.kind === "topk") !== ("ids" in row)) throw new RangeError(`capture: a ${"ids" in row ? "top-k" : "full"} row for a ${opts.kind} capture`);
    let s = this.streams.get(streamName);
    if (!s) {
      s = { opts, width, steps: [], ids: [], rows: [] };
      this.streams.set(streamName, s);
    } else if (width !== s.width) {
      throw new RangeError(`capture: stream ${streamName} has rows of ${s.width}, got one of ${width}`);
    }
    s.steps.push(step);
    if ("ids" in row) s.ids.push(row.ids);
    s.rows.push(row.logprobs);
  }

  /** What each logits row keeps (top-k by default). */
  get logitsOptions(): LogitsCaptureOptions {
    return this.opts.logits ?? DEFAULT_LOGITS_CAPTURE;
  }

  addAttention(record: AttentionRecord): void {
    validateAttentionRecord(record);
    this.attention.push(record);
  }

  finish(f: { stopReason?: StopReason; timings?: Record<string, number> }): void {
    if (f.stopReason) this.stopReason = f.stopReason;
    if (f.timings) this.timings = { ...this.timings, ...f.timings };
  }

  /**
   * Drops every step from `n` on, with its rows and attention records: what a cancelled
   * comparison keeps is the capture of the steps it replayed, complete as far as it goes.
   */
  keepFirstSteps(n: number): void {
    this.steps.splice(n);
    for (const s of this.streams.values()) {
      const keep = s.steps.map((step, k) => (step < n ? k : -1)).filter((k) => k >= 0);
      s.steps = keep.map((k) => s.steps[k]);
      if (s.ids.length) s.ids = keep.map((k) => s.ids[k]);
      s.rows = keep.map((k) => s.rows[k]);
    }
    const kept = this.attention.filter((r) => r.step < n);
    this.attention.splice(0, this.attention.length, ...kept);
  }

  get stepCount(): number {
    return this.steps.length;
  }

  /**
   * Write into `dir`, which must not exist yet (its parent is created). Returns the manifest.
   * `companions` writes the folder's other files (reports, experiment.json) after the capture's
   * data and before the manifest, so a folder with a manifest is complete.
   */
  write(dir: string, now = new Date(), companions?: (dir: string) => void): CaptureManifest {
    if (this.written) throw new Error("capture: this recorder was already written");
    fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
    try {
      fs.mkdirSync(dir); // exclusive: fails if it exists, even as an empty folder
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new CaptureExistsError(dir);
      throw e;
    }
    const manifest = this.writeInto(dir, now, companions);
    this.written = true;
    return manifest;
  }

  /** Write into a fresh `<root>/<UTC timestamp>-<slug>` (suffixed -2, -3, ... if taken); returns it. */
  writeNew(root: string, slug: string, now = new Date(), companions?: (dir: string) => void): string {
    const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z").replace("T", "-");
    const clean = slug.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "capture";
    for (let i = 1; i < 1000; i++) {
      const dir = path.join(root, `${stamp}-${clean}${i > 1 ? `-${i}` : ""}`);
      try {
        this.write(dir, now, companions);
        return dir;
      } catch (e) {
        if (!(e instanceof CaptureExistsError)) throw e;
      }
    }
    throw new Error(`capture: could not find a free folder name under ${root}`);
  }

  private writeInto(dir: string, now: Date, companions?: (dir: string) => void): CaptureManifest {
    const lines = this.steps.map((s) => JSON.stringify(s) + "\n").join("");
    writeFileAtomic(path.join(dir, CAPTURE_FILES.steps), lines, { exclusive: true });
    const files: CaptureManifest["files"] = { steps: { path: CAPTURE_FILES.steps, count: this.steps.length } };
    if (this.streams.size) {
      const tensors: Record<string, TensorInput> = {};
      const meta: Record<string, string> = { format: "tempo-capture-logits", schema_version: String(CAPTURE_SCHEMA_VERSION) };
      const infos: Record<string, LogitsStreamInfo> = {};
      for (const [name, s] of this.streams) {
        const rows = s.steps.length;
        tensors[`${name}.step`] = { dtype: "I32", shape: [rows], data: Int32Array.from(s.steps) };
        if (s.opts.kind === "topk") {
          tensors[`${name}.token_ids`] = { dtype: "I32", shape: [rows, s.width], chunks: s.ids };
          tensors[`${name}.logprobs`] = { dtype: "F32", shape: [rows, s.width], chunks: s.rows };
          infos[name] = { kind: "topk", k: s.width, rows };
        } else {
          const dtype = s.opts.dtype ?? "F32";
          tensors[`${name}.logprobs`] = { dtype, shape: [rows, s.width], chunks: s.rows };
          infos[name] = { kind: "full", vocab: s.width, dtype, rows };
        }
        meta[`${name}.kind`] = infos[name].kind;
      }
      writeFileAtomic(path.join(dir, CAPTURE_FILES.logits), serializeSafetensors(tensors, meta), { exclusive: true });
      files.logits = { path: CAPTURE_FILES.logits, streams: infos };
    }
    if (this.attention.length) {
      const tensors: Record<string, TensorInput> = {};
      const n = this.attention.length;
      const index = new Int32Array(n * 3);
      // Streams (which decode of a set a record is: tempo compare captures P, Q and the null
      // baseline) are numbered in order of first appearance; -1: a record without one.
      const streams: { name: string; mode?: string; records: number }[] = [];
      const streamOf = new Int32Array(n);
      this.attention.forEach((r, i) => {
        const q = r.queryCells.length, k = r.keyCells.length, p = `attn.${i}`;
        index.set([r.step, r.layer, r.heads], i * 3);
        let s = -1;
        if (r.stream !== undefined) {
          s = streams.findIndex((x) => x.name === r.stream);
          if (s < 0) s = streams.push({ name: r.stream, ...(r.mode !== undefined ? { mode: r.mode } : {}), records: 0 }) - 1;
          else if (streams[s].mode !== r.mode) throw new RangeError(`capture: attention stream ${r.stream} holds records of modes ${String(streams[s].mode)} and ${String(r.mode)}`);
          streams[s].records++;
        }
        streamOf[i] = s;
        tensors[`${p}.weights`] = { dtype: "F32", shape: [r.heads, q, k], data: r.weights };
        tensors[`${p}.query_cells`] = { dtype: "I32", shape: [q], data: r.queryCells };
        tensors[`${p}.key_cells`] = { dtype: "I32", shape: [k], data: r.keyCells };
        tensors[`${p}.key_tokens`] = { dtype: "I32", shape: [k], data: r.keyTokens };
        tensors[`${p}.key_steps`] = { dtype: "I32", shape: [k], data: r.keySteps };
        tensors[`${p}.key_positions`] = { dtype: "I32", shape: [k], data: r.keyPositions };
      });
      // records[i] = (step, layer, heads) of attn.<i>.*
      tensors.records = { dtype: "I32", shape: [n, 3], data: index };
      const meta: Record<string, string> = { format: "tempo-capture-attention", schema_version: String(CAPTURE_SCHEMA_VERSION) };
      if (streams.length) {
        // An addition readers of the older layout skip: record_streams[i] indexes the
        // metadata's "streams" list (JSON [{name, mode, records}]), -1 for none.
        tensors.record_streams = { dtype: "I32", shape: [n], data: streamOf };
        meta.streams = JSON.stringify(streams);
      }
      writeFileAtomic(path.join(dir, CAPTURE_FILES.attention), serializeSafetensors(tensors, meta), { exclusive: true });
      files.attention = { path: CAPTURE_FILES.attention, records: n, ...(streams.length ? { streams } : {}) };
    }
    companions?.(dir);
    const manifest: CaptureManifest = {
      format: "tempo-capture",
      schemaVersion: CAPTURE_SCHEMA_VERSION,
      createdAt: now.toISOString(),
      ...this.info,
      versions: { node: process.versions.node, ...this.info.versions },
      ...(this.stopReason ? { stopReason: this.stopReason } : {}),
      timings: this.timings,
      files,
    };
    writeFileAtomic(path.join(dir, CAPTURE_FILES.manifest), JSON.stringify(manifest, null, 2) + "\n", { exclusive: true });
    return manifest;
  }
}
