/**
 * `tempo eval --out` into a folder a run did not finish: refused with both choices named, or
 * --resume (only the units not yet finished run, under the same stored settings) or --replace
 * (the partial run's files go, then a new run starts).
 */
import * as path from "node:path";
import { TempoInputError } from "../engine/errors.js";
import { checkOutDir } from "../engine/capture/out-dir.js";
import { clearPartialFolder, inspectEvalFolder, reopenPartialFolder, type EvalFolder, type PartialChoice } from "../engine/eval/partial-folder.js";
import type { ItemResult } from "../engine/eval/runner.js";
import type { EvalTask } from "../engine/eval/tasks.js";

/** An eval folder is new or empty, or may already be a partial run the user chose what to do with. */
export const EVAL_OUT_RULE = { allowEmpty: true } as const;

type PartialFolder = Extract<EvalFolder, { state: "partial" }>;
export type EvalOutPlan = { kind: "new" } | { kind: "resume" | "replace"; folder: PartialFolder };

const units = (n: number) => `${n} finished unit${n === 1 ? "" : "s"}`;

/** Checked before the model loads: what the run does with `out`, or one line saying why it cannot. */
export function planEvalOut(out: string, choice: PartialChoice): EvalOutPlan {
  const folder = inspectEvalFolder(path.resolve(out));
  if (folder.state === "partial") {
    if (choice === "refuse") {
      throw new TempoInputError(`--out ${out} holds a partial run (${folder.how}, ${units(folder.items.length)}): rerun with --resume to finish it, or --replace to delete it and start again`);
    }
    return { kind: choice, folder };
  }
  if (choice !== "refuse") {
    if (folder.state === "complete") throw new TempoInputError(`--${choice}: --out ${out} holds a finished run, which is never changed; choose a new folder`);
    if (folder.state === "foreign") throw new TempoInputError(`--${choice}: --out ${out} is not a tempo eval's partial folder (${folder.why}); nothing was changed`);
  }
  checkOutDir(out, EVAL_OUT_RULE);
  return { kind: "new" };
}

/** `key: stored → now` for every setting that differs, model path and description aside (a moved file is the same model by its hash). */
export function differences(stored: unknown, now: unknown, where = ""): string[] {
  if (where === "model.path" || where === "description") return [];
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  if (isObject(stored) && isObject(now)) {
    return [...new Set([...Object.keys(stored), ...Object.keys(now)])].flatMap((k) => differences(stored[k], now[k], where ? `${where}.${k}` : k));
  }
  return JSON.stringify(stored) === JSON.stringify(now) ? [] : [`${where}: ${JSON.stringify(stored) ?? "none"} there, ${JSON.stringify(now) ?? "none"} now`];
}

/**
 * Readies the folder once the experiment is resolved (the model's hash known): --replace empties
 * it; --resume checks that the stored experiment.json resolves to this one and that every finished
 * unit is one of this run's, then returns those units.
 */
export function applyEvalOutPlan(out: string, plan: EvalOutPlan, experimentText: string, tasks: readonly EvalTask[], arms: readonly string[]): ItemResult[] | undefined {
  if (plan.kind === "new") return undefined;
  const { folder } = plan;
  if (plan.kind === "replace") {
    clearPartialFolder(out, folder);
    return undefined;
  }
  const fix = "run it with the settings it was started with, or use --replace";
  if (folder.experiment === undefined) throw new TempoInputError(`--resume: --out ${out} has no experiment.json (the run was killed before storing it), so its settings cannot be checked; use --replace`);
  let stored: unknown;
  try { stored = JSON.parse(folder.experiment); } catch { throw new TempoInputError(`--resume: --out ${out}: its experiment.json is not JSON; use --replace`); }
  const differ = differences(stored, JSON.parse(experimentText));
  if (differ.length) throw new TempoInputError(`--resume: --out ${out} was started with other settings (${differ.slice(0, 3).join("; ")}${differ.length > 3 ? `; ${differ.length - 3} more` : ""}); ${fix}`);
  const taskIds = new Set(tasks.map((t) => t.taskId));
  const stray = folder.items.find((i) => !taskIds.has(i.taskId) || !arms.includes(i.arm));
  if (stray) throw new TempoInputError(`--resume: --out ${out} holds a result for ${stray.taskId} (${stray.arm}), which this run does not have (was the task file changed?); ${fix}`);
  reopenPartialFolder(out, folder);
  return folder.items;
}
