/**
 * `tempo eval`: the steps around runEval that belong to a terminal (output folder checks,
 * a progress bar with ETA on stderr, the closing summary lines).
 */
import { appendFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SingleBar, Presets } from "cli-progress";
import { TempoInputError } from "../errors.js";
import type { TempoSession } from "../session.js";
import { TEMPO_MODES, type TempoMode } from "../types.js";
import { fmt } from "../analysis/report-format.js";
import { evalMeta, skippedPhrase, writeEvalOutput } from "./report.js";
import { runEval, type EvalSettings } from "./runner.js";
import { summarizeEval } from "./summary.js";
import type { EvalTask } from "./tasks.js";
import { checkOutDir, PARTIAL_RESULTS } from "../capture/out-dir.js";

/** An experiment's folder must not exist or be empty: it never overwrites another. */
export const EVAL_OUT_RULE = { allowEmpty: true } as const;

export function parseArms(text: string): TempoMode[] {
  const arms = text.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = arms.filter((a) => !(TEMPO_MODES as readonly string[]).includes(a));
  if (bad.length || arms.length === 0) throw new TempoInputError(`arms must be a comma-separated list of ${TEMPO_MODES.join(", ")}; got "${text}"`);
  return arms as TempoMode[];
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
  checkOutDir(out, EVAL_OUT_RULE); // again: the model load took a while
  mkdirSync(out, { recursive: true });
  // Each finished unit is appended at once, so a killed run (SIGKILL, power) keeps it; the
  // file goes when the full results are written.
  const partial = join(out, PARTIAL_RESULTS);
  bar.start(tasks.length * (input.settings.arms?.length ?? 1), 0, { last: "" });
  let run;
  try {
    run = await runEval({
      session, tasks, settings: input.settings, signal: input.signal,
      onProgress: (p) => bar.update(p.done, { last: `${p.taskId} ${p.arm}` }),
      onItem: (item) => appendFileSync(partial, JSON.stringify(item) + "\n"),
    });
  } finally {
    bar.stop();
  }
  const summary = summarizeEval(run);
  const files = writeEvalOutput(out, run, summary, meta);
  rmSync(partial, { force: true });
  for (const a of summary.arms) {
    process.stderr.write(`${a.arm.padEnd(9)} pass@1 ${a.pass1.count}/${a.pass1.n}  best-of-set ${a.bestOfSet.count}/${a.bestOfSet.n}  exact ${a.exact.count}  edit-sim ${fmt(a.editSimilarity.mean)}  passes/task ${fmt(a.cost.forwardPassesPerTask)}  samples/task ${fmt(a.cost.samplesPerTask)}\n`);
  }
  if (summary.skippedTasks.length) process.stderr.write(`${skippedPhrase(summary)}\n`);
  process.stderr.write(`${run.aborted ? "ABORTED; partial results in" : "wrote"} ${Object.values(files).join(", ")}\n`);
  return { aborted: run.aborted };
}
