/**
 * The `tempo` command: scripted experiments over the same engine the extension uses.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { styleText } from "node:util";
import { TempoInputError } from "../engine/errors.js";
import { TempoSession, FlashAttention, MAX_CONTEXT_SIZE, MAX_THREADS, MIN_CONTEXT_SIZE } from "../engine/session.js";
import { resolveConfig } from "../engine/tempo/config.js";
import { overallVerdict, runSelfCheck } from "../engine/tempo/selfcheck.js";
import type { GenerationConfig, GenerationResult, StepEvent } from "../engine/types.js";
import { DEFAULT_CONFIG, MAX_LANES, NEXT_STEP_POLICIES, NUMBER_RANGES, rangeText, TEMPO_MODES, THRESHOLD_SCHEDULES, type NumberSetting, type TempoMode } from "../protocol/generation.js";
import { defaultModelPath } from "../engine/default-model.js";
import { readStudyFile, resolveStudy, runStudy, SHIPPED_STUDIES, studyPath } from "./study.js";
import { STUDY_REPORT, writeStudyReport } from "./study-report.js";
import { GpuChoice, nodeLlamaCppVersion } from "../engine/llama/runtime.js";
import { THREAD_WINDOW_MS } from "../engine/llama/thread-governor.js";
import { schedulePreviewText } from "../engine/tempo/schedule.js";
import { SET_CLOSE, SET_OPEN, SET_SEPARATOR, visibleToken } from "../protocol/token-display.js";
import { parseArms, parseBaselines, parseMatch } from "./eval.js";
import { DEFAULT_BASELINE_SAMPLING } from "../protocol/baselines.js";
import { DEFAULT_EVAL_SETTINGS } from "../engine/eval/runner.js";
import { batchPromptsFor, DEFAULT_BATCH_PROMPTS, SessionGroup } from "../engine/session-group.js";
import { DEFAULT_PYTHON } from "../engine/eval/sandbox.js";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";
import { packageOf } from "../engine/llama/package-info.js";
import { perplexityWindows, teacherForcedPerplexity } from "../engine/tempo/perplexity.js";
import { generationJson } from "../engine/tempo/generation-json.js";
import { startServer } from "../server/serve.js";
import { homedir } from "node:os";

import { number, shardOption, wholeNumber } from "./options.js";
import { mergeShards } from "./merge.js";
import { cancelSignal, installSignalHandlers, reportError, wasCancelled } from "./exit.js";
import { EXIT } from "./exit-codes.js";
import { phaseProgress } from "./progress.js";
import { addPromptFileOption } from "./prompt-file.js";
import { openModel } from "./open-model.js";
import { executeExperiment, experimentBaseDir, readExperimentFile, type GenerateHooks } from "./experiment.js";
import { ModelMismatchError } from "../engine/capture/reader.js";
import { EXPERIMENT_FILE_VERSION, type ExperimentFile } from "../protocol/experiment-file.js";
import type { AttentionLayers } from "../protocol/attention.js";
import type { PartialChoice } from "../engine/eval/partial-folder.js";

const collect = (value: string, previous: string[]) => [...previous, value];

const DUMP_FLAG = "--dump-experiment <file>";
const SHARD_FLAG = "--shard <i/N>";
/** What --shard does to a suite of `items`: help of compare and eval. */
const shardHelp = (items: string) => `run only shard i of N of the ${items}: those whose 0-based index mod N is i - 1 (i is 1-based, like Slurm's array task id), one job of a cluster's array each; tempo merge combines the N folders (docs/scale.md) (default: all of them)`;
const DUMP_HELP = "write the resolved experiment (every default filled in, the model's SHA-256; docs/experiments.md) to this file (YAML when it is named .yaml / .yml), - for stdout; without --out, nothing runs";

const parseLayers = (value: string): number[] => {
  const layers = value.split(",").map((v) => Number(v.trim()));
  if (layers.some((l) => !Number.isInteger(l) || l < 0)) throw new InvalidArgumentError(`layers must be comma-separated integers, got "${value}"`);
  return layers;
};

interface EngineFlags { model?: string; gpu: GpuChoice; contextSize?: number; flashAttention: FlashAttention; threads?: number }

