/**
 * A minimal GGUF v3 writer: metadata key/values plus tensors (F32 or F16).
 * Used by the test-model fixtures and by the demo-model export, so that no test
 * and no first run needs a download.
 */
import { closeSync, openSync, writeSync, renameSync } from "node:fs";
import { float32ToFloat16 } from "../engine/capture/safetensors.js";

export const GGUF_ALIGNMENT = 32;

export enum GgufValueType {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
}

export enum GgmlType { F32 = 0, F16 = 1 }

export type GgufValue =
  | { type: GgufValueType.STRING; value: string }
  | { type: GgufValueType.UINT32 | GgufValueType.INT32 | GgufValueType.FLOAT32 | GgufValueType.BOOL; value: number | boolean }
  | { type: GgufValueType.ARRAY; itemType: GgufValueType.STRING; value: string[] }
  | { type: GgufValueType.ARRAY; itemType: GgufValueType.FLOAT32 | GgufValueType.INT32; value: ArrayLike<number> };

export interface GgufTensor {
  name: string;
  /** ggml order: ne[0] is the innermost (contiguous) dimension. */
  shape: number[];
  type: GgmlType;
  /** Row-major data with ne[0] fastest; converted to `type` on write. */
  data: Float32Array;
}

/** Tiny growable little-endian byte buffer for the header. */
class ByteSink {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void { this.chunks.push(b); this.length += b.length; }
  u32(v: number): void { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.push(b); }
  i32(v: number): void { const b = Buffer.alloc(4); b.writeInt32LE(v); this.push(b); }
  u64(v: number): void { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.push(b); }
  f32(v: number): void { const b = Buffer.alloc(4); b.writeFloatLE(v); this.push(b); }
  str(s: string): void { const b = Buffer.from(s, "utf8"); this.u64(b.length); this.push(b); }
  pad(alignment: number): void { const r = this.length % alignment; if (r) this.push(Buffer.alloc(alignment - r)); }
  toBuffer(): Buffer { return Buffer.concat(this.chunks, this.length); }
}

function writeScalar(sink: ByteSink, type: GgufValueType, v: number | boolean | string): void {
  switch (type) {
    case GgufValueType.STRING: sink.str(String(v)); return;
    case GgufValueType.UINT32: sink.u32(Number(v)); return;
    case GgufValueType.INT32: sink.i32(Number(v)); return;
    case GgufValueType.FLOAT32: sink.f32(Number(v)); return;
    case GgufValueType.BOOL: sink.push(Buffer.from([v ? 1 : 0])); return;
    default: throw new Error(`unsupported GGUF value type ${type}`);
  }
}

function tensorBytes(t: GgufTensor): Buffer {
  if (t.type === GgmlType.F32) return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const half = float32ToFloat16(t.data); // little-endian on every platform node-llama-cpp ships for
  return Buffer.from(half.buffer, half.byteOffset, half.byteLength);
}

function elementCount(shape: number[]): number { return shape.reduce((a, b) => a * b, 1); }

/** Writes a GGUF v3 file atomically (temp file + rename). */
export function writeGguf(path: string, metadata: Record<string, GgufValue>, tensors: GgufTensor[]): void {
  const header = new ByteSink();
  header.push(Buffer.from("GGUF", "latin1"));
  header.u32(3);
  header.u64(tensors.length);
  header.u64(Object.keys(metadata).length);
  for (const [key, v] of Object.entries(metadata)) {
    header.str(key);
    header.u32(v.type);
    if (v.type === GgufValueType.ARRAY) {
      header.u32(v.itemType);
      header.u64(v.value.length);
      for (let i = 0; i < v.value.length; i++) writeScalar(header, v.itemType, v.value[i]);
    } else {
      writeScalar(header, v.type, v.value);
    }
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    if (elementCount(t.shape) !== t.data.length) throw new Error(`tensor ${t.name}: shape ${t.shape} does not match ${t.data.length} values`);
    header.str(t.name);
    header.u32(t.shape.length);
    for (const d of t.shape) header.u64(d);
    header.u32(t.type);
    header.u64(offset);
    offsets.push(offset);
    const size = t.data.length * (t.type === GgmlType.F32 ? 4 : 2);
    offset += Math.ceil(size / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
  }
  header.pad(GGUF_ALIGNMENT);

  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, header.toBuffer());
    for (const t of tensors) {
      const bytes = tensorBytes(t);
      writeSync(fd, bytes);
      const pad = (GGUF_ALIGNMENT - (bytes.length % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;
      if (pad) writeSync(fd, Buffer.alloc(pad));
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
