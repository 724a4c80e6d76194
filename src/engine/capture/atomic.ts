/**
 * Atomic file writes: a reader sees either the old file (or none) or the whole new file,
 * never a partial one, even if the process dies mid-write.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";

export interface AtomicWriteOptions {
  /** Fail (EEXIST) instead of replacing an existing file. Default false. */
  exclusive?: boolean;
}

/** Write `data` to a temp file beside `file`, fsync it, then rename (or hard-link when exclusive). */
export function writeFileAtomic(file: string, data: string | Uint8Array | readonly Uint8Array[], opts: AtomicWriteOptions = {}): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  const chunks: readonly (string | Uint8Array)[] = typeof data === "string" || data instanceof Uint8Array ? [data] : data;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "wx", 0o644);
    for (const chunk of chunks) {
      const c = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
      for (let off = 0; off < c.byteLength;) {
        const n = fs.writeSync(fd, c, off, c.byteLength - off);
        // A pseudo file system (/proc) may accept nothing: retrying would spin for ever.
        if (n === 0) throw Object.assign(new Error(`writing ${file}: the file system took 0 bytes`), { code: "EIO" });
        off += n;
      }
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    if (opts.exclusive) {
      // link() refuses an existing target, so two writers cannot clobber each other.
      fs.linkSync(tmp, file);
      fs.unlinkSync(tmp);
    } else {
      fs.renameSync(tmp, file);
    }
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