function engineOptions(cmd: Command): Command {
  return cmd
    .option("--model <gguf>", "GGUF model file (default: the bundled demo model)")
    .addOption(new Option("--gpu <choice>", "GPU backend").choices(["auto", "cpu"]).default("auto"))
    .option("--context-size <n>", "KV cells (a set of M uses M cells), 16 to 16 x the model's training context", wholeNumber("context size", MAX_CONTEXT_SIZE, MIN_CONTEXT_SIZE))
    .option("--threads <n>", `CPU threads, 1 to ${MAX_THREADS} (default: automatic, the cores other processes leave idle, re-measured every ${THREAD_WINDOW_MS / 1000} s while decoding, at most every math core)`, wholeNumber("threads", MAX_THREADS, 1))
    .addOption(new Option("--flash-attention <mode>", "flash attention").choices(["on", "off"]).default("off"));
}

/** --resume / --replace: what an eval does with an --out folder that holds a partial run (src/cli/eval-out.ts). */
function partialOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--resume", "finish the partial run in --out (killed or cancelled): only its unfinished units run, and only with the settings and model it was started with (default: a partial folder is refused)").conflicts("replace"))
    .option("--replace", "delete the partial run in --out, after checking it is one, and start again (default: a partial folder is refused)");
}
const partialChoice = (o: { resume?: boolean; replace?: boolean }): PartialChoice => (o.resume ? "resume" : o.replace ? "replace" : "refuse");

async function openSession(flags: EngineFlags, lanes: number): Promise<TempoSession> {
  const model = await openModel(flags.model ?? defaultModelPath(), flags.gpu);
  try {
    return new TempoSession(model, { contextSize: flags.contextSize, lanes, flashAttention: flags.flashAttention, threads: flags.threads });
  } catch (e) {
    await model.dispose();
    throw e;
  }
}

/**
 * Inline rendering of a step: one member as its text (a special token by name), a set as
 * ⟦a¦b¦c⟧ with members as every view shows them (docs: README): brackets and a bar that code
 * rarely contains, so a set can be told from the text without colour. Colour on a TTY.
 */
function renderStep(e: StepEvent, colour: boolean): string {
  if (e.candidates.length === 1) return e.candidates[0].special ?? e.candidates[0].text;
  const parts = e.candidates.map((c, j) => {
    const text = visibleToken(c);
    if (!colour) return text;
    return j === 0 ? styleText(["bold", "green"], text) : styleText(c.prob >= 0.2 ? "yellow" : "dim", text);
  });
  const mark = (s: string) => (colour ? styleText("cyan", s) : s);
  return mark(SET_OPEN) + parts.join(mark(SET_SEPARATOR)) + mark(SET_CLOSE);
}

/** One line on what pruning did: members pruned of those decided, in how many sets. */
function pruningSummary(result: GenerationResult): string {
  const decisions = result.steps.flatMap((s) => (s.pruning ? [s.pruning] : []));
  const decided = decisions.reduce((a, d) => a + d.pruned.length - 1, 0); // the primary is never a candidate
  const pruned = decisions.reduce((a, d) => a + d.pruned.filter(Boolean).length, 0);
  const sets = decisions.filter((d) => d.pruned.some(Boolean)).length;
  return `[pruning] ${pruned} of ${decided} non-primary members pruned, in ${sets} of ${decisions.length} decided sets`;
}

/** tempo's own version and the node-llama-cpp (which bundles llama.cpp) it drives, without loading either. */
function versionText(): string {
  // From src/cli/program.ts or the bundled dist/cli.js alike, the nearest package.json up is ours.
  const own = packageOf(fileURLToPath(import.meta.url));
  return `${own.name} ${own.version} (node-llama-cpp ${nodeLlamaCppVersion()})`;
}

const program = new Command("tempo")
  .description("TEMPO: parallel-token generation on llama.cpp models")
  .version(versionText(), "--version", "print the version of tempo and of the node-llama-cpp it runs on")
  .showHelpAfterError(false)
  .allowExcessArguments(false);

/** A setting's help: what it does, its range and its default (src/protocol/generation.ts). */
const settingHelp = (key: NumberSetting, what: string): string => `${what}, in ${rangeText(NUMBER_RANGES[key])} (default: ${DEFAULT_CONFIG[key]})`;

