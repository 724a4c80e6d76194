/**
 * paired.json, the suite-level file of `tempo compare --prompts`: each prompt's metric means and
 * the paired statistics over them. Written by the run and by `tempo merge` of its shards through
 * the same function, so a merged suite's statistics are computed over all its prompts exactly as
 * an unsharded run computes them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../capture/atomic.js";
import type { ShardRecord } from "../../protocol/shard.js";
import { metricDefs, type DivergenceReport } from "./report-model.js";
import { pairedPromptStats, type PairedPromptStats, type PromptMetricValues } from "./paired.js";

export const PAIRED_FILE = "paired.json";

/** The top-k overlaps the paired statistics cover. */
const PAIRED_DEFS = metricDefs([1, 5, 10, 20, 50]);
const PRIMARY_METRIC = "js";

/** The folder of the prompt with 1-based suite index `id` (001, 002, …; a shard keeps the suite's numbers). */
export const promptFolderName = (id: number): string => String(id).padStart(3, "0");

/** One prompt's row of paired.json: the means of its report's steps, under the comparison and the null baseline. */
export function pairedItem(id: number, report: DivergenceReport): PromptMetricValues {
  const pick = (s: Record<string, { mean: number }>) => Object.fromEntries(PAIRED_DEFS.filter((d) => s[d.key]).map((d) => [d.key, s[d.key].mean]));
  return { id: String(id), comparison: pick(report.summary), nullBaseline: pick(report.nullBaseline.summary) };
}

export interface PairedFile {
  /** False when the run was cancelled before every prompt (of its shard) finished. */
  complete: boolean;
  /** The suite's prompts, all of them (a shard's items are the ones it ran). */
  prompts: string[];
  items: PromptMetricValues[];
  stats: PairedPromptStats;
  /** Present in a shard's folder (docs/scale.md). */
  shard?: ShardRecord;
}

/** Computes the paired statistics over `items` and writes paired.json into `dir` (never overwriting). */
export function writePairedFile(dir: string, body: Omit<PairedFile, "stats">): PairedFile {
  const stats = pairedPromptStats(body.items, PAIRED_DEFS.map((d) => d.key), { primaryMetric: PRIMARY_METRIC });
  const file: PairedFile = { complete: body.complete, prompts: body.prompts, items: body.items, stats, ...(body.shard ? { shard: body.shard } : {}) };
  writeFileAtomic(path.join(dir, PAIRED_FILE), JSON.stringify(file, null, 2) + "\n", { exclusive: true });
  return file;
}

/** paired.json of `dir`, or undefined when there is none (a run killed before the end of its prompts). */
export function readPairedFile(dir: string): PairedFile | undefined {
  const file = path.join(dir, PAIRED_FILE);
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, "utf8")) as PairedFile;
}

/** The line a finished suite ends with: the primary metric's paired difference and tests. */
export function pairedSummaryLine(file: PairedFile): string {
  const primary = file.stats.metrics.find((m) => m.metric === file.stats.primaryMetric);
  return `${file.items.length} prompts; primary metric ${file.stats.primaryMetric}: mean(comparison - null) ${primary?.meanDiff.toExponential(3)} ` +
    `[${primary?.tInterval.lo.toExponential(3)}, ${primary?.tInterval.hi.toExponential(3)}], Wilcoxon p ${primary?.wilcoxonPValue.toPrecision(3)} (Holm ${primary?.holm.toPrecision(3)})`;
}
