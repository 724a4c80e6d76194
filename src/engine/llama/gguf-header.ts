/**
 * Reads a GGUF file's metadata and tensor shapes (no tensor data) so that the engine can
 * refuse hyper-parameters llama.cpp would abort on. Every length is checked against the
 * file size before anything is allocated, so a hostile count fails as "truncated".
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

export type GgufScalar = number | bigint | boolean | string;
export type GgufMetaValue = GgufScalar | GgufScalar[];

export interface GgufHeader {
  metadata: Map<string, GgufMetaValue>;
  tensors: Array<{ name: string; dims: bigint[] }>;
}

export class GgufHeaderError extends Error {}

const CHUNK = 1 << 20;
/** Fixed sizes of the scalar value types (GGUF type ids 0..12; 8 string and 9 array vary). */
const SCALAR_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** Sequential little-endian reads from a file descriptor, through a sliding buffer. */
class FileCursor {
  private buf = Buffer.alloc(0);
  private start = 0; // file offset of buf[0]
  private pos = 0; // file offset of the next read
  readonly size: number;

  constructor(private readonly fd: number) { this.size = fstatSync(fd).size; }

  get remaining(): number { return this.size - this.pos; }

  private take(n: number): Buffer {
    if (n > this.remaining) throw new GgufHeaderError("truncated GGUF header");
    const end = this.pos + n;
    if (end > this.start + this.buf.length) {
      const fresh = Buffer.alloc(Math.max(n, Math.min(CHUNK, this.size - this.pos)));
      readSync(this.fd, fresh, 0, fresh.length, this.pos);
      this.buf = fresh;
      this.start = this.pos;
    }
    const out = this.buf.subarray(this.pos - this.start, end - this.start);
    this.pos = end;
    return out;
  }

  u32(): number { return this.take(4).readUInt32LE(0); }
  u64(): bigint { return this.take(8).readBigUInt64LE(0); }
  /** A u64 count or length, refused when `unit` bytes each would pass the end of the file. */
  count(unit: number): number {
    const n = this.u64();
    if (n * BigInt(unit) > BigInt(this.remaining)) throw new GgufHeaderError("truncated GGUF header (a count runs past the end of the file)");
    return Number(n);
  }
  str(): string { return this.take(this.count(1)).toString("utf8"); }

  scalar(type: number): GgufScalar {
    if (type === 8) return this.str();
    const size = SCALAR_SIZE[type];
    if (size === undefined) throw new GgufHeaderError(`bad GGUF value type ${type}`);
    const b = this.take(size);
    switch (type) {
      case 0: return b.readUInt8(0);
      case 1: return b.readInt8(0);
      case 2: return b.readUInt16LE(0);
      case 3: return b.readInt16LE(0);
      case 4: return b.readUInt32LE(0);
      case 5: return b.readInt32LE(0);
      case 6: return b.readFloatLE(0);
      case 7: return b.readUInt8(0) !== 0;
      case 10: return b.readBigUInt64LE(0);
      case 11: return b.readBigInt64LE(0);
      default: return b.readDoubleLE(0);
    }
  }

  value(type: number): GgufMetaValue {
    if (type !== 9) return this.scalar(type);
    const itemType = this.u32();
    // Nested arrays carry no hyper-parameter the engine checks; llama.cpp refuses them too.
    if (itemType === 9) throw new GgufHeaderError("nested GGUF arrays are not supported");
    const n = this.count(itemType === 8 ? 8 : SCALAR_SIZE[itemType] ?? 1);
    const out: GgufScalar[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.scalar(itemType);
    return out;
  }
}

/** Metadata and tensor shapes of a GGUF v2/v3 file (the magic and version are checked by the caller). */
export function readGgufHeader(path: string): GgufHeader {
  const fd = openSync(path, "r");
  try {
    const c = new FileCursor(fd);
    c.u32(); // magic
    c.u32(); // version
    const nTensors = c.count(8 + 4 + 8 + 4 + 8); // name length, n_dims, one dim, type, offset
    const nKv = c.count(8 + 4);
    const metadata = new Map<string, GgufMetaValue>();
    for (let i = 0; i < nKv; i++) {
      const key = c.str();
      metadata.set(key, c.value(c.u32()));
    }
    const tensors: GgufHeader["tensors"] = [];
    for (let i = 0; i < nTensors; i++) {
      const name = c.str();
      const nDims = c.u32();
      if (nDims < 1 || nDims > 4) throw new GgufHeaderError(`tensor ${name} has ${nDims} dimensions (GGML allows 1 to 4)`);
      const dims = Array.from({ length: nDims }, () => c.u64());
      c.u32(); // type
      c.u64(); // offset
      tensors.push({ name, dims });
    }
    return { metadata, tensors };
  } finally {
    closeSync(fd);
  }
}