/** The generation settings every run-producing command takes. */
function generationOptions(cmd: Command, defaultMode: TempoMode): Command {
  return cmd
    .addOption(new Option("--mode <mode>", "how set members see each other").choices(TEMPO_MODES).default(defaultMode))
    .addOption(new Option("--policy <policy>", "next-step distribution after a set").choices(NEXT_STEP_POLICIES).default(DEFAULT_CONFIG.policy))
    .option("--threshold <t>", settingHelp("threshold", "keep tokens with p >= t"), number("threshold"))
    .option("--alpha <a>", settingHelp("relativeAlpha", "relative rule: cutoff = max(t, a * p_max)"), number("alpha"))
    .addOption(new Option("--schedule <schedule>", "threshold schedule over steps").choices(THRESHOLD_SCHEDULES).default(DEFAULT_CONFIG.schedule))
    .option("--threshold-end <t>", `threshold at the last step (linear and cosine schedules), in ${rangeText(NUMBER_RANGES.thresholdEnd)} (default: the threshold)`, number("threshold end"))
    .option("--max-width <n>", settingHelp("maxWidth", "largest set (at most the lane limit)"), number("max width"))
    .option("--max-steps <n>", settingHelp("maxSteps", "steps to generate"), number("max steps"))
    .option("--min-steps <n>", settingHelp("minSteps", "end-of-generation tokens cannot end the run before this step"), number("min steps"))
    .option("--temperature <t>", settingHelp("temperature", "softmax temperature"), number("temperature"))
    .option("--stop <text>", "stop string (repeatable)", collect, []);
}

function configFrom(o: Record<string, unknown>): GenerationConfig {
  return resolveConfig({
    mode: o.mode, policy: o.policy, threshold: o.threshold, relativeAlpha: o.alpha, schedule: o.schedule, thresholdEnd: o.thresholdEnd,
    maxWidth: o.maxWidth, maxSteps: o.maxSteps, minSteps: o.minSteps, temperature: o.temperature, stopStrings: o.stop,
    pruneMass: o.pruneAttention, pruneLookahead: o.pruneLookahead, pruneLayers: o.pruneLayers,
  });
}

/** The schedules' curves, computed by the engine's own function, for `generate --help`. */
function scheduleHelp(): string {
  const example = { threshold: 0.2, thresholdEnd: 0.02, maxSteps: 64 };
  const lines = THRESHOLD_SCHEDULES.map((schedule) => `  ${schedule.padEnd(9)} ${schedulePreviewText({ ...example, schedule })}`);
  return `\nThreshold schedules (--threshold 0.2 --threshold-end 0.02 --max-steps 64):\n${lines.join("\n")}\n`;
}

generationOptions(engineOptions(program.command("generate").description("generate with parallel sets").allowExcessArguments(false)), "isolated")
  .addHelpText("after", scheduleHelp)
  .option("--prompt <text>", "prompt text")
  .option("--json", "print one JSON object instead of streaming text")
  .option("--prune-attention <mass>", settingHelp("pruneMass", "retroactive pruning (isolated mode; docs/pruning.md): a member whose mean attention from the next --prune-lookahead steps is below this mass leaves the KV cache for every later token; 0: none"), number("prune mass"))
  .option("--prune-lookahead <k>", settingHelp("pruneLookahead", "steps after a set whose attention scores it"), number("prune lookahead"))
  .option("--prune-layers <list>", "layers whose attention scores members, comma-separated (default: every layer)", parseLayers)
  .option("--out <dir>", "also write generation.json (what --json prints) and experiment.json into this new folder")
  .option(DUMP_FLAG, DUMP_HELP)
  .action(async (o) => {
    if (o.prompt === undefined) throw new TempoInputError("give --prompt or --prompt-file");
    const config = configFrom(o);
    if (!(config.pruneMass > 0) && (o.pruneLookahead !== undefined || o.pruneLayers)) throw new TempoInputError("--prune-lookahead and --prune-layers shape --prune-attention: give it too");
    const experiment: ExperimentFile = { version: EXPERIMENT_FILE_VERSION, command: "generate", ...engineExperiment(o), prompt: o.prompt, generation: config };
    await runExperiment(experiment, process.cwd(), o.out, o.dumpExperiment, Boolean(o.json));
  });

