import assert from "node:assert/strict";
import { renderTokenBytes } from "../../src/engine/token-text.js";

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));

describe("token bytes to display text", () => {
  it("renders whole characters as text", () => {
    assert.equal(renderTokenBytes(bytes("héllo ☃ 𝄞")), "héllo ☃ 𝄞");
  });
  it("renders a lone byte of a multi-byte character as hex, never a broken glyph", () => {
    const snowman = bytes("☃"); // E2 98 83
    assert.equal(renderTokenBytes(snowman.subarray(0, 1)), "<0xE2>");
    assert.equal(renderTokenBytes(snowman.subarray(1, 3)), "<0x98><0x83>");
  });
  it("joins a character split across tokens when the path is decoded as a whole", () => {
    const s = bytes("a☃b");
    const parts = [s.subarray(0, 2), s.subarray(2, 3), s.subarray(3)];
    assert.equal(renderTokenBytes(Buffer.concat(parts)), "a☃b");
    assert.equal(parts.map((p) => renderTokenBytes(p)).join(""), "a<0xE2><0x98><0x83>b");
  });
  it("rejects overlong encodings and surrogates", () => {
    assert.equal(renderTokenBytes(new Uint8Array([0xc0, 0x80])), "<0xC0><0x80>");
    assert.equal(renderTokenBytes(new Uint8Array([0xed, 0xa0, 0x80])), "<0xED><0xA0><0x80>");
  });
});
