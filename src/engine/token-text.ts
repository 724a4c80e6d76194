/**
 * Token bytes to display text. A token may hold part of a UTF-8 character (byte tokens);
 * complete characters render as text, any byte that is not part of a complete, valid
 * character renders as `<0xNN>`, never as a broken glyph.
 */

/** Length of the valid UTF-8 sequence starting at `i`, or 0 if none. */
function validSequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i];
  if (b0 < 0x80) return 1;
  let len: number, min: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) { len = 2; min = 0x80; }
  else if (b0 >= 0xe0 && b0 <= 0xef) { len = 3; min = 0x800; }
  else if (b0 >= 0xf0 && b0 <= 0xf4) { len = 4; min = 0x10000; }
  else return 0;
  if (i + len > bytes.length) return 0;
  let cp = b0 & (0xff >> (len + 1));
  for (let k = 1; k < len; k++) {
    const b = bytes[i + k];
    if ((b & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

export function hexByte(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;
}

export function renderTokenBytes(bytes: Uint8Array): string {
  let out = "";
  let runStart = 0;
  let i = 0;
  const flush = (end: number) => { if (end > runStart) out += Buffer.from(bytes.subarray(runStart, end)).toString("utf8"); };
  while (i < bytes.length) {
    const len = validSequenceLength(bytes, i);
    if (len === 0) {
      flush(i);
      out += hexByte(bytes[i]);
      i += 1;
      runStart = i;
    } else {
      i += len;
    }
  }
  flush(i);
  return out;
}