/** How tempo generate (and tempo run of a generate experiment) shows its run: streamed text, or one JSON object. */
function generationPrinter(json: boolean): GenerateHooks {
  const colour = !json && process.stdout.isTTY && !process.env.NO_COLOR;
  return {
    onStart: (prompt) => { if (!json) process.stdout.write(prompt); },
    onStep: (e) => { if (!json) process.stdout.write(renderStep(e, colour)); },
    onDone: (session, result, seconds) => {
      const { config } = result;
      if (json) {
        process.stdout.write(JSON.stringify(generationJson(session, config, result)) + "\n");
        return;
      }
      const tokens = result.steps.reduce((a, s) => a + s.candidates.length, 0);
      process.stdout.write("\n");
      if (config.pruneMass > 0) process.stderr.write(`${pruningSummary(result)}\n`);
      process.stderr.write(`[${result.stopReason}] ${result.steps.length} steps, ${tokens} tokens in sets, ${(result.steps.length / seconds).toFixed(1)} steps/s on ${session.model.runtime.backend}\n`);
    },
  };
}

const SELFCHECK_EXIT = { pass: 0, FAIL: 1, inconclusive: 3 } as const;

const parseWidths = (value: string): number[] => {
  const widths = value.split(",").map((v) => Number(v.trim()));
  if (widths.some((w) => !Number.isInteger(w) || w < 2 || w > MAX_LANES)) throw new InvalidArgumentError(`widths must be comma-separated integers in [2, ${MAX_LANES}], got "${value}"`);
  return widths;
};

engineOptions(program.command("selfcheck")
  .description("verify exact isolation on a model against a measured noise floor (docs/tolerances.md); exit 0 all pass, 1 a check failed, 3 some inconclusive")
  .allowExcessArguments(false))
  .option("--prompt <text>", "prompt for the checks", "The quick brown fox")
  .option("--width <list>", "set sizes to check, comma-separated (e.g. 4,32,64)", parseWidths, [4])
  .option("--noise-floor <x>", "judge against this max |logit difference| instead of the measured floor", number("noise floor"))
  .option("--json", "print JSON")
  .action(async (o) => {
    if (o.noiseFloor !== undefined && !(o.noiseFloor > 0)) throw new TempoInputError("noise floor must be > 0");
    const widths: number[] = o.width;
    const session = await openSession(o, Math.max(...widths));
    const prompt = session.model.promptTokens(o.prompt);
    const results = widths.map((width) => runSelfCheck(session, { prompt, width, noiseFloor: o.noiseFloor }));
    const verdict = overallVerdict(results);
    if (o.json) {
      process.stdout.write(JSON.stringify({ model: session.model.info.path, backend: session.model.runtime.backend, flashAttention: session.flashAttention, results, verdict }) + "\n");
    } else {
      const rows = results.flatMap((r) => r.rows);
      const w = Math.max(...rows.map((r) => r.check.length));
      const e = (x: number) => x.toExponential(2);
      process.stdout.write(`model ${session.model.info.fileName} on ${session.model.runtime.backend}, flash attention ${session.flashAttention}\n`);
      for (const r of results) {
        const f = r.noiseFloor;
        process.stdout.write(`\nwidth ${r.width}: noise floor ${e(f.used)} (${f.source === "given" ? "given" : `measured ${e(f.measured)}, float32 ${e(f.float32)}`})\n`);
        process.stdout.write(`${"check".padEnd(w)}  max|Δlogit|   expect       result\n`);
        for (const row of r.rows) {
          const why = row.reason ? `  (${row.reason})` : "";
          process.stdout.write(`${row.check.padEnd(w)}  ${row.maxAbsDiff.toExponential(3).padStart(10)}   ${row.expect} ${e(row.bound).padEnd(9)}  ${row.verdict}${why}\n`);
        }
      }
      const notPassed = rows.filter((r) => r.verdict !== "pass").map((r) => `M=${r.width} ${r.check}: ${r.verdict}`);
      process.stdout.write(`\nresult: ${verdict} (${rows.length - notPassed.length} of ${rows.length} rows pass)${notPassed.length ? ` — ${notPassed.join("; ")}` : ""}\n`);
    }
    process.exitCode = SELFCHECK_EXIT[verdict];
  });

