/**
 * Experiments as files (docs/experiments.md). `tempo compare`, `tempo eval` and `tempo run`
 * all go through here: flags or a file become an ExperimentFile, `prepareExperiment` resolves
 * it (every default filled in, files read, the model opened and its SHA-256 recorded), and one
 * runner per command does the work and stores the resolved experiment in the folder it wrote.
 * So a run from flags and a run from its stored experiment.json are the same code path.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { dirname, join, resolve } from "node:path";
import type { TempoModel } from "../engine/model.js";
import { TempoInputError } from "../engine/errors.js";
import { TempoSession, defaultContextSize, type FlashAttention } from "../engine/session.js";
import { batchPromptsFor, OnSeat, seatRunner, SEATS_PER_COMPARISON, SessionGroup } from "../engine/session-group.js";
import type { GpuChoice } from "../engine/llama/runtime.js";
import { defaultModelPath } from "../engine/default-model.js";
import { resolveConfig } from "../engine/tempo/config.js";
import type { GenerationConfig, GenerationResult, StepEvent } from "../engine/types.js";
import { runGeneration } from "../engine/tempo/generate.js";
import { generationJson } from "../engine/tempo/generation-json.js";
import { pruningSessionOptions } from "../engine/tempo/pruning.js";
import { assertSameModel, ModelMismatchError, readCapture } from "../engine/capture/reader.js";
import { DEFAULT_LOGITS_CAPTURE, rowTopK } from "../engine/capture/recorder.js";
import { checkOutDir } from "../engine/capture/out-dir.js";
import { checkRecordedRun } from "../engine/analysis/recorded-check.js";
import { compareModes, type CompareRequest, type CompareResult, type RecordedRun } from "../engine/analysis/compare-run.js";
import { renderReport } from "../engine/analysis/report-write.js";
import { pairedItem, pairedSummaryLine, promptFolderName, writePairedFile, PAIRED_FILE } from "../engine/analysis/paired-file.js";
import { writeFileAtomic } from "../engine/capture/atomic.js";
import { selectTasks, type EvalTask } from "../engine/eval/tasks.js";
import { armConfig, DEFAULT_EVAL_SETTINGS, resolveEvalSettings, type EvalSettings } from "../engine/eval/runner.js";
import { DEFAULT_PYTHON } from "../engine/eval/sandbox.js";
import { runEvalCommand } from "./eval.js";
import { applyEvalOutPlan, planEvalOut, type EvalOutPlan } from "./eval-out.js";
import type { PartialChoice } from "../engine/eval/partial-folder.js";
import { experimentFormat, experimentText, parseExperimentText } from "../protocol/experiment-text.js";
import { EXPERIMENT_FILE_NAME, EXPERIMENT_FILE_VERSION, type CompareExperiment, type EvalExperiment, type ExperimentFile, type GenerateExperiment } from "../protocol/experiment-file.js";
import type { TempoMode } from "../protocol/generation.js";
import type { AttentionLayers } from "../protocol/attention.js";
import { readPromptFile } from "./prompt-file.js";
import { openModel } from "./open-model.js";
import { shardMembers, type Shard, type ShardRecord } from "../protocol/shard.js";
import { createHash } from "node:crypto";

/** `threads` absent: automatic (SessionOptions.threads). */
export interface ResolvedEngine { gpu: GpuChoice; contextSize: number; threads?: number; flashAttention: FlashAttention }
interface ResolvedBase {
  version: typeof EXPERIMENT_FILE_VERSION;
  description?: string;
  model: { path: string; sha256: string };
  engine: ResolvedEngine;
}
export interface ResolvedCompareSettings {
  qMode: Exclude<TempoMode, "standard">;
  attentionLayers: AttentionLayers | null;
  logits: { kind: "topk"; k: number } | { kind: "full"; dtype: "F32" | "F16" };
  analysisWorkers?: number;
  /** Prompts compared in one decode (compare --prompts); 1 for one prompt, --from and attention capture. */
  batchPrompts: number;
}
/** One of prompt, prompts, from: prompt files are read and their text stored inline. */
export type ResolvedCompare = ResolvedBase & { command: "compare"; prompt?: string; prompts?: string[]; from?: string; generation: GenerationConfig; compare: ResolvedCompareSettings; shard?: Shard };
export type ResolvedEvalSettings = Omit<EvalSettings, "exec"> & { tasks: string | null; limit: number | null; exec: { timeoutMs: number; memoryMb: number; python: string | null }; batchPrompts: number };
export type ResolvedEval = ResolvedBase & { command: "eval"; eval: ResolvedEvalSettings; shard?: Shard };
export type ResolvedGenerate = ResolvedBase & { command: "generate"; prompt: string; generation: GenerationConfig };
export type ResolvedExperiment = ResolvedCompare | ResolvedEval | ResolvedGenerate;

