/**
 * `tempo merge <out> <shard-folder>...` (docs/scale.md): the shard folders of one suite (compare
 * --prompts or eval, run with --shard i/N) become the folder the unsharded run writes. The
 * per-item results are put back in suite order and the statistics and reports are computed over
 * all of them by the code the run itself ends with (writePairedFile, finishEvalFolder); nothing
 * is averaged across shards. Everything is checked before anything is written.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { TempoInputError } from "../engine/errors.js";
import { checkOutDir } from "../engine/capture/out-dir.js";
import { PAIRED_FILE, pairedSummaryLine, promptFolderName, readPairedFile, writePairedFile, type PairedFile } from "../engine/analysis/paired-file.js";
import { inspectEvalFolder } from "../engine/eval/partial-folder.js";
import { EVAL_FILES, finishEvalFolder, type EvalMeta } from "../engine/eval/report.js";
import type { EvalRun, ItemResult } from "../engine/eval/runner.js";
import { EXPERIMENT_FILE_NAME } from "../protocol/experiment-file.js";
import { shardMembers, type ShardRecord } from "../protocol/shard.js";
import { readExperimentFile, storeExperiment, type ResolvedCompare, type ResolvedEval } from "./experiment.js";
import { differences, EVAL_OUT_RULE } from "./eval-out.js";

interface ShardFolder<X extends ResolvedCompare | ResolvedEval = ResolvedCompare | ResolvedEval> {
  dir: string;
  /** experiment.json as stored (the resolved experiment, with its shard). */
  experiment: X;
  record: ShardRecord;
}
type CompareShard = ShardFolder<ResolvedCompare> & { paired: PairedFile };
type EvalShard = ShardFolder<ResolvedEval> & { stored: StoredSummary; items: ItemResult[] };
/** summary.json as writeEvalOutput stores it. */
type StoredSummary = { meta: EvalMeta } & Pick<EvalRun, "settings" | "configs" | "sandbox"> & { summary: { wallMs: number } };

const named = (s: ShardFolder) => `${s.dir} (shard ${s.record.index}/${s.record.count})`;
const rerun = (dir: string) => `tempo run ${path.join(dir, EXPERIMENT_FILE_NAME)}`;

function readJson<T>(dir: string, name: string): T {
  try { return JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as T; } catch (e) { throw new TempoInputError(`${dir}: cannot read its ${name} (${(e as Error).message.split("\n")[0]})`); }
}

/** A shard folder's experiment: checked by the schema, kept as stored (its key order is the run's). */
function readShardExperiment(dir: string): ResolvedCompare | ResolvedEval {
  const file = path.join(dir, EXPERIMENT_FILE_NAME);
  if (!fs.existsSync(file)) throw new TempoInputError(`${dir} is not a shard folder: it has no ${EXPERIMENT_FILE_NAME}`);
  const parsed = readExperimentFile(file);
  if (parsed.command === "generate" || parsed.shard === undefined) throw new TempoInputError(`${dir} is not a shard folder: its ${EXPERIMENT_FILE_NAME} names no shard (tempo merge takes the folders of --shard i/N runs)`);
  return readJson<ResolvedCompare | ResolvedEval>(dir, EXPERIMENT_FILE_NAME);
}

function readCompareShard(dir: string, experiment: ResolvedCompare): CompareShard {
  const { index, count } = experiment.shard!;
  let paired;
  try { paired = readPairedFile(dir); } catch (e) { throw new TempoInputError(`${dir}: its ${PAIRED_FILE} is not JSON (${(e as Error).message})`); }
  if (!paired) throw new TempoInputError(`${dir} (shard ${index}/${count}) is partial: it has no ${PAIRED_FILE} (its run was stopped before the end); run it again with ${rerun(dir)} --out <new folder>`);
  if (!paired.complete) throw new TempoInputError(`${dir} (shard ${index}/${count}) is partial: cancelled after ${paired.items.length} prompts; run it again with ${rerun(dir)} --out <new folder>`);
  if (!paired.shard) throw new TempoInputError(`${dir}: its ${PAIRED_FILE} records no shard, though its ${EXPERIMENT_FILE_NAME} does`);
  return { dir, experiment, record: paired.shard, paired };
}