/** The model and session flags as an experiment file's model and engine blocks. */
function engineExperiment(o: EngineFlags): Pick<ExperimentFile, "model" | "engine"> {
  return {
    model: o.model !== undefined ? { path: o.model } : {},
    engine: { gpu: o.gpu, flashAttention: o.flashAttention, ...(o.contextSize !== undefined ? { contextSize: o.contextSize } : {}), ...(o.threads !== undefined ? { threads: o.threads } : {}) },
  };
}

/** compare, eval and run: one path from an experiment to its folder (src/cli/experiment.ts). */
async function runExperiment(experiment: ExperimentFile, baseDir: string, out: string | undefined, dump: string | undefined, json = false, partial: PartialChoice = "refuse"): Promise<void> {
  const progress = phaseProgress("steps");
  let aborted: boolean;
  try {
    ({ aborted } = await executeExperiment(experiment, {
      baseDir, out, dump, partial,
      hooks: { signal: cancelSignal(), onProgress: (phase, done, total) => progress.update(phase, done, total), say: (t) => process.stdout.write(t), note: (t) => process.stderr.write(t), generate: generationPrinter(json) },
    }));
  } finally {
    progress.stop();
  }
  process.exitCode = aborted || wasCancelled() ? EXIT.cancelled : EXIT.ok;
}

generationOptions(engineOptions(program.command("compare").description("isolated vs visible by teacher-forced replay, with a null baseline; writes a capture folder with report.json/md/html").allowExcessArguments(false)), "isolated")
  .option("--prompt <text>", "prompt text")
  .option("--from <capture>", "replay the sets of an earlier capture (made with the same model file) instead of generating")
  .option("--prompts <file>", "many prompts (one per line, or JSONL {\"prompt\"}): per-prompt captures + paired statistics")
  .addOption(new Option("--q-mode <mode>", "the mode the same sets are replayed under").choices(["visible", "causal", "isolated"]).default("visible"))
  .option("--attention-layers <list>", "capture attention of these layers (comma-separated, or all) in the P and Q replays and the null baseline (with --from too)", (v: string): AttentionLayers => (v === "all" ? "all" : parseLayers(v)))
  .option("--full-logits", "store full-vocabulary distributions (default: top-50)")
  .option("--f16", "store the --full-logits rows as float16")
  .option("--analysis-workers <n>", "worker threads for the per-step divergence work; 0 keeps it on the main thread (default: one per core the decode threads leave free, up to 4; none for a short comparison)", wholeNumber("analysis workers", 64))
  .option("--batch-prompts <n>", `--prompts: prompts whose sets share each llama_decode, 1 for one after another (default ${DEFAULT_BATCH_PROMPTS}, fewer when llama.cpp's 256 sequences do not allow three replays each at --max-width; 1 with --attention-layers)`, number("batch prompts"))
  .option(SHARD_FLAG, shardHelp("--prompts file's prompts"), shardOption)
  .option("--out <dir>", "capture folder to create (must not exist)")
  .option(DUMP_FLAG, DUMP_HELP)
  .action(async (o) => {
    if ([o.prompt, o.prompts, o.from].filter(Boolean).length !== 1) throw new TempoInputError("give exactly one of --prompt, --prompts or --from");
    if (o.f16 && !o.fullLogits) throw new TempoInputError("--f16 stores the --full-logits rows: give --full-logits too");
    const experiment: ExperimentFile = {
      version: EXPERIMENT_FILE_VERSION, command: "compare", ...engineExperiment(o),
      ...(o.from ? { from: o.from } : o.prompts ? { promptsFile: o.prompts } : { prompt: o.prompt }),
      // A replay's settings are the capture's.
      ...(o.from ? {} : { generation: configFrom(o) }),
      compare: {
        qMode: o.qMode, attentionLayers: o.attentionLayers ?? null,
        logits: o.fullLogits ? { kind: "full", dtype: o.f16 ? "F16" : "F32" } : { kind: "topk" },
        ...(o.analysisWorkers !== undefined ? { analysisWorkers: o.analysisWorkers } : {}),
        ...(o.batchPrompts !== undefined ? { batchPrompts: o.batchPrompts } : {}),
      },
      ...(o.shard ? { shard: o.shard } : {}),
    };
    await runExperiment(experiment, process.cwd(), o.out, o.dumpExperiment);
  });

