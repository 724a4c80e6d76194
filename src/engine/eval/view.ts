/**
 * The completion experiment as the extension's results page shows it: the report's own tables
 * (so the page and report.md never disagree) and, per task, each arm's primary completion with
 * its test output for the drill-down, the baselines' beside the modes'.
 */
import type { ExperimentUnitResult, ExperimentView } from "../../protocol/experiment.js";
import { evalTables, skippedPhrase } from "./report.js";
import { allArms, type EvalRun } from "./runner.js";
import type { EvalSummary } from "./summary.js";
import type { EvalTask } from "./tasks.js";

export interface ExperimentViewContext {
  dir: string;
  source: string;
  model: string;
}

export function experimentView(run: EvalRun, summary: EvalSummary, tasks: readonly EvalTask[], context: ExperimentViewContext): ExperimentView {
  const byTask = new Map<string, ExperimentUnitResult[]>();
  for (const item of run.items) {
    const primary = item.completions[item.primary.completion];
    const unit: ExperimentUnitResult = {
      arm: item.arm,
      skipped: item.skipped,
      ...(item.error !== undefined ? { error: item.error } : {}),
      stopReason: item.stopReason,
      status: primary?.status ?? "skipped",
      pass: item.primary.pass,
      exact: item.primary.exact,
      editSimilarity: item.primary.editSimilarity,
      bestOfSetPass: item.best.pass,
      completion: primary?.text ?? "",
      output: primary?.output ?? "",
      paths: { n: item.paths.n, passed: item.paths.passed, total: Number.isFinite(item.paths.total) ? item.paths.total : null },
      forwardPasses: item.forwardPasses,
      rowsDecoded: item.evaluatedTokens,
      ...(item.budget ? { budget: item.budget } : {}),
    };
    const list = byTask.get(item.taskId) ?? [];
    list.push(unit);
    byTask.set(item.taskId, list);
  }
  return {
    ...context,
    arms: allArms(run.settings),
    baseline: summary.baseline,
    primaryMetric: summary.primaryMetric,
    aborted: run.aborted,
    wallMs: run.wallMs,
    analysed: summary.tasks,
    skipped: { count: summary.skippedTasks.length, summary: skippedPhrase(summary) },
    tables: evalTables(run, summary).map((t) => ({
      title: t.title,
      ...(t.note !== undefined ? { note: t.note } : {}),
      head: t.table.head,
      // The markdown bold that marks the primary metric: the page marks it its own way.
      rows: t.table.rows.map((r) => r.map((c) => c.replace(/\*\*/g, ""))),
    })),
    tasks: tasks.filter((t) => byTask.has(t.taskId)).map((t) => ({
      taskId: t.taskId,
      ...(t.category !== undefined ? { category: t.category } : {}),
      language: t.language,
      prompt: t.prompt,
      reference: t.canonicalSolution,
      arms: byTask.get(t.taskId)!,
    })),
  };
}
