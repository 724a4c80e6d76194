/**
 * Comparing two run folders file by file, but for the fields that may differ between two runs of
 * the same experiment: a rerun (test/unit/experiment-file.test.ts) or a merge of shards
 * (test/unit/shard-merge.test.ts). Those fields are named, never guessed.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { EXPERIMENT_FILE_NAME } from "../../src/protocol/experiment-file.js";

/** What may differ: JSON keys (in any file), and cells of the eval report's cost table by 0-based column. */
export interface VolatileFields { keys: readonly string[]; costColumns: readonly number[] }

/**
 * The fields that may differ between a run and its rerun, as docs/experiments.md lists them:
 * dates (createdAt, startedAt) and measured durations, and the eval report's generation ms,
 * execution ms and samples/s columns. Everything else must match byte for byte.
 */
export const TIMING: VolatileFields = {
  keys: ["createdAt", "startedAt", "generateMs", "replayMs", "executeMs", "durationMs", "wallMs", "generateMsPerTask", "executeMsPerTask", "samplesPerSecond"],
  costColumns: [3, 4, 8],
};
const ISO_DATE = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/g;

/** Masks the volatile fields of one file's text (JSON and JSONL by key, reports by their timing lines and cells). */
export function maskVolatile(name: string, text: string, v: VolatileFields = TIMING): string {
  let t = text
    .replace(new RegExp(`"(${v.keys.join("|")})":\\s*("[^"]*"|[-+0-9.eE]+|null)`, "g"), `"$1": "<timing>"`)
    // steps.jsonl's per-step { decodeMs, selectMs } and the manifest's { generateMs, replayMs }
    .replace(/"timings":\s*\{[^}]*\}/g, `"timings": "<timing>"`)
    .replace(ISO_DATE, "<date>")
    .replace(/wall time [^ ]+ s\./g, "wall time <timing> s.");
  const costCells = (cells: string[]) => cells.map((c, i) => (v.costColumns.includes(i) ? "<timing>" : c));
  if (name.endsWith(".md") && t.includes("## Cost per task")) {
    const [head, rest] = t.split("## Cost per task");
    const [table, ...after] = rest.split("\n## ");
    t = head + "## Cost per task" + table.split("\n").map((l) => (l.startsWith("| ") && !l.startsWith("| arm") ? costCells(l.split(" | ")).join(" | ") : l)).join("\n") + (after.length ? "\n## " + after.join("\n## ") : "");
  }
  if (name.endsWith(".html") && t.includes("<h2>Cost per task</h2>")) {
    const [head, rest] = t.split("<h2>Cost per task</h2>");
    const end = rest.indexOf("</table>");
    const table = rest.slice(0, end).replace(/<tr><td>(.*?)<\/td><\/tr>/g, (_m, row: string) => `<tr><td>${costCells(row.split("</td><td>")).join("</td><td>")}</td></tr>`);
    t = head + "<h2>Cost per task</h2>" + table + rest.slice(end);
  }
  return t;
}

export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

/** Every file of `a` is in `b` and equal: binary files and experiment.json byte for byte, other text files once `v` is masked. */
export function assertSameFolder(a: string, b: string, v: VolatileFields = TIMING): void {
  const files = filesUnder(a);
  assert.deepEqual(filesUnder(b), files, "the same files");
  for (const f of files) {
    const [x, y] = [readFileSync(join(a, f)), readFileSync(join(b, f))];
    if (f.endsWith(".safetensors")) { assert.ok(x.equals(y), `${f} differs`); continue; }
    if (f.endsWith(EXPERIMENT_FILE_NAME)) { assert.equal(y.toString(), x.toString(), `${f} differs`); continue; }
    assert.equal(maskVolatile(f, y.toString(), v), maskVolatile(f, x.toString(), v), `${f} differs beyond its volatile fields (${v.keys.join(", ")})`);
  }
}