program.command("study").description("a study: several experiments on one model, read against stated claims; seed: the seed document's (docs/study-seed.md)").allowExcessArguments(false)
  .argument("<study>", `a study file (JSON), or a shipped study: ${Object.keys(SHIPPED_STUDIES).join(", ")}`)
  .requiredOption("--out <dir>", "new folder: a folder per part, perplexity.json, study.json (reruns it), study.md and study-report.json")
  .option("--model <gguf>", "the model (default: the study file's, else the bundled demo model)")
  .option("--short", "the study's short settings (its \"short\" block: fewer prompts, steps and tasks), as CI runs it")
  .addHelpText("after", "\nExamples:\n  tempo study seed --out runs/seed --short\n  tempo study seed --model my.gguf --out runs/seed-my\n  tempo study runs/seed/study.json --out runs/seed-again")
  .action(async (arg: string, o: { out: string; model?: string; short?: boolean }) => {
    const file = studyPath(arg);
    const study = readStudyFile(file);
    const modelPath = o.model !== undefined ? resolve(o.model) : study.model?.path !== undefined ? resolve(dirname(file), study.model.path) : defaultModelPath();
    const model = await openModel(modelPath, study.engine?.gpu ?? "auto");
    const progress = phaseProgress("steps");
    let aborted: boolean;
    try {
      const sha256 = await model.sha256();
      if (o.model === undefined && study.model?.sha256 !== undefined && study.model.sha256 !== sha256) throw new TempoInputError(`${modelPath} is not the study's model (SHA-256 ${sha256}, the study names ${study.model.sha256})`);
      aborted = await runStudy(resolveStudy(study, { path: modelPath, sha256 }, o.short === true), model, o.out, {
        signal: cancelSignal(), onProgress: (phase, done, total) => progress.update(phase, done, total), say: (t) => process.stderr.write(t), note: (t) => process.stderr.write(t),
      }, writeStudyReport);
    } finally {
      progress.stop();
      await model.dispose();
    }
    if (!aborted) process.stdout.write(`wrote ${join(o.out, STUDY_REPORT.md)}\n`);
    process.exitCode = aborted || wasCancelled() ? EXIT.cancelled : EXIT.ok;
  });

generationOptions(engineOptions(program.command("perplexity").description("teacher-forced perplexity of a reference text").allowExcessArguments(false)), "standard")
  .requiredOption("--file <text>", "reference text file")
  .option("--window <n>", "tokens per window for texts longer than one (default: the context in standard mode; (context - 1) / max width + 1 in TEMPO modes)", number("window"))
  .option("--stride <n>", "tokens newly scored by each window after the first (default: half the window)", number("stride"))
  .option("--batch-prompts <n>", `windows scored together in each llama_decode, 1 for one after another (default ${DEFAULT_BATCH_PROMPTS}, fewer when llama.cpp's 256 sequences do not allow it at --max-width, or the text has fewer windows)`, number("batch prompts"))
  .option("--json", "print JSON (the last line is still \"perplexity <value>\")")
  .action(async (o) => {
    let text: string;
    try { text = readFileSync(o.file, "utf8"); } catch { throw new TempoInputError(`cannot read ${o.file}`); }
    if (text.length === 0) throw new TempoInputError(`${o.file} is empty`);
    const config = configFrom(o);
    const lanes = Math.max(config.maxWidth, 1);
    const batch = batchPromptsFor(o.batchPrompts, lanes);
    const session = await openSession(o, lanes);
    // The windows first (on the session's context), then as many seats as there are windows to share a decode.
    const { windows } = perplexityWindows(session.model, text, session.contextSize, config, { window: o.window, stride: o.stride });
    const seats = Math.min(batch, windows.length);
    const engine = seats > 1 ? new SessionGroup(session.model, seats, { contextSize: o.contextSize, lanes, flashAttention: o.flashAttention, threads: o.threads }) : session;
    if (engine !== session) session.dispose();
    const result = await teacherForcedPerplexity(engine, text, config, { window: o.window, stride: o.stride });
    const w = result.windows;
    if (o.json) process.stdout.write(JSON.stringify({ ...result, windowsPerDecode: seats }) + "\n");
    else process.stdout.write(`${result.tokens} tokens, mode ${result.mode}, mean set size ${result.meanSetSize.toFixed(2)}, mean NLL ${result.meanNll.toFixed(4)} nats; ${w.count === 1 ? "one window" : `${w.count} windows of ${w.size} tokens, stride ${w.stride}, ${seats === 1 ? "one at a time" : `${seats} per decode`}`}\n`);
    process.stdout.write(`perplexity ${result.perplexity.toFixed(4)}\n`);
  });