/**
 * A resolved experiment with what its run needs: the open model (the caller disposes it), tasks
 * (a shard's only), a recorded run, and for a shard what its folder records.
 */
export type Prepared =
  | { resolved: ResolvedCompare; model: TempoModel; recorded?: RecordedRun & { promptText: string }; shard?: ShardRecord }
  | { resolved: ResolvedEval; model: TempoModel; tasks: EvalTask[]; source: string; shard?: ShardRecord }
  | { resolved: ResolvedGenerate; model: TempoModel };

/** The experiment file's text, as written into every folder and by --dump-experiment. */
export function experimentJson(x: ResolvedExperiment): string {
  // One key order however the object was built, so a rerun's file is the same bytes.
  const order = ["version", "command", "description", "model", "engine", "prompt", "prompts", "from", "generation", "compare", "eval", "shard"];
  const record = x as unknown as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !order.includes(k));
  if (unknown.length) throw new Error(`experimentJson: no place for ${unknown.join(", ")}`);
  return JSON.stringify(Object.fromEntries(order.filter((k) => record[k] !== undefined).map((k) => [k, record[k]])), null, 2) + "\n";
}

/** Reads and checks an experiment file (JSON, or YAML when named .yaml / .yml); every problem is one `<file>: …` or `<file>:<line>: …` line. */
export function readExperimentFile(file: string): ExperimentFile {
  let text: string;
  try { text = readFileSync(file, "utf8"); } catch (e) { throw new TempoInputError(`cannot read experiment file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  // JSON, or YAML for a .yaml / .yml name: the same schema, the same one-line errors (a YAML one with its line).
  const parsed = parseExperimentText(text, file);
  if (!parsed.ok) throw new TempoInputError(`${file}:${/^\d/.test(parsed.message) ? "" : " "}${parsed.message}`);
  return parsed.experiment;
}

/** Prompts file: one prompt per line, or JSONL lines {"prompt": "..."}; blank lines ignored. */
export function readPrompts(file: string): string[] {
  let text: string;
  try { text = readFileSync(file, "utf8"); } catch { throw new TempoInputError(`cannot read prompts file ${file}`); }
  const prompts = text.split("\n").map((line, i) => {
    const t = line.trim();
    if (!t.startsWith("{")) return t;
    try { return String((JSON.parse(t) as { prompt: unknown }).prompt ?? ""); } catch { throw new TempoInputError(`${file}:${i + 1}: invalid JSON`); }
  }).filter((p) => p.length > 0);
  return checkPaired(prompts, file);
}

function checkPaired(prompts: string[], where: string): string[] {
  if (prompts.length < 2) throw new TempoInputError(`${where}: paired statistics need at least 2 prompts, found ${prompts.length}`);
  return prompts;
}

const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * Resolves `x` (relative paths against `baseDir`: the experiment file's folder, or the working
 * folder for flags) and opens its model (or takes `opened`, the model x.model.path names,
 * already open: tempo serve's; the caller keeps it). Settings are checked before the model loads,
 * so a bad value costs no load; the model's SHA-256 is checked against the file's when it names one.
 */
export async function prepareExperiment(x: ExperimentFile, baseDir: string, opened?: TempoModel): Promise<Prepared> {
  const abs = (p: string) => resolve(baseDir, p);
  const modelPath = x.model?.path !== undefined ? abs(x.model.path) : defaultModelPath();
  const gpu = x.engine?.gpu ?? "auto";
  const flashAttention = x.engine?.flashAttention ?? "off";
  const shard = x.command === "generate" ? undefined : x.shard;
  const early = x.command === "compare" ? compareBeforeModel(x, abs, flashAttention) : x.command === "eval" ? evalBeforeModel(x, abs) : generateBeforeModel(x, abs);
  const model = opened ?? await openModel(modelPath, gpu);
  try {
    const sha256 = await model.sha256();
    if (x.model?.sha256 !== undefined && x.model.sha256 !== sha256) {
      throw new ModelMismatchError(`model ${modelPath} has SHA-256 ${sha256}; the experiment names ${x.model.sha256}`);
    }
    const base: ResolvedBase & { command: typeof x.command } = {
      version: EXPERIMENT_FILE_VERSION,
      command: x.command,
      ...(x.description !== undefined ? { description: x.description } : {}),
      model: { path: modelPath, sha256 },
      engine: { gpu, contextSize: x.engine?.contextSize ?? defaultContextSize(model.info.nCtxTrain), ...(x.engine?.threads !== undefined ? { threads: x.engine.threads } : {}), flashAttention },
    };
    if ("tasks" in early) {
      const resolved: ResolvedEval = { ...base, command: "eval", eval: early.settings, ...(shard ? { shard } : {}) };
      if (!shard) return { resolved, model, tasks: early.tasks, source: early.source };
      const tasks = shardMembers(early.tasks.length, shard).map((k) => early.tasks[k]);
      return { resolved, model, tasks, source: early.source, shard: { ...shard, total: early.tasks.length, suite: suiteIdentity(resolved, model, early.tasks) } };
    }
    if (!("compare" in early)) return { resolved: { ...base, command: "generate", prompt: early.prompt, generation: early.generation }, model };
    let { generation, prompt } = early;
    let recorded: (RecordedRun & { promptText: string }) | undefined;
    if (early.from) {
      const capture = readCapture(early.from);
      assertSameModel(capture.manifest, { fileName: model.info.fileName, sha256 });
      if (!capture.manifest.prompt?.tokens) throw new TempoInputError(`${early.from}: the manifest has no prompt tokens to replay from`);
      // Both files may have been edited: settings and token ids are checked like typed input.
      const recordedConfig = resolveConfig(capture.manifest.config);
      // A stored experiment of a replay names the capture's settings; other settings could not apply to its sets.
      const differs = early.generationGiven ? (Object.keys(recordedConfig) as (keyof GenerationConfig)[]).find((k) => JSON.stringify(recordedConfig[k]) !== JSON.stringify(generation[k])) : undefined;
      if (differs) throw new TempoInputError(`a replay (from) runs with the capture's generation settings, and ${differs} differs from them (${JSON.stringify(recordedConfig[differs])}): leave generation out`);
      generation = recordedConfig;
      recorded = { promptTokens: capture.manifest.prompt.tokens, steps: capture.steps, stopReason: capture.manifest.stopReason ?? "max-steps", promptText: capture.manifest.prompt.text ?? "" };
      checkRecordedRun(recorded, model.info.nVocab, early.from);
      prompt = undefined;
    }
    const { compare } = early;
    if (compare.logits.kind === "topk" && compare.logits.k > model.info.nVocab) throw new TempoInputError(`logits k ${compare.logits.k} exceeds the vocabulary (${model.info.nVocab})`);
    const resolved: ResolvedCompare = {
      ...base, command: "compare",
      ...(prompt !== undefined ? { prompt } : {}), ...(early.prompts ? { prompts: early.prompts } : {}), ...(early.from ? { from: early.from } : {}),
      generation, compare, ...(shard ? { shard } : {}),
    };
    return { resolved, model, recorded, ...(shard && early.prompts ? { shard: { ...shard, total: early.prompts.length, suite: suiteIdentity(resolved, model) } } : {}) };
  } catch (e) {
    if (!opened) await model.dispose();
    throw e;
  }
}

