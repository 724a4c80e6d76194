import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  fromFloat16Bits, parseSafetensors, readSafetensors, serializeSafetensors, SafetensorsError, tensorToFloat32, toFloat16Bits, writeSafetensors,
} from "../../src/engine/capture/safetensors.js";

/** A file assembled by hand from the format description, independent of the writer. */
function handMade(header: object, data: Uint8Array, headerText?: string): Uint8Array {
  const json = Buffer.from(headerText ?? JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

describe("safetensors", () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "st-")); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads a hand-assembled file (header, offsets, little-endian data)", () => {
    // Two I32 values 1 and 258 (LE bytes 01 00 00 00 02 01 00 00) then one U8 (7); odd header length.
    const data = Uint8Array.from([1, 0, 0, 0, 2, 1, 0, 0, 7]);
    const f = parseSafetensors(handMade({ a: { dtype: "I32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "U8", shape: [1, 1], data_offsets: [8, 9] }, __metadata__: { k: "v" } }, data));
    assert.deepEqual(Array.from(f.tensors.get("a")!.data as Int32Array), [1, 258]);
    assert.deepEqual(f.tensors.get("b")!.shape, [1, 1]);
    assert.deepEqual(f.metadata, { k: "v" });
  });

  it("round-trips every dtype with metadata, atomically, header padded to 8 bytes", () => {
    const file = path.join(dir, "all.safetensors");
    const f16 = Float32Array.from([1, -2, 0.5, 65504, 1e-3]);
    writeSafetensors(file, {
      f64: { dtype: "F64", shape: [2], data: Float64Array.from([Math.PI, -0]) },
      f32: { dtype: "F32", shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -6.5]) },
      f16: { dtype: "F16", shape: [5], data: f16 },
      i64: { dtype: "I64", shape: [2], data: BigInt64Array.from([-(2n ** 62n), 5n]) },
      i32: { dtype: "I32", shape: [3, 1], data: Int32Array.from([-1, 0, 2 ** 31 - 1]) },
      u8: { dtype: "U8", shape: [0], data: new Uint8Array(0) },
      scalar: { dtype: "F32", shape: [], data: Float32Array.from([42]) },
    }, { format: "test", n: "1" });
    assert.deepEqual(fs.readdirSync(dir), ["all.safetensors"]); // no temp file left
    const raw = fs.readFileSync(file);
    assert.equal(Number(raw.readBigUInt64LE(0)) % 8, 0);
    const r = readSafetensors(file);
    assert.deepEqual(r.metadata, { format: "test", n: "1" });
    assert.deepEqual(Array.from(r.tensors.get("f64")!.data as Float64Array), [Math.PI, -0]);
    assert.deepEqual(r.tensors.get("f32")!.shape, [2, 3]);
    assert.deepEqual(Array.from(r.tensors.get("f32")!.data as Float32Array), [1, 2, 3, 4, 5, -6.5]);
    assert.deepEqual(Array.from(tensorToFloat32(r.tensors.get("f16")!)).slice(0, 4), [1, -2, 0.5, 65504]);
    assert.ok(Math.abs(tensorToFloat32(r.tensors.get("f16")!)[4] - 1e-3) < 1e-6);
    assert.deepEqual(Array.from(r.tensors.get("i64")!.data as BigInt64Array), [-(2n ** 62n), 5n]);
    assert.deepEqual(Array.from(r.tensors.get("i32")!.data as Int32Array), [-1, 0, 2 ** 31 - 1]);
    assert.equal(r.tensors.get("u8")!.data.length, 0);
    assert.deepEqual(r.tensors.get("scalar")!.shape, []);
  });

  it("converts float16 with round-to-nearest-even", () => {
    const cases: [number, number][] = [
      [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [65519, 0x7bff], [Infinity, 0x7c00],
      [2 ** -24, 0x0001], [2 ** -25, 0x0000], [1.5 * 2 ** -25, 0x0001], [2 ** -14, 0x0400],
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [-0, 0x8000], [0.1, 0x2e66],
    ];
    for (const [v, bits] of cases) assert.equal(toFloat16Bits(v), bits, `${v} -> 0x${toFloat16Bits(v).toString(16)}`);
    assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN))));
    for (let h = 0; h < 0x7c00; h += 37) assert.equal(toFloat16Bits(fromFloat16Bits(h)), h); // exact round trip
  });

  it("refuses bad inputs to the writer", () => {
    assert.throws(() => serializeSafetensors({ x: { dtype: "F32", shape: [3], data: new Float32Array(2) } }), /needs 3 elements/);
    assert.throws(() => serializeSafetensors({ x: { dtype: "F32", shape: [-1], data: new Float32Array(0) } }), /shape/);
  });

  describe("gives clear errors for corrupt or truncated files", () => {
    const good = () => Buffer.concat(serializeSafetensors({ a: { dtype: "F32", shape: [4], data: Float32Array.from([1, 2, 3, 4]) }, b: { dtype: "I32", shape: [2], data: Int32Array.from([5, 6]) } }));
    const expectErr = (buf: Uint8Array, re: RegExp) => assert.throws(() => parseSafetensors(buf, "x.safetensors"), (e: unknown) => e instanceof SafetensorsError && re.test(e.message) && e.message.startsWith("x.safetensors: "));
    const f32 = (n: number) => new Uint8Array(n * 4);

    it("file too short", () => expectErr(Uint8Array.from([1, 2, 3]), /file too short/));
    it("bad header length", () => { const b = good(); b.writeBigUInt64LE(2n ** 40n, 0); expectErr(b, /bad header length/); });
    it("header longer than the file", () => { const b = good(); b.writeBigUInt64LE(BigInt(b.length), 0); expectErr(b, /truncated: header says/); });
    it("bad JSON", () => expectErr(handMade({}, f32(1), '{"a": {"dtype": "F32",'), /not valid UTF-8 JSON/));
    it("truncated data", () => { const b = good(); expectErr(b.subarray(0, b.length - 3), /run past the data|truncated/); });
    it("offsets out of range", () => expectErr(handMade({ a: { dtype: "F32", shape: [2], data_offsets: [0, 16] } }, f32(2)), /run past the data/));
    it("overlapping offsets", () => expectErr(handMade({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, f32(3)), /overlap/));
    it("hole between tensors", () => expectErr(handMade({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, b: { dtype: "F32", shape: [1], data_offsets: [8, 12] } }, f32(3)), /hole of 4 bytes/));
    it("reversed offsets", () => expectErr(handMade({ a: { dtype: "F32", shape: [0], data_offsets: [4, 0] } }, f32(1)), /end before they begin/));
    it("shape/dtype size mismatch", () => expectErr(handMade({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, f32(2)), /needs 12 bytes but data_offsets span 8/));
    it("unknown dtype", () => expectErr(handMade({ a: { dtype: "Q4_K", shape: [1], data_offsets: [0, 4] } }, f32(1)), /unsupported dtype "Q4_K"/));
    it("trailing bytes", () => expectErr(handMade({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, f32(2)), /unexpected bytes after the last tensor/));
    it("metadata values must be strings", () => expectErr(handMade({ __metadata__: { n: 1 } }, f32(0)), /__metadata__.n is not a string/));
    it("missing file", () => assert.throws(() => readSafetensors("/nonexistent/x.safetensors"), /cannot read \(ENOENT\)/));
  });
});