engineOptions(program.command("serve").description("the engine over HTTP on 127.0.0.1: OpenAI-compatible /v1/completions, /tempo/generate and /tempo/compare (docs/api.md)").allowExcessArguments(false))
  .option("--port <n>", "port on 127.0.0.1 (0 picks a free one)", wholeNumber("port", 65535), 8765)
  .option("--token-file <path>", "where the bearer token is written, readable by you only", join(homedir(), ".cache", "tempo", "serve-token"))
  .action(async (o) => {
    const path = resolve(o.model ?? defaultModelPath());
    const model = await openModel(path, o.gpu);
    const server = await startServer({ model, path, gpu: o.gpu, port: o.port, tokenFile: o.tokenFile, session: { contextSize: o.contextSize, threads: o.threads, flashAttention: o.flashAttention } });
    process.stderr.write(`tempo serve: ${server.url} (model ${model.info.fileName}); bearer token in ${o.tokenFile}; Ctrl-C stops\n`);
    const stop = cancelSignal(); // Ctrl-C or SIGTERM: the normal way to stop a server
    await new Promise((resolve) => stop.addEventListener("abort", resolve, { once: true }));
    await server.close();
    await model.dispose();
  });

partialOptions(engineOptions(program.command("eval").description("code-completion experiment: run tasks under each arm, execute the tests, write results and a report").allowExcessArguments(false)))
  .option("--out <dir>", "new or empty folder for results.jsonl, summary.json, report.md, report.html (a partial one: see --resume, --replace)")
  .option("--tasks <jsonl>", "HumanEval-style task file (default: the built-in suite)")
  .option("--arms <list>", "comma-separated modes", DEFAULT_EVAL_SETTINGS.arms.join(","))
  .option("--limit <n>", "first n tasks only", number("limit"))
  .option("--threshold <t>", `TEMPO threshold, in ${rangeText(NUMBER_RANGES.threshold)}`, number("threshold"), DEFAULT_EVAL_SETTINGS.threshold)
  .option("--max-width <n>", "largest set", number("max width"), DEFAULT_EVAL_SETTINGS.maxWidth)
  .option("--max-steps <n>", "steps per completion", number("max steps"), DEFAULT_EVAL_SETTINGS.maxSteps)
  .option("--path-cap <n>", "most paths per TEMPO run used as pass@k samples", number("path cap"), DEFAULT_EVAL_SETTINGS.pathCap)
  .option("--timeout <ms>", "time limit per program", number("timeout"), DEFAULT_EVAL_SETTINGS.exec.timeoutMs)
  .option("--memory <mb>", "heap limit per program (MiB)", number("memory"), DEFAULT_EVAL_SETTINGS.exec.memoryMb)
  .option("--python <interpreter>", "interpreter for Python tasks", DEFAULT_PYTHON)
  .option("--no-python", "skip Python tasks (recorded as skipped, not as failures)")
  .option("--baselines <list>", "matched-compute baselines, comma-separated: sample (best-of-n sampling), beam (beam search); each gets, task by task, the rows the --match arm decoded (docs/eval.md)")
  .option("--match <arm>", "the TEMPO arm whose rows per task are the baselines' budget (default: the first TEMPO arm of --arms)")
  .option("--temperature <t>", `sampling baseline: softmax temperature, in (0, 100] (default ${DEFAULT_BASELINE_SAMPLING.temperature})`, number("temperature"))
  .option("--top-p <p>", `sampling baseline: nucleus mass, in (0, 1] (default ${DEFAULT_BASELINE_SAMPLING.topP})`, number("top-p"))
  .option("--seed <n>", `sampling baseline: seed of a task's first sample, sample i uses seed + i (default ${DEFAULT_BASELINE_SAMPLING.seed})`, number("seed"))
  .option("--beam-width <n>", "beam baseline: beams kept per step (default: --max-width)", number("beam width"))
  .option("--batch-prompts <n>", `task × mode units whose sets share each llama_decode, 1 for one at a time (default ${DEFAULT_BATCH_PROMPTS}, fewer when llama.cpp's 256 sequences do not allow it at --max-width; baselines run alone)`, number("batch prompts"))
  .option(SHARD_FLAG, shardHelp("tasks (after --limit)"), shardOption)
  .option(DUMP_FLAG, DUMP_HELP)
  .action(async (o) => {
    const baselines = o.baselines !== undefined ? parseBaselines(o.baselines) : undefined;
    const needs = (flag: string, value: unknown, arm: string) => {
      if (value !== undefined && !baselines?.includes(arm as never)) throw new TempoInputError(`${flag} is a setting of the ${arm} baseline: give --baselines ${arm}`);
    };
    needs("--temperature", o.temperature, "sample");
    needs("--top-p", o.topP, "sample");
    needs("--seed", o.seed, "sample");
    needs("--beam-width", o.beamWidth, "beam");
    if (o.match !== undefined && !baselines) throw new TempoInputError("--match names the arm the baselines are matched to: give --baselines");
    const experiment: ExperimentFile = {
      version: EXPERIMENT_FILE_VERSION, command: "eval", ...engineExperiment(o),
      eval: {
        tasks: o.tasks ?? null, limit: o.limit ?? null, arms: parseArms(o.arms), threshold: o.threshold, maxWidth: o.maxWidth, maxSteps: o.maxSteps, pathCap: o.pathCap,
        exec: { timeoutMs: o.timeout, memoryMb: o.memory, python: o.python === false ? null : o.python },
        ...(o.batchPrompts !== undefined ? { batchPrompts: o.batchPrompts } : {}),
        ...(baselines ? {
          baselines: {
            arms: baselines, ...(o.match !== undefined ? { match: parseMatch(o.match) } : {}),
            ...(o.temperature !== undefined ? { temperature: o.temperature } : {}), ...(o.topP !== undefined ? { topP: o.topP } : {}),
            ...(o.seed !== undefined ? { seed: o.seed } : {}), ...(o.beamWidth !== undefined ? { beamWidth: o.beamWidth } : {}),
          },
        } : {}),
      },
      ...(o.shard ? { shard: o.shard } : {}),
    };
    await runExperiment(experiment, process.cwd(), o.out, o.dumpExperiment, false, partialChoice(o));
  });

