/**
 * `tempo study <file | seed>`: a study is several experiments run on one model and read
 * together against stated claims. Its file (studies/seed.json is the one the project ships)
 * holds the prompts and each part's settings; `tempo study` runs every part into a folder of
 * its own (a capture suite, an eval folder, perplexity.json), each with the experiment.json that
 * reruns it, stores the resolved study (study.json, which reruns the whole), and writes
 * study.md / study.json-report from what the folders hold (src/cli/study-report.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { TempoInputError } from "../engine/errors.js";
import { TempoModel } from "../engine/model.js";
import { TempoSession } from "../engine/session.js";
import { teacherForcedPerplexity, type PerplexityResult } from "../engine/tempo/perplexity.js";
import { resolveConfig } from "../engine/tempo/config.js";
import { writeFileAtomic } from "../engine/capture/atomic.js";
import { checkOutDir } from "../engine/capture/out-dir.js";
import { experimentBlocks, type ExperimentFile } from "../protocol/experiment-file.js";
import { TEMPO_MODES } from "../protocol/generation.js";
import { executeExperiment, type RunHooks } from "./experiment.js";

export const STUDY_FILE_VERSION = 1;
/** The study folder's copy of the resolved study: `tempo study <out>/study.json` reruns it. */
export const STUDY_FILE_NAME = "study.json";
/** Where the perplexity part writes its results. */
export const PERPLEXITY_FILE = "perplexity.json";
/** The studies the project ships, by name (`tempo study seed`). */
export const SHIPPED_STUDIES: Record<string, string> = { seed: "seed.json" };
const STUDIES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../studies");