/**
 * prepareExperiment on a model already open (tempo serve's, the engine host's), whose path the
 * experiment names; paths resolve against the working folder. `command`: what the caller built.
 */
export async function prepareOnOpenModel<C extends ExperimentFile["command"]>(x: ExperimentFile, model: TempoModel, command: C): Promise<Extract<Prepared, { resolved: { command: C } }>> {
  const prepared = await prepareExperiment(x, process.cwd(), model);
  if (prepared.resolved.command !== command) throw new Error(`a ${command} experiment was expected, not ${prepared.resolved.command}`);
  return prepared as Extract<Prepared, { resolved: { command: C } }>;
}

function compareBeforeModel(x: CompareExperiment, abs: (p: string) => string, flashAttention: FlashAttention) {
  // compareModes runs every session with flash attention off (attention capture needs it).
  if (flashAttention !== "off") throw new TempoInputError("compare runs with flash attention off (attention capture needs it); leave engine.flashAttention out or off");
  const generation = resolveConfig(x.generation ?? {});
  const prompt = x.prompt ?? (x.promptFile !== undefined ? readPromptFile(abs(x.promptFile)) : undefined);
  const prompts = x.prompts ? checkPaired(x.prompts, "prompts") : x.promptsFile !== undefined ? readPrompts(abs(x.promptsFile)) : undefined;
  if (x.shard && !prompts) throw new TempoInputError("--shard cuts a suite of prompts (--prompts): one prompt, or --from, is no suite");
  if (x.shard && prompts) checkShardFits(x.shard, prompts.length, "prompts");
  const c = x.compare ?? {};
  const logits: ResolvedCompareSettings["logits"] = c.logits?.kind === "full"
    ? { kind: "full", dtype: c.logits.dtype ?? "F32" }
    : { kind: "topk", k: c.logits?.k ?? rowTopK(DEFAULT_LOGITS_CAPTURE) };
  const attentionLayers = c.attentionLayers ?? null;
  if (c.batchPrompts !== undefined && c.batchPrompts > 1 && (attentionLayers !== null || !prompts)) {
    throw new TempoInputError(attentionLayers !== null
      ? "attention capture needs sessions of their own: compare with attention layers one prompt per decode (batchPrompts 1)"
      : "batch prompts share decodes between the prompts of a suite (--prompts): one prompt, or --from, has none to share with");
  }
  const compare: ResolvedCompareSettings = {
    qMode: c.qMode ?? "visible",
    attentionLayers,
    logits,
    ...(c.analysisWorkers !== undefined ? { analysisWorkers: c.analysisWorkers } : {}),
    batchPrompts: prompts && attentionLayers === null ? Math.min(batchPromptsFor(c.batchPrompts, generation.maxWidth, SEATS_PER_COMPARISON), prompts.length) : 1,
  };
  return { generation, generationGiven: x.generation !== undefined, prompt, prompts, from: x.from !== undefined ? abs(x.from) : undefined, compare };
}

