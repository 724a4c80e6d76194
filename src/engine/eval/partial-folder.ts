/**
 * An eval --out folder that a run did not finish: killed (results.partial.jsonl, no summary) or
 * cancelled (summary.json says aborted). What it holds, the units it finished, and removing it
 * for --replace, only after checking that it holds nothing but a tempo eval's own files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PARTIAL_RESULTS } from "../capture/out-dir.js";
import { writeFileAtomic } from "../capture/atomic.js";
import { EXPERIMENT_FILE_NAME } from "../../protocol/experiment-file.js";
import { EVAL_FILES } from "./report.js";
import type { ItemResult } from "./runner.js";

/** What a rerun into a folder that holds a partial run does; "refuse" unless the user chose. */
export const PARTIAL_CHOICES = ["refuse", "resume", "replace"] as const;
export type PartialChoice = (typeof PARTIAL_CHOICES)[number];

/** The files a tempo eval writes into its folder. */
const OWN_FILES: readonly string[] = [...Object.values(EVAL_FILES), PARTIAL_RESULTS, EXPERIMENT_FILE_NAME];

/**
 * Debris a killed run may leave beside them: writeFileAtomic's hidden temp file of one of its own
 * files, or checkOutDir's probe folder.
 */
const isOwnDebris = (name: string): boolean =>
  name.startsWith(".tempo-probe-") || OWN_FILES.some((f) => name.startsWith(`.${f}.tmp-`));

export type EvalFolder =
  /** Missing or empty: a run starts there. */
  | { state: "new" }
  /** summary.json and not aborted: finished work, never touched. */
  | { state: "complete" }
  /** Holds something a tempo eval did not write (or not as it writes it). */
  | { state: "foreign"; why: string }
  | {
      state: "partial";
      how: "killed" | "cancelled";
      /** Every finished unit, in the order they finished. */
      items: ItemResult[];
      /** experiment.json's text, when the run got far enough to store it. */
      experiment: string | undefined;
      entries: string[];
    };

/** Reads `dir` as an eval folder (never writes). */
export function inspectEvalFolder(dir: string): EvalFolder {
  if (!fs.existsSync(dir)) return { state: "new" };
  if (!fs.statSync(dir).isDirectory()) return { state: "foreign", why: "it is not a folder" };
  const entries = fs.readdirSync(dir);
  if (entries.length === 0) return { state: "new" };
  const stranger = entries.find((e) => !OWN_FILES.includes(e) && !isOwnDebris(e));
  if (stranger !== undefined) return { state: "foreign", why: `it holds ${stranger}, which a tempo eval does not write` };
  const read = (name: string) => fs.readFileSync(path.join(dir, name), "utf8");
  const experiment = entries.includes(EXPERIMENT_FILE_NAME) ? read(EXPERIMENT_FILE_NAME) : undefined;
  if (entries.includes(EVAL_FILES.summary)) {
    let aborted: unknown;
    try { aborted = (JSON.parse(read(EVAL_FILES.summary)) as { summary?: { aborted?: unknown } }).summary?.aborted; } catch { return { state: "foreign", why: `its ${EVAL_FILES.summary} is not JSON` }; }
    if (aborted !== true) return { state: "complete" };
    if (!entries.includes(EVAL_FILES.results)) return { state: "foreign", why: `it has no ${EVAL_FILES.results}` };
    const items = readItems(read(EVAL_FILES.results), false);
    return typeof items === "string" ? { state: "foreign", why: items } : { state: "partial", how: "cancelled", items, experiment, entries };
  }
  if (!entries.includes(PARTIAL_RESULTS)) return { state: "foreign", why: `it has neither ${EVAL_FILES.summary} nor ${PARTIAL_RESULTS}` };
  // A SIGKILL can cut the last appended line short: that unit did not finish, and runs again.
  const items = readItems(read(PARTIAL_RESULTS), true);
  return typeof items === "string" ? { state: "foreign", why: items } : { state: "partial", how: "killed", items, experiment, entries };
}

/** One ItemResult a line; the message when a line is not one (a torn last line is dropped where allowed). */
function readItems(text: string, tornTail: boolean): ItemResult[] | string {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const items: ItemResult[] = [];
  for (const [i, line] of lines.entries()) {
    let item: Partial<ItemResult> | undefined;
    try { item = JSON.parse(line) as Partial<ItemResult>; } catch { item = undefined; }
    if (item && typeof item.taskId === "string" && typeof item.arm === "string") items.push(item as ItemResult);
    else if (!(tornTail && i === lines.length - 1)) return `line ${i + 1} of its results is not a finished unit`;
  }
  return items;
}

/** Removes a partial folder's files (checked by inspectEvalFolder first); the folder stays, empty. */
export function clearPartialFolder(dir: string, folder: Extract<EvalFolder, { state: "partial" }>): void {
  // summary.json first: if this is interrupted, the folder still reads as partial, never as complete.
  const order = [...folder.entries].sort((a, b) => Number(b === EVAL_FILES.summary) - Number(a === EVAL_FILES.summary));
  for (const name of order) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
}

/**
 * Readies a partial folder for --resume: results.partial.jsonl holds every finished unit (the
 * resumed run appends to it), and a cancelled run's summary, results and reports go, summary.json
 * first; experiment.json stays (the resumed run's settings are the same).
 */
export function reopenPartialFolder(dir: string, folder: Extract<EvalFolder, { state: "partial" }>): void {
  writeFileAtomic(path.join(dir, PARTIAL_RESULTS), folder.items.map((i) => JSON.stringify(i) + "\n").join(""));
  for (const name of [EVAL_FILES.summary, EVAL_FILES.results, EVAL_FILES.md, EVAL_FILES.html]) fs.rmSync(path.join(dir, name), { force: true });
}
