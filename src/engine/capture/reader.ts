/** Loads a capture folder back, with errors that say which file is wrong and how. */
import * as fs from "node:fs";
import * as path from "node:path";
import type { StepEvent } from "../types.js";
import { getTensor, readSafetensors, tensorToFloat32, type SafetensorsFile } from "./safetensors.js";
import type { AttentionRecord } from "./attention.js";
import { CAPTURE_FILES, CAPTURE_SCHEMA_VERSION, type CaptureManifest } from "./manifest.js";

export class CaptureError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "CaptureError";
  }
}

export type LogitsStream =
  | { kind: "topk"; k: number; steps: Int32Array; tokenIds: Int32Array; logprobs: Float32Array }
  /** logprobs row-major [rows, vocab], F16 files decoded to float32. */
  | { kind: "full"; vocab: number; dtype: "F32" | "F16"; steps: Int32Array; logprobs: Float32Array };

export interface Capture {
  dir: string;
  manifest: CaptureManifest;
  steps: StepEvent[];
  logits: Map<string, LogitsStream>;
  attention: AttentionRecord[];
}

/** Row `i` of a stream: its step and, for top-k, the token ids with their log-probabilities. */
export function streamRow(s: LogitsStream, i: number): { step: number; tokenIds?: Int32Array; logprobs: Float32Array } {
  const w = s.kind === "topk" ? s.k : s.vocab;
  if (!(i >= 0 && i < s.steps.length)) throw new RangeError(`row ${i} is outside 0..${s.steps.length - 1}`);
  return {
    step: s.steps[i],
    ...(s.kind === "topk" ? { tokenIds: s.tokenIds.subarray(i * w, (i + 1) * w) } : {}),
    logprobs: s.logprobs.subarray(i * w, (i + 1) * w),
  };
}

export function readManifest(dir: string): CaptureManifest {
  const file = path.join(dir, CAPTURE_FILES.manifest);
  if (!fs.existsSync(dir)) throw new CaptureError(dir, "capture folder not found");
  if (!fs.existsSync(file)) throw new CaptureError(file, "missing: the capture is incomplete (manifest.json is written last, so the run did not finish writing)");
  let m: unknown;
  try {
    m = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new CaptureError(file, `not valid JSON (${(e as Error).message})`);
  }
  const o = m as Partial<CaptureManifest>;
  if (typeof o !== "object" || o === null || o.format !== "tempo-capture") throw new CaptureError(file, "not a TEMPO capture manifest (format is not \"tempo-capture\")");
  if (typeof o.schemaVersion !== "number" || o.schemaVersion > CAPTURE_SCHEMA_VERSION) throw new CaptureError(file, `schema version ${String(o.schemaVersion)} is not supported (this build reads up to ${CAPTURE_SCHEMA_VERSION})`);
  if (!o.model || typeof o.model.sha256 !== "string" || typeof o.model.fileName !== "string") throw new CaptureError(file, "model.fileName / model.sha256 missing");
  if (!o.files || !o.files.steps || typeof o.files.steps.count !== "number") throw new CaptureError(file, "files.steps missing");
  return o as CaptureManifest;
}

export function readSteps(file: string, expected?: number): StepEvent[] {
  if (!fs.existsSync(file)) throw new CaptureError(file, "missing");
  const text = fs.readFileSync(file, "utf8");
  const lines = text.split("\n");
  const truncatedTail = lines[lines.length - 1] !== "";
  if (!truncatedTail) lines.pop();
  const steps: StepEvent[] = [];
  lines.forEach((line, i) => {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      const last = i === lines.length - 1 && truncatedTail;
      throw new CaptureError(file, `line ${i + 1}: ${last ? "truncated (the last line is cut off)" : `not valid JSON (${(e as Error).message})`}`);
    }
    const s = v as Partial<StepEvent>;
    if (typeof s !== "object" || s === null || typeof s.index !== "number" || !Array.isArray(s.candidates)) throw new CaptureError(file, `line ${i + 1}: not a step event (needs index and candidates)`);
    steps.push(s as StepEvent);
  });
  if (expected !== undefined && steps.length !== expected) throw new CaptureError(file, `truncated or padded: ${steps.length} steps, the manifest says ${expected}`);
  return steps;
}

function loadSafetensors(file: string): SafetensorsFile {
  if (!fs.existsSync(file)) throw new CaptureError(file, "missing, but the manifest lists it");
  return readSafetensors(file); // throws SafetensorsError naming the file
}

/**
 * `rel`, a path the manifest lists, inside `dir`: a capture is shared data, and its manifest
 * must not make a reader open files outside it (by "..", an absolute path or a symlink).
 */
export function captureFile(dir: string, rel: unknown): string {
  const manifest = path.join(dir, CAPTURE_FILES.manifest);
  if (typeof rel !== "string" || rel === "" || rel.includes("\0")) throw new CaptureError(manifest, `lists a file path that is not a name: ${JSON.stringify(rel)}`);
  const outside = (from: string, to: string) => {
    const r = path.relative(from, to);
    return r === "" || r.startsWith("..") || path.isAbsolute(r);
  };
  const file = path.resolve(dir, rel);
  if (path.isAbsolute(rel) || outside(path.resolve(dir), file)) throw new CaptureError(manifest, `lists ${JSON.stringify(rel)}, outside the capture folder`);
  if (fs.existsSync(file) && outside(fs.realpathSync(dir), fs.realpathSync(file))) throw new CaptureError(manifest, `lists ${JSON.stringify(rel)}, which links outside the capture folder`);
  return file;
}