function generateBeforeModel(x: GenerateExperiment, abs: (p: string) => string) {
  const generation = resolveConfig(x.generation ?? {});
  const prompt = x.prompt ?? (x.promptFile !== undefined ? readPromptFile(abs(x.promptFile)) : undefined);
  if (prompt === undefined) throw new TempoInputError("give --prompt or --prompt-file");
  return { generation, prompt };
}

function evalBeforeModel(x: EvalExperiment, abs: (p: string) => string) {
  const e = x.eval ?? {};
  const tasksPath = e.tasks != null ? abs(e.tasks) : null;
  const { tasks, source } = selectTasks(tasksPath ?? undefined, e.limit ?? undefined);
  if (x.shard) checkShardFits(x.shard, tasks.length, "tasks");
  const full = resolveEvalSettings(defined({
    arms: e.arms, threshold: e.threshold, maxWidth: e.maxWidth, maxSteps: e.maxSteps, policy: e.policy, pathCap: e.pathCap, ks: e.ks, concurrency: e.concurrency,
    baselines: e.baselines ?? undefined,
    exec: { ...DEFAULT_EVAL_SETTINGS.exec, ...defined({ timeoutMs: e.exec?.timeoutMs, memoryMb: e.exec?.memoryMb }) },
  }));
  for (const arm of full.arms) armConfig(full, arm); // each arm's generation settings, checked before the model loads
  const python = e.exec?.python === undefined ? DEFAULT_PYTHON : e.exec.python;
  const settings: ResolvedEvalSettings = {
    tasks: tasksPath, limit: e.limit ?? null,
    arms: full.arms, threshold: full.threshold, maxWidth: full.maxWidth, maxSteps: full.maxSteps, policy: full.policy, pathCap: full.pathCap, ks: full.ks,
    exec: { timeoutMs: full.exec.timeoutMs, memoryMb: full.exec.memoryMb, python },
    concurrency: full.concurrency,
    batchPrompts: batchPromptsFor(e.batchPrompts, Math.max(...full.arms.map((arm) => armConfig(full, arm).maxWidth))),
    // Only when asked for: an eval without baselines stores the file it stored before them.
    ...(full.baselines ? { baselines: full.baselines } : {}),
  };
  return { settings, tasks, source };
}