function readEvalShard(dir: string, experiment: ResolvedEval): EvalShard {
  const { index, count } = experiment.shard!;
  const folder = inspectEvalFolder(path.resolve(dir));
  if (folder.state === "partial") throw new TempoInputError(`${dir} (shard ${index}/${count}) is partial (${folder.how}, ${folder.items.length} finished units): finish it with ${rerun(dir)} --out ${dir} --resume`);
  if (folder.state !== "complete") throw new TempoInputError(`${dir} is not a finished eval shard${folder.state === "foreign" ? ` (${folder.why})` : ""}`);
  const stored = readJson<StoredSummary>(dir, EVAL_FILES.summary);
  if (!stored.meta?.shard) throw new TempoInputError(`${dir}: its ${EVAL_FILES.summary} records no shard, though its ${EXPERIMENT_FILE_NAME} does`);
  const lines = fs.readFileSync(path.join(dir, EVAL_FILES.results), "utf8").split("\n").filter((l) => l.trim() !== "");
  const items = lines.map((line, i) => {
    try { return JSON.parse(line) as ItemResult; } catch { throw new TempoInputError(`${dir}: line ${i + 1} of its ${EVAL_FILES.results} is not JSON`); }
  });
  return { dir, experiment, record: stored.meta.shard, stored, items };
}

/** Refuses shards of other suites, other counts, given twice or missing; returns them in shard order. */
function checkSet<S extends ShardFolder>(shards: S[]): S[] {
  const [first] = shards;
  for (const s of shards) {
    if (s.record.index !== s.experiment.shard?.index || s.record.count !== s.experiment.shard.count) throw new TempoInputError(`${s.dir}: its files disagree on which shard it is`);
    if (s.record.count !== first.record.count) throw new TempoInputError(`${named(s)} and ${named(first)} cannot be shards of one run: the shard counts differ`);
    if (s.record.suite !== first.record.suite || s.experiment.command !== first.experiment.command) {
      const differ = differences(first.experiment, s.experiment).filter((d) => !d.startsWith("shard."));
      const why = differ.length ? differ.slice(0, 3).join("; ") : "the same settings, but other items, another backend or another llama.cpp build";
      throw new TempoInputError(`${named(s)} is not of the same suite as ${named(first)} (${why}): merge only the shards of one run`);
    }
  }
  const byIndex = new Map<number, S>();
  for (const s of shards) {
    const twice = byIndex.get(s.record.index);
    if (twice) throw new TempoInputError(`shard ${s.record.index}/${s.record.count} is given twice: ${twice.dir} and ${s.dir}`);
    byIndex.set(s.record.index, s);
  }
  const { count } = first.record;
  const missing = Array.from({ length: count }, (_, k) => k + 1).filter((i) => !byIndex.has(i));
  if (missing.length) throw new TempoInputError(`shard${missing.length > 1 ? "s" : ""} ${missing.map((i) => `${i}/${count}`).join(", ")} missing: tempo merge needs the folders of all ${count} shards`);
  return Array.from({ length: count }, (_, k) => byIndex.get(k + 1)!);
}

/** The unsharded experiment: shard 1's, without its shard. */
function unsharded<X extends ResolvedCompare | ResolvedEval>(x: X): X {
  return { ...x, shard: undefined };
}

export interface MergeResult { out: string; shards: number; items: number; kind: "prompts" | "tasks"; line?: string }

