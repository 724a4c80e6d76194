/**
 * safetensors reader and writer (the format of Hugging Face's `safetensors` package):
 * 8-byte little-endian header length N, N bytes of JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": { str: str } }`,
 * then the raw little-endian tensor bytes; offsets are relative to the end of the header.
 * Loads with numpy alone (python/tempo_capture.py) and with the `safetensors` package.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { writeFileAtomic } from "./atomic.js";

export type DType = "F64" | "F32" | "F16" | "I64" | "I32" | "I16" | "I8" | "U8";

export const DTYPE_SIZE: Readonly<Record<DType, number>> = { F64: 8, F32: 4, F16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1 };

/** In-memory arrays per dtype. F16 is held as its raw IEEE binary16 bits (Node has no Float16Array). */
export interface DTypeArray {
  F64: Float64Array;
  F32: Float32Array;
  F16: Uint16Array;
  I64: BigInt64Array;
  I32: Int32Array;
  I16: Int16Array;
  I8: Int8Array;
  U8: Uint8Array;
}

export type Tensor = { [D in DType]: { dtype: D; shape: number[]; data: DTypeArray[D] } }[DType];

/**
 * What the writer accepts: a Tensor; F16 given as float32 values (rounded to nearest even
 * here); or the tensor's bytes in row chunks (already in the dtype's layout), so that large
 * captures are written without first concatenating them.
 */
export type TensorInput =
  | Tensor
  | { dtype: "F16"; shape: number[]; data: Float32Array }
  | { dtype: DType; shape: number[]; chunks: readonly ArrayBufferView[] };

export class SafetensorsError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "SafetensorsError";
  }
}

/** The format's own cap (the Rust reader refuses larger headers). */
const MAX_HEADER_BYTES = 100_000_000;

function assertLittleEndian(): void {
  // Typed arrays use host byte order; every platform Node ships for is little-endian, but say so.
  if (os.endianness() !== "LE") throw new Error("safetensors: big-endian hosts are not supported");
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
}

// ---- float16 conversion (IEEE 754 binary16, round to nearest even) -------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float -> binary16 bits, rounding to nearest, ties to even; overflow -> Infinity; NaN kept. */
export function toFloat16Bits(value: number): number {
  f32[0] = value; // first round to float32 (exact for float32 input)
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit bit in.
    if (e < -10) return sign; // rounds to zero
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  return sign | (half + (rem > 0x1000 || (rem === 0x1000 && (half & 1)) ? 1 : 0));
}

export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function float32ToFloat16(data: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = toFloat16Bits(data[i]);
  return out;
}

let f16Table: Float32Array | undefined;

/** Decode through a 65,536-entry table (256 KB, built once): one load per element. */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = fromFloat16Bits(h);
  }
  const t = f16Table;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}

/** Any floating tensor as float32 values (F16 decoded, F64 narrowed). */
export function tensorToFloat32(t: Tensor): Float32Array {
  if (t.dtype === "F16") return float16ToFloat32(t.data);
  if (t.dtype === "F32") return t.data;
  if (t.dtype === "F64") return Float32Array.from(t.data);
  throw new TypeError(`tensorToFloat32: ${t.dtype} is not a floating dtype`);
}

// ---- writing --------------------------------------------------------------------------------

/** The tensor's bytes as a list of views, after checking shape, dtype and size. */
function tensorBytes(name: string, t: TensorInput): Uint8Array[] {
  if (!checkShape(t.shape)) throw new RangeError(`tensor ${name}: shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`);
  if (!(t.dtype in DTYPE_SIZE)) throw new RangeError(`tensor ${name}: unsupported dtype ${String(t.dtype)}`);
  const want = elementCount(t.shape);
  const asBytes = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if ("chunks" in t) {
    const chunks = t.chunks.map(asBytes);
    const bytes = chunks.reduce((s, c) => s + c.byteLength, 0);
    if (bytes !== want * DTYPE_SIZE[t.dtype]) throw new RangeError(`tensor ${name}: ${t.dtype} ${JSON.stringify(t.shape)} needs ${want * DTYPE_SIZE[t.dtype]} bytes, chunks hold ${bytes}`);
    return chunks;
  }
  const data = t.dtype === "F16" && t.data instanceof Float32Array ? float32ToFloat16(t.data) : t.data;
  if (data.length !== want) throw new RangeError(`tensor ${name}: shape ${JSON.stringify(t.shape)} needs ${want} elements, data has ${data.length}`);
  return [asBytes(data)];
}

/**
 * Serialise to the chunks of a safetensors file (header, then each tensor's bytes), without
 * concatenating the data: large captures are written chunk by chunk.
 * Tensors are laid out in name order; the header is space-padded to 8 bytes like the reference
 * writer, so every tensor starts aligned.
 */
export function serializeSafetensors(tensors: Record<string, TensorInput>, metadata: Record<string, string> = {}): Uint8Array[] {
  assertLittleEndian();
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") throw new TypeError(`metadata ${k}: values must be strings, got ${typeof v}`);
  }
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === "__metadata__") throw new RangeError("a tensor cannot be named __metadata__");
    const t = tensors[name];
    const chunks = tensorBytes(name, t);
    const size = chunks.reduce((s, c) => s + c.byteLength, 0);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
    parts.push(...chunks);
  }
  let json = Buffer.from(JSON.stringify(header), "utf8");
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return [len, json, ...parts];
}

