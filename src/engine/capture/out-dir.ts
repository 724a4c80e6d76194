/**
 * Output folders are checked before any work, so a read-only, missing or pseudo file system
 * (/proc) is one line at the start, never a stack trace after a long run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { TempoInputError } from "../errors.js";
import { CAPTURE_FILES } from "./manifest.js";

/** Written beside finished results while an eval runs; its presence marks a partial folder (src/engine/eval/partial-folder.ts). */
export const PARTIAL_RESULTS = "results.partial.jsonl";

export interface OutDirRule {
  /** The folder may already exist if it is empty (eval); otherwise it must not exist (captures). */
  allowEmpty: boolean;
}

/**
 * Refuses `out` unless a folder can be made there and takes a file: the probe creates a
 * temporary folder in the nearest existing ancestor (or in `out` when it is an existing empty
 * folder), writes a few bytes, reads their size back and removes it all.
 */
export function checkOutDir(out: string, rule: OutDirRule): void {
  const target = path.resolve(out);
  if (fs.existsSync(target)) {
    if (!rule.allowEmpty) {
      // A capture folder gets its manifest last: one without it is a run killed while writing.
      const unfinished = fs.statSync(target).isDirectory() && !fs.existsSync(path.join(target, CAPTURE_FILES.manifest));
      throw new TempoInputError(unfinished
        ? `${out} already exists and holds no ${CAPTURE_FILES.manifest}: an unfinished capture (its run was killed while writing); delete it or choose another --out`
        : `${out} already exists; captures are never overwritten`);
    }
    if (!fs.statSync(target).isDirectory()) throw new TempoInputError(`--out ${out} exists and is not a folder`);
    const entries = fs.readdirSync(target);
    if (entries.length > 0) throw new TempoInputError(`--out ${out} is not empty; choose a new folder`);
  }
  let parent = fs.existsSync(target) ? target : path.dirname(target);
  while (!fs.existsSync(parent)) parent = path.dirname(parent);
  probe(out, parent);
}

function probe(out: string, dir: string): void {
  let made: string | undefined;
  try {
    if (!fs.statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
    made = fs.mkdtempSync(path.join(dir, ".tempo-probe-"));
    const file = path.join(made, "probe");
    const bytes = Buffer.from("tempo output probe\n");
    fs.writeFileSync(file, bytes);
    if (fs.statSync(file).size !== bytes.length) throw new Error("the file system did not keep what was written");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new TempoInputError(`--out ${out}: cannot write there (${err.message.split("\n")[0]})`);
  } finally {
    if (made) fs.rmSync(made, { recursive: true, force: true });
  }
}