/** Every shard runs at least one item: more shards than items is a mistake in the job array. */
function checkShardFits(shard: Shard, total: number, items: string): void {
  if (shard.count > total) throw new TempoInputError(`shard ${shard.index}/${shard.count}: the suite has ${total} ${items}, so at most ${total} shards (each runs at least one)`);
}

/**
 * The identity `tempo merge` checks shards against: SHA-256 of the suite's items and of every
 * resolved setting that can change a result, with the backend and llama.cpp build the shard ran
 * on. Left out: the description, where files are (the model counts by its SHA-256, a task file
 * by its tasks), which shard it is, and the settings that change speed only (engine.threads,
 * compare.analysisWorkers, eval.concurrency), in which a cluster's machines may differ.
 */
export function suiteIdentity(x: ResolvedCompare | ResolvedEval, model: TempoModel, suiteTasks?: readonly EvalTask[]): string {
  const own = x.command === "compare"
    ? { compare: { ...x.compare, analysisWorkers: undefined } }
    : { eval: { ...x.eval, tasks: undefined, concurrency: undefined }, tasks: suiteTasks };
  const identity = {
    ...x, ...own, description: undefined, shard: undefined, model: x.model.sha256, engine: { ...x.engine, threads: undefined },
    runtime: { backend: model.runtime.backend, ...model.runtime.versions },
  };
  return createHash("sha256").update(JSON.stringify(identity)).digest("hex");
}

/** `key value` pairs of a settings block, in its order (so a setting added to the schema shows up by itself). */
const pairs = (o: object): string => Object.entries(o).map(([k, v]) => `${k} ${Array.isArray(v) ? (v.length ? JSON.stringify(v) : "none") : v !== null && typeof v === "object" ? `{${pairs(v)}}` : String(v)}`).join(", ");

/** Every setting a compare ran with, as the report's Settings line; experiment.json beside it holds the same. */
export function settingsLine(x: ResolvedCompare): string {
  return `generation: ${pairs(x.generation)}; compare: ${pairs(x.compare)}; engine: ${pairs(x.engine)} (experiment.json reruns it)`;
}

/** Writes experiment.json into a folder (exclusively: folders are never overwritten). */
export function storeExperiment(dir: string, x: ResolvedExperiment): void {
  writeFileAtomic(join(dir, EXPERIMENT_FILE_NAME), experimentJson(x), { exclusive: true });
}

/** How `tempo generate` shows a run (main.ts renders the sets). */
export interface GenerateHooks {
  onStart?(prompt: string): void;
  onStep?(e: StepEvent): void;
  onDone?(session: TempoSession, result: GenerationResult, seconds: number): void;
}

export interface RunHooks {
  generate?: GenerateHooks;
  signal?: AbortSignal;
  onProgress?: (phase: string, done: number, total: number) => void;
  /** One line for the user (stdout). */
  say: (text: string) => void;
  /** Progress notes (stderr). */
  note: (text: string) => void;
}

/**
 * One prompt's comparison under a resolved compare experiment, its report carrying the
 * Settings line: `tempo compare` writes it into a capture folder, `/tempo/compare` answers it.
 */
export async function compareOnePrompt(model: TempoModel, x: ResolvedCompare, prompt: string, o: Pick<CompareRequest, "recorded" | "signal" | "onProgress" | "onReplayed" | "seats">): Promise<CompareResult> {
  const c = x.compare;
  const result = await compareModes(model, {
    prompt, recorded: o.recorded, config: x.generation, qMode: c.qMode, contextSize: x.engine.contextSize, threads: x.engine.threads,
    attentionLayers: c.attentionLayers ?? undefined, logits: c.logits, analysisWorkers: c.analysisWorkers, signal: o.signal, onProgress: o.onProgress, onReplayed: o.onReplayed, seats: o.seats,
  });
  return { ...result, report: { ...result.report, settings: settingsLine(x) } };
}