export function mergeShards(out: string, dirs: readonly string[]): MergeResult {
  const read = dirs.map((dir) => {
    const experiment = readShardExperiment(dir);
    return experiment.command === "compare" ? readCompareShard(dir, experiment) : readEvalShard(dir, experiment);
  });
  if (read[0].experiment.command === "compare") return mergeCompare(out, checkSet(read as CompareShard[]));
  return mergeEval(out, checkSet(read as EvalShard[]));
}

function mergeCompare(out: string, shards: CompareShard[]): MergeResult {
  const { total } = shards[0].record;
  const items: PairedFile["items"] = new Array(total);
  for (const s of shards) {
    const ids = shardMembers(total, s.record).map((k) => String(k + 1));
    if (JSON.stringify(s.paired.items.map((i) => i.id)) !== JSON.stringify(ids)) throw new TempoInputError(`${named(s)}: its ${PAIRED_FILE} does not hold this shard's prompts`);
    for (const id of ids) if (!fs.existsSync(path.join(s.dir, promptFolderName(Number(id))))) throw new TempoInputError(`${named(s)}: prompt ${id}'s folder ${promptFolderName(Number(id))} is missing`);
    s.paired.items.forEach((item) => { items[Number(item.id) - 1] = item; });
  }
  checkOutDir(out, { allowEmpty: false });
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.mkdirSync(out);
  for (const s of shards) {
    for (const item of s.paired.items) {
      const name = promptFolderName(Number(item.id));
      fs.cpSync(path.join(s.dir, name), path.join(out, name), { recursive: true, errorOnExist: true, force: false });
    }
  }
  const experiment = unsharded(shards[0].experiment);
  const paired = writePairedFile(out, { complete: true, prompts: experiment.prompts ?? [], items });
  storeExperiment(out, experiment);
  return { out, shards: shards.length, items: total, kind: "prompts", line: pairedSummaryLine(paired) };
}

function mergeEval(out: string, shards: EvalShard[]): MergeResult {
  const [first] = shards;
  const { total } = first.record;
  const sandbox = JSON.stringify(first.stored.sandbox);
  const odd = shards.find((s) => JSON.stringify(s.stored.sandbox) !== sandbox);
  if (odd) throw new TempoInputError(`${named(odd)} ran in another sandbox than ${named(first)} (${JSON.stringify(odd.stored.sandbox)} vs ${sandbox}): their results are not one suite's`);
  // Each shard's results are in its task order, a task's arms together: a task's units are one group.
  const groups = shards.map((s) => {
    const byTask = new Map<string, ItemResult[]>();
    for (const item of s.items) byTask.set(item.taskId, [...(byTask.get(item.taskId) ?? []), item]);
    if (byTask.size !== shardMembers(total, s.record).length) throw new TempoInputError(`${named(s)}: its results hold ${byTask.size} tasks, not this shard's ${shardMembers(total, s.record).length}`);
    return [...byTask.values()];
  });
  const count = first.record.count;
  // Suite task k is the (k div N)-th task of shard (k mod N) + 1: shardMembers' rule, inverted.
  const items = Array.from({ length: total }, (_, k) => groups[k % count][Math.floor(k / count)]).flat();
  const run: EvalRun = {
    settings: first.stored.settings, configs: first.stored.configs, sandbox: first.stored.sandbox, items, aborted: false,
    // The suite's run time: the shards' added, as one machine would have spent it.
    wallMs: shards.reduce((a, s) => a + s.stored.summary.wallMs, 0),
  };
  const startedAt = shards.map((s) => s.stored.meta.startedAt).sort()[0];
  const meta: EvalMeta = { ...first.stored.meta, tasks: { ...first.stored.meta.tasks, count: total }, startedAt, shard: undefined };
  checkOutDir(out, EVAL_OUT_RULE);
  fs.mkdirSync(out, { recursive: true });
  storeExperiment(out, unsharded(first.experiment));
  finishEvalFolder(out, run, meta);
  return { out, shards: shards.length, items: total, kind: "tasks" };
}