/** Write atomically (temp file in the same folder, fsync, rename). */
export function writeSafetensors(file: string, tensors: Record<string, TensorInput>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}

// ---- reading --------------------------------------------------------------------------------

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Parse and validate a safetensors file held in memory. `file` names it in errors. */
export function parseSafetensors(buf: Uint8Array, file = "<buffer>"): SafetensorsFile {
  assertLittleEndian();
  const fail = (msg: string): never => { throw new SafetensorsError(file, msg); };
  if (buf.byteLength < 8) fail(`file too short (${buf.byteLength} bytes): not a safetensors file or truncated before the 8-byte header length`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`bad header length ${n64} (more than ${MAX_HEADER_BYTES} bytes): not a safetensors file`);
  const n = Number(n64);
  if (n < 2) fail(`bad header length ${n}: too small for a JSON object`);
  if (8 + n > buf.byteLength) fail(`truncated: header says ${n} bytes of JSON but only ${buf.byteLength - 8} bytes follow the length`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("header JSON is not an object");
  const entries = Object.entries(header as Record<string, unknown>);
  const dataStart = 8 + n;
  const dataLen = buf.byteLength - dataStart;
  let metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number; dtype: DType; shape: number[] }[] = [];
  for (const [name, raw] of entries) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("__metadata__ is not an object");
      for (const [k, v] of Object.entries(raw as object)) if (typeof v !== "string") fail(`__metadata__.${k} is not a string`);
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== "object" || info === null) fail(`tensor ${name}: entry is not an object`);
    const dtype = info.dtype;
    if (typeof dtype !== "string" || !(dtype in DTYPE_SIZE)) fail(`tensor ${name}: unsupported dtype ${JSON.stringify(dtype)}`);
    if (!checkShape(info.shape)) fail(`tensor ${name}: shape ${JSON.stringify(info.shape)} is not a list of non-negative integers`);
    const off = info.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isSafeInteger(x) && x >= 0)) fail(`tensor ${name}: data_offsets ${JSON.stringify(off)} is not [begin, end]`);
    const [begin, end] = off as [number, number];
    if (begin > end) fail(`tensor ${name}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) fail(`tensor ${name}: data_offsets [${begin}, ${end}] run past the data (${dataLen} bytes): file truncated or offsets out of range`);
    const shape = info.shape as number[];
    const want = elementCount(shape) * DTYPE_SIZE[dtype as DType];
    if (end - begin !== want) fail(`tensor ${name}: ${dtype} ${JSON.stringify(shape)} needs ${want} bytes but data_offsets span ${end - begin}`);
    spans.push({ name, begin, end, dtype: dtype as DType, shape });
  }
  // The format requires the buffer to be covered exactly: sorted, no overlap, no holes.
  const byBegin = [...spans].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of byBegin) {
    if (s.begin < cursor) fail(`tensor ${s.name}: data_offsets [${s.begin}, ${s.end}] overlap the previous tensor (which ends at ${cursor})`);
    if (s.begin > cursor) fail(`tensor ${s.name}: a hole of ${s.begin - cursor} bytes before it (offsets must cover the data contiguously)`);
    cursor = s.end;
  }
  if (cursor !== dataLen) fail(`${dataLen - cursor} unexpected bytes after the last tensor (file has ${dataLen} data bytes, tensors cover ${cursor})`);
  const tensors = new Map<string, Tensor>();
  for (const s of spans) {
    // Copy into a fresh, aligned buffer: the header length need not be a multiple of 8.
    // (Not buf.slice: on a Node Buffer that is a view sharing the whole file's memory.)
    const bytes = new Uint8Array(s.end - s.begin);
    bytes.set(buf.subarray(dataStart + s.begin, dataStart + s.end));
    tensors.set(s.name, { dtype: s.dtype, shape: s.shape, data: view_(s.dtype, bytes.buffer) } as Tensor);
  }
  return { tensors, metadata };
}

function view_(dtype: DType, b: ArrayBuffer): DTypeArray[DType] {
  switch (dtype) {
    case "F64": return new Float64Array(b);
    case "F32": return new Float32Array(b);
    case "F16": return new Uint16Array(b);
    case "I64": return new BigInt64Array(b);
    case "I32": return new Int32Array(b);
    case "I16": return new Int16Array(b);
    case "I8": return new Int8Array(b);
    case "U8": return new Uint8Array(b);
  }
}

export function readSafetensors(file: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new SafetensorsError(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseSafetensors(buf, file);
}

/** A tensor by name with the expected dtype, or a clear error. */
export function getTensor<D extends DType>(f: SafetensorsFile, name: string, dtype: D, file = "<safetensors>"): { dtype: D; shape: number[]; data: DTypeArray[D] } {
  const t = f.tensors.get(name);
  if (!t) throw new SafetensorsError(file, `missing tensor ${name}`);
  if (t.dtype !== dtype) throw new SafetensorsError(file, `tensor ${name} is ${t.dtype}, expected ${dtype}`);
  return t as { dtype: D; shape: number[]; data: DTypeArray[D] };
}