/**
 * The progress of a batch of comparisons as one bar per phase: the steps of every prompt of the
 * batch added up (generate, then replay). A note says when the batch starts its replays.
 */
function batchProgress(chunk: readonly number[], total: number, hooks: RunHooks): (j: number) => NonNullable<RunHooks["onProgress"]> {
  const each = chunk.map(() => ({ phase: "", done: 0, total: 0 }));
  let replaying = false;
  return (j) => (phase, done, steps) => {
    each[j] = { phase, done, total: steps };
    if (phase === "replay" && !replaying) {
      replaying = true;
      hooks.note(`\nprompts ${chunk.map((k) => k + 1).join(", ")} of ${total}: generated, replaying together\n`);
    }
    const same = each.filter((e) => e.phase === phase);
    hooks.onProgress?.(phase, same.reduce((a, e) => a + e.done, 0), same.reduce((a, e) => a + e.total, 0));
  };
}

/** `tempo compare`: a capture folder (or one per prompt and paired.json), each with its experiment.json. */
export async function runCompareExperiment(p: Extract<Prepared, { resolved: ResolvedCompare }>, out: string, hooks: RunHooks): Promise<void> {
  const x = p.resolved;
  /** `batched`: a seat runner shared with the batch's other prompts, and this prompt's share of the progress. */
  const runOne = async (prompt: string, dir: string, stored: ResolvedCompare, batched?: { seats: OnSeat; onProgress: RunHooks["onProgress"] }) => {
    const result = await compareOnePrompt(p.model, stored, prompt, { recorded: p.recorded, signal: hooks.signal, onProgress: batched ? batched.onProgress : hooks.onProgress, seats: batched?.seats });
    const writeReports = await renderReport(result.report);
    // The manifest last: a killed run leaves a folder without one (unfinished), never one that looks complete.
    result.recorder.write(dir, undefined, (d) => {
      writeReports(d);
      storeExperiment(d, stored);
    });
    return result;
  };
  if (!x.prompts) {
    const prompt = x.prompt ?? p.recorded?.promptText ?? "";
    const { report, complete } = await runOne(prompt, out, x);
    const js = report.summary.js, nullJs = report.nullBaseline.summary.js;
    if (!complete) hooks.note(`\ncancelled: ${out} holds the comparison of the ${report.steps.length} steps replayed (stop reason "aborted")\n`);
    hooks.say(`\n${report.steps.length} steps: JS(${report.p.mode} || ${report.q.mode}) mean ${js?.mean.toExponential(3)} nats; ` +
      `null baseline mean ${nullJs?.mean.toExponential(3)}\nwrote ${out}/report.html\n`);
    return;
  }
  const { prompts } = x;
  // A shard runs its members only, each under the number (and in the folder) the whole suite gives it.
  const members = x.shard ? shardMembers(prompts.length, x.shard) : prompts.map((_, k) => k);
  const of = x.shard ? ` (shard ${x.shard.index}/${x.shard.count})` : "";
  const items = [];
  // compare.batchPrompts prompts at a time share each decode: one group, whose rounds run
  // their generations, then their replays (three seats each).
  const batch = x.compare.batchPrompts;
  const group = batch > 1 ? new SessionGroup(p.model, SEATS_PER_COMPARISON * batch, {
    lanes: x.generation.maxWidth, contextSize: x.engine.contextSize, flashAttention: "off", threads: x.engine.threads, scratchCells: x.generation.maxSteps,
  }) : undefined;
  const seats = group && seatRunner(group).onSeat;
  try {
    suite: for (let start = 0; start < members.length; start += batch) {
      const chunk = members.slice(start, start + batch);
      const onProgress = group ? batchProgress(chunk, prompts.length, hooks) : undefined;
      const settled = await Promise.allSettled(chunk.map((k, j) => {
        // Each prompt's folder reruns that prompt on its own: the same experiment with that one
        // prompt (one prompt is no suite to shard, nor to share decodes with).
        const alone: ResolvedCompare = { ...x, prompts: undefined, shard: undefined, prompt: prompts[k], compare: { ...x.compare, batchPrompts: 1 } };
        return runOne(prompts[k], join(out, promptFolderName(k + 1)), alone, onProgress && { seats: seats!, onProgress: onProgress(j) });
      }));
      for (const [j, s] of settled.entries()) {
        const id = chunk[j] + 1;
        if (s.status === "rejected") {
          if (!hooks.signal?.aborted) throw s.reason;
          break suite; // cancelled before a step of this prompt was replayed
        }
        // Cancelled: the prompts done so far are kept (and this one's steps replayed, in its own
        // folder), and paired.json, over the finished prompts only, says the suite is partial.
        if (!s.value.complete) break suite;
        items.push(pairedItem(id, s.value.report));
        hooks.note(`\nprompt ${id}/${prompts.length} done${of}\n`);
      }
    }
  } finally {
    group?.dispose();
  }
  const complete = items.length === members.length;
  const paired = writePairedFile(out, { complete, prompts, items, ...(p.shard ? { shard: p.shard } : {}) });
  storeExperiment(out, x);
  if (!complete) {
    hooks.note(`\ncancelled after ${items.length} of ${members.length} prompts${of}: their folders are kept, and ${out}/${PAIRED_FILE} covers them with "complete": false\n`);
    return;
  }
  // A shard's statistics are not the suite's: tempo merge computes those over every prompt.
  if (x.shard) hooks.say(`${items.length} of the suite's ${prompts.length} prompts${of}\nwrote ${out}/${PAIRED_FILE}; tempo merge combines the shards (docs/scale.md)\n`);
  else hooks.say(`${pairedSummaryLine(paired)}\nwrote ${out}/${PAIRED_FILE}\n`);
}