partialOptions(program.command("run"))
  .description("run an experiment file (docs/experiments.md), such as the experiment.json every compare, eval and generate --out folder stores")
  .argument("<experiment>", "experiment file (JSON, or YAML when named .yaml / .yml)")
  .option("--out <dir>", "folder to create, as the experiment's command takes it (compare, generate: must not exist; eval: new or empty; generate without it only prints)")
  .option(DUMP_FLAG, DUMP_HELP)
  .allowExcessArguments(false)
  .action(async (file: string, o) => {
    const experiment = readExperimentFile(file);
    try {
      await runExperiment(experiment, experimentBaseDir(file), o.out, o.dumpExperiment, false, partialChoice(o));
    } catch (e) {
      // A setting checked past the schema (a range that depends on the model, a file it names) still names the file.
      if ((e instanceof TempoInputError || e instanceof ModelMismatchError) && !e.message.startsWith(file)) e.message = `${file}: ${e.message}`;
      throw e;
    }
  });

program.command("merge")
  .description("combine the shard folders of one compare --prompts or eval suite (run with --shard i/N) into the folder the unsharded run writes: per-item results in suite order, statistics and reports computed over all of them (docs/scale.md)")
  .argument("<out>", "folder to create (compare: must not exist; eval: new or empty)")
  .argument("<shard-folder...>", "the folder of every shard 1/N to N/N, in any order")
  .allowExcessArguments(false)
  .action((out: string, folders: string[]) => {
    const merged = mergeShards(out, folders);
    process.stdout.write(`${merged.line ? `${merged.line}\n` : ""}merged ${merged.shards} shard${merged.shards === 1 ? "" : "s"} of ${merged.items} ${merged.kind} into ${merged.out}\n`);
  });

addPromptFileOption(program);
for (const cmd of [program, ...program.commands]) cmd.exitOverride();
installSignalHandlers();
try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = reportError(e);
}
