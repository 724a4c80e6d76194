/**
 * `tempo eval`: the steps around runEval that belong to a terminal (output folder checks,
 * a progress bar with ETA on stderr, the closing summary lines).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { phaseProgress } from "./progress.js";
import { TempoInputError } from "../engine/errors.js";
import type { TempoSession } from "../engine/session.js";
import type { SessionGroup } from "../engine/session-group.js";
import { TEMPO_MODES, type TempoMode } from "../engine/types.js";
import { fmt } from "../engine/analysis/report-format.js";
import { evalMeta, runEvalIntoFolder, skippedPhrase } from "../engine/eval/report.js";
import type { EvalSettingsInput, ItemResult } from "../engine/eval/runner.js";
import type { EvalTask } from "../engine/eval/tasks.js";
import { checkOutDir } from "../engine/capture/out-dir.js";
import { EVAL_OUT_RULE } from "./eval-out.js";
import { writeFileAtomic } from "../engine/capture/atomic.js";
import { EXPERIMENT_FILE_NAME } from "../protocol/experiment-file.js";
import type { ShardRecord } from "../protocol/shard.js";
import { BASELINE_ARMS, type BaselineArm } from "../protocol/baselines.js";


export function parseArms(text: string): TempoMode[] {
  const arms = text.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = arms.filter((a) => !(TEMPO_MODES as readonly string[]).includes(a));
  if (bad.length || arms.length === 0) throw new TempoInputError(`arms must be a comma-separated list of ${TEMPO_MODES.join(", ")}; got "${text}"`);
  return arms as TempoMode[];
}

/** `--baselines sample,beam`. */
export function parseBaselines(text: string): BaselineArm[] {
  const arms = text.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = arms.filter((a) => !(BASELINE_ARMS as readonly string[]).includes(a));
  if (bad.length || arms.length === 0) throw new TempoInputError(`--baselines must be a comma-separated list of ${BASELINE_ARMS.join(", ")}; got "${text}"`);
  if (new Set(arms).size !== arms.length) throw new TempoInputError(`--baselines names a baseline twice: "${text}"`);
  return arms as BaselineArm[];
}

/** `--match <arm>`: one TEMPO mode (whether it is one of --arms is checked with the other settings). */
export function parseMatch(text: string): TempoMode {
  if (!(TEMPO_MODES as readonly string[]).includes(text) || text === "standard") throw new TempoInputError(`--match must be a TEMPO arm (${TEMPO_MODES.filter((m) => m !== "standard").join(", ")}); got "${text}"`);
  return text as TempoMode;
}

export interface EvalCommandInput {
  /** One session, or a group whose seats share each decode (--batch-prompts). */
  session: TempoSession | SessionGroup;
  tasks: EvalTask[];
  source: string;
  limit?: number;
  /** A shard's record (docs/scale.md): `tasks` are then its tasks only. */
  shard?: ShardRecord;
  settings: EvalSettingsInput;
  out: string;
  signal?: AbortSignal;
  /**
   * A new run: experiment.json's text, stored before the first unit so that a killed run can be
   * resumed. A resumed run: the units it finished before (its folder is readied by the caller).
   */
  start: { experiment: string } | { previous: ItemResult[] };
}

export async function runEvalCommand(input: EvalCommandInput): Promise<{ aborted: boolean }> {
  const { session, tasks, out } = input;
  const meta = await evalMeta(session, input.source, tasks.length, input.limit ?? null, input.shard);
  const progress = phaseProgress("task×arm");
  const previous = "previous" in input.start ? input.start.previous : undefined;
  if ("experiment" in input.start) {
    checkOutDir(out, EVAL_OUT_RULE); // again: the model load took a while
    mkdirSync(out, { recursive: true });
    writeFileAtomic(join(out, EXPERIMENT_FILE_NAME), input.start.experiment, { exclusive: true });
  }
  const total = tasks.length * ((input.settings.arms?.length ?? 1) + (input.settings.baselines?.arms.length ?? 0));
  progress.update("eval", 0, total);
  let finished;
  try {
    finished = await runEvalIntoFolder(out, {
      session, tasks, settings: input.settings, signal: input.signal, previous,
      onProgress: (p) => progress.update("eval", p.done, total, `${p.taskId} ${p.arm}`),
    }, meta);
  } finally {
    progress.stop();
  }
  const { run, summary, files } = finished;
  for (const a of summary.arms) {
    process.stderr.write(`${a.arm.padEnd(9)} pass@1 ${a.pass1.count}/${a.pass1.n}  best-of-set ${a.bestOfSet.count}/${a.bestOfSet.n}  exact ${a.exact.count}  edit-sim ${fmt(a.editSimilarity.mean)}  passes/task ${fmt(a.cost.forwardPassesPerTask)}  rows/task ${fmt(a.cost.evaluatedTokensPerTask)}  samples/task ${fmt(a.cost.samplesPerTask)}${a.cost.budgetRowsPerTask !== undefined ? `  budget rows/task ${fmt(a.cost.budgetRowsPerTask)}` : ""}\n`);
  }
  if (summary.skippedTasks.length) process.stderr.write(`${skippedPhrase(summary)}\n`);
  process.stderr.write(`${run.aborted ? "ABORTED; partial results in" : "wrote"} ${Object.values(files).join(", ")}\n`);
  return { aborted: run.aborted };
}