export function readCapture(dir: string): Capture {
  const manifest = readManifest(dir);
  const steps = readSteps(captureFile(dir, manifest.files.steps.path), manifest.files.steps.count);
  const logits = new Map<string, LogitsStream>();
  if (manifest.files.logits) {
    const file = captureFile(dir, manifest.files.logits.path);
    const f = loadSafetensors(file);
    for (const [name, info] of Object.entries(manifest.files.logits.streams)) {
      const stepT = getTensor(f, `${name}.step`, "I32", file);
      const shapeOk = (shape: number[], w: number) => shape.length === 2 && shape[0] === info.rows && shape[1] === w;
      if (stepT.data.length !== info.rows) throw new CaptureError(file, `${name}.step has ${stepT.data.length} rows, the manifest says ${info.rows}`);
      if (info.kind === "topk") {
        const ids = getTensor(f, `${name}.token_ids`, "I32", file);
        const lp = getTensor(f, `${name}.logprobs`, "F32", file);
        if (!shapeOk(ids.shape, info.k) || !shapeOk(lp.shape, info.k)) throw new CaptureError(file, `${name}: shapes ${JSON.stringify(ids.shape)} / ${JSON.stringify(lp.shape)}, expected [${info.rows}, ${info.k}]`);
        logits.set(name, { kind: "topk", k: info.k, steps: stepT.data, tokenIds: ids.data, logprobs: lp.data });
      } else {
        const t = f.tensors.get(`${name}.logprobs`);
        if (!t || t.dtype !== info.dtype) throw new CaptureError(file, `${name}.logprobs missing or not ${info.dtype}`);
        if (!shapeOk(t.shape, info.vocab)) throw new CaptureError(file, `${name}.logprobs has shape ${JSON.stringify(t.shape)}, expected [${info.rows}, ${info.vocab}]`);
        logits.set(name, { kind: "full", vocab: info.vocab, dtype: info.dtype, steps: stepT.data, logprobs: tensorToFloat32(t) });
      }
    }
  }
  const attention: AttentionRecord[] = [];
  if (manifest.files.attention) {
    const file = captureFile(dir, manifest.files.attention.path);
    const f = loadSafetensors(file);
    const rec = getTensor(f, "records", "I32", file);
    const n = manifest.files.attention.records;
    if (rec.shape[0] !== n || rec.shape[1] !== 3) throw new CaptureError(file, `records has shape ${JSON.stringify(rec.shape)}, expected [${n}, 3]`);
    // Streams (optional: captures of one stream, and those written before streams, have none).
    let streamOf: Int32Array | undefined;
    let streams: { name: string; mode?: string }[] = [];
    if (f.tensors.has("record_streams")) {
      const t = getTensor(f, "record_streams", "I32", file);
      if (t.shape.length !== 1 || t.shape[0] !== n) throw new CaptureError(file, `record_streams has shape ${JSON.stringify(t.shape)}, expected [${n}]`);
      try {
        streams = JSON.parse(f.metadata.streams ?? "");
      } catch {
        throw new CaptureError(file, "record_streams is present but the metadata's \"streams\" is not a JSON list");
      }
      if (!Array.isArray(streams) || !streams.every((s) => typeof s?.name === "string" && (s.mode === undefined || typeof s.mode === "string"))) throw new CaptureError(file, "metadata \"streams\" must be a list of {name, mode}");
      for (const v of t.data) if (!(v >= -1 && v < streams.length)) throw new CaptureError(file, `record_streams holds ${v}, outside -1..${streams.length - 1}`);
      streamOf = t.data;
    }
    for (let i = 0; i < n; i++) {
      const p = `attn.${i}`;
      const weights = getTensor(f, `${p}.weights`, "F32", file);
      const r: AttentionRecord = {
        step: rec.data[i * 3], layer: rec.data[i * 3 + 1], heads: rec.data[i * 3 + 2],
        weights: weights.data,
        queryCells: getTensor(f, `${p}.query_cells`, "I32", file).data,
        keyCells: getTensor(f, `${p}.key_cells`, "I32", file).data,
        keyTokens: getTensor(f, `${p}.key_tokens`, "I32", file).data,
        keySteps: getTensor(f, `${p}.key_steps`, "I32", file).data,
        keyPositions: getTensor(f, `${p}.key_positions`, "I32", file).data,
      };
      const s = streamOf ? streams[streamOf[i]] : undefined;
      if (s) {
        r.stream = s.name;
        if (s.mode !== undefined) r.mode = s.mode;
      }
      const [h, q, k] = weights.shape;
      if (h !== r.heads || q !== r.queryCells.length || k !== r.keyCells.length) throw new CaptureError(file, `${p}.weights has shape ${JSON.stringify(weights.shape)}, expected [${r.heads}, ${r.queryCells.length}, ${r.keyCells.length}]`);
      attention.push(r);
    }
  }
  return { dir, manifest, steps, logits, attention };
}

export class ModelMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelMismatchError";
  }
}

/** Replays must use the very model file that made the capture: compare SHA-256, not names. */
export function assertSameModel(manifest: CaptureManifest, model: { fileName: string; sha256: string }): void {
  if (manifest.model.sha256.toLowerCase() !== model.sha256.toLowerCase()) {
    throw new ModelMismatchError(
      `cannot replay: the capture was made with ${manifest.model.fileName} (SHA-256 ${manifest.model.sha256}), ` +
        `but the loaded model is ${model.fileName} (SHA-256 ${model.sha256}); load the same model file`,
    );
  }
}