const blocks = experimentBlocks;
const count = (what: string) => z.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`).min(1, `${what} must be at least 1`);

/** A compare part: the study's prompts (the first `prompts` of them, when given) under these settings. */
const comparePart = z.object({
  prompts: count("a part's prompt count").optional(),
  engine: blocks.engine.optional(),
  generation: blocks.generation.optional(),
  compare: blocks.compare.optional(),
}).strict();

export const studySchema = z.object({
  version: z.literal(STUDY_FILE_VERSION, { error: `version must be ${STUDY_FILE_VERSION} (the study format this tempo reads)` }),
  study: z.string().min(1, "study must name the study"),
  description: z.string().optional(),
  /** The model; `--model` replaces it. Relative paths are relative to the study file. */
  model: blocks.model.optional(),
  engine: blocks.engine.optional(),
  prompts: z.array(z.string().min(1, "prompts cannot be empty")).min(2, "a study needs at least two prompts (its statistics are paired over prompts)"),
  /** Isolated vs visible, attention captured in the pass that holds each set. */
  divergence: comparePart,
  /** High parallelism: wide sets, the same comparison. */
  wide: comparePart,
  /** Teacher-forced perplexity of `text` in each mode (windows when it is longer than the context). */
  perplexity: z.object({
    text: z.string().min(1, "the perplexity text cannot be empty"),
    modes: z.array(z.enum(TEMPO_MODES, { error: `perplexity modes must be ${TEMPO_MODES.join(", ")}` })).min(1, "at least one perplexity mode"),
    generation: blocks.generation.optional(),
  }).strict(),
  /** Code completion on the built-in tasks (an eval experiment's eval block). */
  quality: z.object({ engine: blocks.engine.optional(), eval: blocks.eval.optional() }).strict(),
  /** What `--short` cuts to (CI runs the study so): prompts, steps per part, eval tasks, perplexity characters. */
  short: z.object({ prompts: count("short prompts").min(2, "short prompts must be at least 2"), maxSteps: count("short max steps"), tasks: count("short tasks"), perplexityChars: count("short perplexity characters") }).strict(),
}).strict();

export type StudyFile = z.output<typeof studySchema>;
/** A study as it runs: its model fixed by path and SHA-256. */
export type ResolvedStudy = StudyFile & { model: { path: string; sha256: string } };

/** The shipped study `name`, or the file `arg` names. */
export function studyPath(arg: string): string {
  const shipped = SHIPPED_STUDIES[arg];
  return shipped ? join(STUDIES_DIR, shipped) : resolve(arg);
}

export function readStudyFile(file: string): StudyFile {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new TempoInputError(`cannot read the study ${file}: ${(e as Error).message.split("\n")[0]}`);
  }
  const parsed = studySchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TempoInputError(`${file}: ${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`);
  }
  return parsed.data;
}

/** The study as it will run: --short applied (and then dropped: the stored file is the cut one), the model fixed by path and SHA-256. */
export function resolveStudy(s: StudyFile, model: { path: string; sha256: string }, short: boolean): ResolvedStudy {
  const cut = (gen: StudyFile["divergence"]["generation"]) => (short ? { ...gen, maxSteps: Math.min(gen?.maxSteps ?? s.short.maxSteps, s.short.maxSteps) } : gen);
  const part = (p: StudyFile["divergence"]) => ({ ...p, generation: cut(p.generation), ...(short && p.prompts !== undefined ? { prompts: Math.min(p.prompts, s.short.prompts) } : {}) });
  const evalBlock = s.quality.eval ?? {};
  return {
    ...s, model,
    prompts: short ? s.prompts.slice(0, s.short.prompts) : s.prompts,
    divergence: part(s.divergence), wide: part(s.wide),
    perplexity: short ? { ...s.perplexity, text: s.perplexity.text.slice(0, s.short.perplexityChars) } : s.perplexity,
    quality: short ? { ...s.quality, eval: { ...evalBlock, limit: Math.min(evalBlock.limit ?? s.short.tasks, s.short.tasks), maxSteps: Math.min(evalBlock.maxSteps ?? s.short.maxSteps * 4, s.short.maxSteps * 4) } } : s.quality,
  };
}

/** Each part as the experiment file it runs (stored in its folder, so it reruns alone too). */
export function partExperiments(s: ResolvedStudy): { divergence: ExperimentFile; wide: ExperimentFile; quality: ExperimentFile } {
  const compare = (p: StudyFile["divergence"]): ExperimentFile => ({
    version: 1, command: "compare", model: s.model, engine: { ...s.engine, ...p.engine },
    prompts: s.prompts.slice(0, p.prompts ?? s.prompts.length), generation: p.generation, compare: p.compare,
  });
  return {
    divergence: compare(s.divergence),
    wide: compare(s.wide),
    quality: { version: 1, command: "eval", model: s.model, engine: { ...s.engine, ...s.quality.engine }, eval: s.quality.eval },
  };
}

export interface PerplexityPart { text: string; results: PerplexityResult[] }

async function runPerplexity(s: ResolvedStudy, model: TempoModel, out: string, signal: AbortSignal | undefined, note: (t: string) => void): Promise<PerplexityPart> {
  const results: PerplexityResult[] = [];
  for (const mode of s.perplexity.modes) {
    const config = resolveConfig({ ...s.perplexity.generation, mode });
    const session = new TempoSession(model, { contextSize: s.engine?.contextSize, lanes: Math.max(config.maxWidth, 1), threads: s.engine?.threads, flashAttention: s.engine?.flashAttention });
    try {
      results.push(await teacherForcedPerplexity(session, s.perplexity.text, config, { signal }));
      note(`perplexity ${mode}: ${results.at(-1)!.perplexity.toFixed(3)}\n`);
    } finally {
      session.dispose();
    }
  }
  const part = { text: s.perplexity.text, results };
  writeFileAtomic(join(out, PERPLEXITY_FILE), JSON.stringify(part, null, 2) + "\n", { exclusive: true });
  return part;
}

/** The parts' folders under a study folder. */
export const STUDY_PARTS = { divergence: "divergence", wide: "wide", quality: "quality" } as const;

/**
 * Runs every part of a resolved study into `out` (new) on `model` (its file, opened once: each
 * part would otherwise load it and hash it again), then its report. Returns true when cancelled.
 */
export async function runStudy(s: ResolvedStudy, model: TempoModel, out: string, hooks: RunHooks, writeReport: (s: ResolvedStudy, out: string) => void): Promise<boolean> {
  checkOutDir(out, { allowEmpty: false });
  mkdirSync(out, { recursive: true });
  // Through the schema, so keys come in its order whatever order resolving left them in: a rerun stores the same bytes.
  writeFileSync(join(out, STUDY_FILE_NAME), JSON.stringify(studySchema.parse(s), null, 2) + "\n", { flag: "wx" });
  const parts = partExperiments(s);
  for (const name of Object.keys(STUDY_PARTS) as (keyof typeof STUDY_PARTS)[]) {
    hooks.note(`\n== ${name} ==\n`);
    const { aborted } = await executeExperiment(parts[name], { baseDir: out, out: join(out, STUDY_PARTS[name]), hooks, model });
    if (aborted || hooks.signal?.aborted) return true;
  }
  hooks.note("\n== perplexity ==\n");
  await runPerplexity(s, model, out, hooks.signal, hooks.note);
  if (hooks.signal?.aborted) return true;
  writeReport(s, out);
  return false;
}