/** The file `tempo generate --out` and `tempo run` of a generate experiment write: what --json prints. */
export const GENERATION_FILE = "generation.json";

/** `tempo generate`: streams the run through `hooks.generate`; with `out`, a new folder with generation.json and experiment.json. */
export async function runGenerateExperiment(p: Extract<Prepared, { resolved: ResolvedGenerate }>, out: string | undefined, hooks: RunHooks): Promise<{ aborted: boolean }> {
  const x = p.resolved, config = x.generation;
  const session = new TempoSession(p.model, {
    contextSize: x.engine.contextSize, lanes: Math.max(config.maxWidth, 1), flashAttention: x.engine.flashAttention, threads: x.engine.threads,
    ...pruningSessionOptions(config, p.model.info.nLayer),
  });
  try {
    const promptTokens = p.model.promptTokens(x.prompt);
    hooks.generate?.onStart?.(x.prompt);
    const started = performance.now();
    const result = await runGeneration(session, { promptTokens, config, signal: hooks.signal }, (e) => hooks.generate?.onStep?.(e));
    const seconds = (performance.now() - started) / 1000;
    if (out !== undefined) {
      mkdirSync(dirname(resolve(out)), { recursive: true });
      mkdirSync(out); // exclusive, like a capture folder
      writeFileAtomic(join(out, GENERATION_FILE), JSON.stringify(generationJson(session, config, result), null, 2) + "\n", { exclusive: true });
      storeExperiment(out, x);
    }
    hooks.generate?.onDone?.(session, result, seconds);
    return { aborted: result.stopReason === "aborted" };
  } finally {
    session.dispose();
  }
}

/** The runner's settings of a resolved eval block. */
export const evalSettingsOf = (e: ResolvedEvalSettings): EvalSettings => ({
  arms: e.arms, threshold: e.threshold, maxWidth: e.maxWidth, maxSteps: e.maxSteps, policy: e.policy, pathCap: e.pathCap, ks: e.ks, concurrency: e.concurrency,
  exec: { timeoutMs: e.exec.timeoutMs, memoryMb: e.exec.memoryMb, python: e.exec.python },
  ...(e.baselines ? { baselines: e.baselines } : {}),
});

/**
 * What a resolved eval runs in (lanes for its widest arm): one session, or a group of
 * eval.batchPrompts seats whose sets share each decode; with the runner's settings. The caller disposes it.
 */
