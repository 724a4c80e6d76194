/**
 * `tempo eval`: the steps around runEval that belong to a terminal (output folder checks,
 * a progress bar with ETA on stderr, the closing summary lines).
 */
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { SingleBar, Presets } from "cli-progress";
import { TempoInputError } from "../model.js";
import type { TempoSession } from "../session.js";
import { TEMPO_MODES, type TempoMode } from "../types.js";
import { fmt } from "../analysis/report-format.js";
import { evalMeta, skippedPhrase, writeEvalOutput } from "./report.js";
import { runEval, type EvalSettings } from "./runner.js";
import { summarizeEval } from "./summary.js";
import type { EvalTask } from "./tasks.js";

export function parseArms(text: string): TempoMode[] {
  const arms = text.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = arms.filter((a) => !(TEMPO_MODES as readonly string[]).includes(a));
  if (bad.length || arms.length === 0) throw new TempoInputError(`arms must be a comma-separated list of ${TEMPO_MODES.join(", ")}; got "${text}"`);
  return arms as TempoMode[];
}

/** The output folder must not exist or be empty: an experiment never overwrites another. */
export function checkOutDir(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new TempoInputError(`--out ${out} exists and is not a folder`);
  if (readdirSync(out).length > 0) throw new TempoInputError(`--out ${out} is not empty; choose a new folder`);
}

export interface EvalCommandInput {
  session: TempoSession;
  tasks: EvalTask[];
  source: string;
  limit?: number;
  settings: Partial<EvalSettings>;
  out: string;
  signal?: AbortSignal;
}

export async function runEvalCommand(input: EvalCommandInput): Promise<{ aborted: boolean }> {
  const { session, tasks, out } = input;
  const meta = await evalMeta(session, input.source, tasks.length, input.limit ?? null);
  const bar = new SingleBar({
    stream: process.stderr,
    format: "eval [{bar}] {value}/{total} task×arm | {percentage}% | ETA {eta_formatted} | {last}",
    noTTYOutput: true, // a line now and then when stderr is a log, not a redrawn bar
    notTTYSchedule: 10_000,
    etaBuffer: 12,
    hideCursor: true,
  }, Presets.shades_classic);
  bar.start(tasks.length * (input.settings.arms?.length ?? 1), 0, { last: "" });
  let run;
  try {
    run = await runEval({ session, tasks, settings: input.settings, signal: input.signal, onProgress: (p) => bar.update(p.done, { last: `${p.taskId} ${p.arm}` }) });
  } finally {
    bar.stop();
  }
  const summary = summarizeEval(run);
  mkdirSync(out, { recursive: true });
  checkOutDir(out); // again: something may have written there during the run
  const files = writeEvalOutput(out, run, summary, meta);
  for (const a of summary.arms) {
    process.stderr.write(`${a.arm.padEnd(9)} pass@1 ${a.pass1.count}/${a.pass1.n}  best-of-set ${a.bestOfSet.count}/${a.bestOfSet.n}  exact ${a.exact.count}  edit-sim ${fmt(a.editSimilarity.mean)}  passes/task ${fmt(a.cost.forwardPassesPerTask)}  samples/task ${fmt(a.cost.samplesPerTask)}\n`);
  }
  if (summary.skippedTasks.length) process.stderr.write(`${skippedPhrase(summary)}\n`);
  process.stderr.write(`${run.aborted ? "ABORTED; partial results in" : "wrote"} ${Object.values(files).join(", ")}\n`);
  return { aborted: run.aborted };
}