export function evalSession(model: TempoModel, x: ResolvedEval): { session: TempoSession | SessionGroup; settings: EvalSettings } {
  const settings = evalSettingsOf(x.eval);
  const lanes = Math.max(...settings.arms.map((arm) => armConfig(settings, arm).maxWidth));
  const options = { contextSize: x.engine.contextSize, lanes, flashAttention: x.engine.flashAttention, threads: x.engine.threads };
  return { session: x.eval.batchPrompts > 1 ? new SessionGroup(model, x.eval.batchPrompts, options) : new TempoSession(model, options), settings };
}

/**
 * `tempo eval`: experiment.json first (a killed run can then be resumed), the results as they
 * finish, then summary, reports; `plan` says whether `out` holds a partial run to resume or replace.
 */
export async function runEvalExperiment(p: Extract<Prepared, { resolved: ResolvedEval }>, out: string, plan: EvalOutPlan, signal?: AbortSignal): Promise<{ aborted: boolean }> {
  const x = p.resolved, e = x.eval;
  const experiment = experimentJson(x);
  const previous = applyEvalOutPlan(out, plan, experiment, p.tasks, [...e.arms, ...(e.baselines?.arms ?? [])]);
  const { session, settings } = evalSession(p.model, x);
  try {
    return await runEvalCommand({ session, tasks: p.tasks, source: p.source, limit: e.limit ?? undefined, shard: p.shard, settings, out, signal, start: previous ? { previous } : { experiment } });
  } finally {
    session.dispose();
  }
}

/** The folder the experiment file is in: where its relative paths start. */
export const experimentBaseDir = (file: string): string => dirname(resolve(file));

export interface ExecuteOptions {
  /** Where relative paths in the experiment start. */
  baseDir: string;
  out?: string;
  /** Write the resolved experiment here ("-": stdout) before running (or instead of it, without `out`). */
  dump?: string;
  /** What an eval does with an --out folder that holds a partial run (--resume, --replace); refused by default. */
  partial?: PartialChoice;
  hooks: RunHooks;
  /** The experiment's model, already open (a study runs several on one): used, and left open. Absent: opened and freed here. */
  model?: TempoModel;
}

/** What the three entry points share: check --out, resolve, dump and/or run, free the model. Returns true when cancelled. */
export async function executeExperiment(x: ExperimentFile, o: ExecuteOptions): Promise<{ aborted: boolean }> {
  if (o.out === undefined && o.dump === undefined && x.command !== "generate") throw new TempoInputError("give --out <dir> (or --dump-experiment <file> to write the resolved experiment only)");
  if (o.partial !== undefined && o.partial !== "refuse" && x.command !== "eval") throw new TempoInputError(`--${o.partial} is for eval folders; a ${x.command} experiment neither resumes nor replaces one`);
  const evalPlan = o.out !== undefined && x.command === "eval" ? planEvalOut(o.out, o.partial ?? "refuse") : undefined;
  if (o.out !== undefined && !evalPlan) checkOutDir(o.out, { allowEmpty: false });
  const p = await prepareExperiment(x, o.baseDir, o.model);
  try {
    if (o.dump === "-") process.stdout.write(experimentJson(p.resolved));
    // A .yaml / .yml name gets the same experiment as YAML (same keys, same order).
    else if (o.dump !== undefined) writeFileAtomic(o.dump, experimentFormat(o.dump) === "yaml" ? experimentText(JSON.parse(experimentJson(p.resolved)) as ExperimentFile, o.dump) : experimentJson(p.resolved));
    if (p.resolved.command === "generate") return o.dump !== undefined && o.out === undefined ? { aborted: false } : await runGenerateExperiment(p as Extract<Prepared, { resolved: ResolvedGenerate }>, o.out, o.hooks);
    if (o.out === undefined) return { aborted: false };
    if (p.resolved.command === "eval") return await runEvalExperiment(p as Extract<Prepared, { resolved: ResolvedEval }>, o.out, evalPlan ?? { kind: "new" }, o.hooks.signal);
    await runCompareExperiment(p as Extract<Prepared, { resolved: ResolvedCompare }>, o.out, o.hooks);
    return { aborted: false };
  } finally {
    if (!o.model) await p.model.dispose();
  }
}
