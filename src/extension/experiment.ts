// "TEMPO: Run Completion Experiment": pick a task file, arms, a limit and baselines, run
// `tempo eval` in the engine host (never in the extension host) with progress, ETA and cancel,
// and show the results page. Executing model-generated code needs a trusted workspace and the
// user's one-time consent, remembered in globalState until revoked.
import { basename, join } from "node:path";
import { performance } from "node:perf_hooks";
import * as vscode from "vscode";
import { z } from "zod";
import {
  DEFAULT_EXPERIMENT_ARMS,
  EXPERIMENT_ARMS,
  experimentSpecSchema,
  parseLimit,
  progressText,
  type ExperimentSpec,
  type ExperimentView,
} from "../protocol/experiment.js";
import type { EngineService } from "./engineService.js";
import { ExperimentPanel } from "./experimentPanel.js";
import { confirmSettings } from "./confirmRun.js";
import { pickBaselines } from "./experiment-baselines.js";
import { baselinesSummary } from "../protocol/baselines.js";
import { evalExperimentFile } from "./experiment-files.js";
import { EXPERIMENT_EXPORT, exportStaged } from "./exportCapture.js";
import { pruneStaged } from "./staging.js";

export const CONSENT_KEY = "tempo.experiment.codeExecutionConsent";
/** Staged experiment folders kept in global storage (older ones are removed). */
const KEPT_STAGED_EXPERIMENTS = 10;

/** Arguments for running without the pickers (keybindings, other extensions, tests). */
const commandArgsSchema = z.object({
  /** "builtin" or a .jsonl path. */
  tasks: z.string().min(1).optional(),
  arms: experimentSpecSchema.shape.arms.optional(),
  limit: z.number().int().positive().optional(),
  baselines: experimentSpecSchema.shape.baselines,
}).strict();

export class ExperimentController implements vscode.Disposable {
  private running: { cancel(): void } | undefined;

  constructor(private readonly context: vscode.ExtensionContext, private readonly engine: EngineService, private readonly log: vscode.LogOutputChannel) {}

  private get stagingRoot(): string {
    return join(this.context.globalStorageUri.fsPath, "experiments");
  }

  get consented(): boolean {
    return this.context.globalState.get<boolean>(CONSENT_KEY) === true;
  }

  setConsent(value: boolean): Thenable<void> {
    return this.context.globalState.update(CONSENT_KEY, value ? true : undefined);
  }

  async revokeConsent(): Promise<void> {
    const had = this.consented;
    await this.setConsent(false);
    void vscode.window.showInformationMessage(had
      ? "TEMPO: consent withdrawn. The next completion experiment asks again before running generated code."
      : "TEMPO: there was no consent to withdraw.");
  }

  /** Trusted workspace and the user's consent, asked once; false when either is missing. */
  private async mayExecute(): Promise<boolean> {
    if (!vscode.workspace.isTrusted) {
      const choice = await vscode.window.showWarningMessage(
        "TEMPO: the completion experiment executes code the model wrote, so it runs only in a trusted workspace.",
        "Manage Workspace Trust",
      );
      if (choice) await vscode.commands.executeCommand("workbench.trust.manage");
      return false;
    }
    if (this.consented) return true;
    const allow = "Allow and Run";
    const choice = await vscode.window.showWarningMessage(
      "Run code written by the model on this machine?",
      {
        modal: true,
        detail:
          "The completion experiment asks the model to complete functions, then executes each completion with its unit tests to see whether it passes. " +
          "The code runs in separate processes with time and memory limits, from an empty temporary folder, without network where the system allows it; " +
          "JavaScript runs under Node's permission model (no file access, no child processes). Python tasks (when python3 is installed) get rlimits and an audit hook, which is weaker. " +
          "This is process isolation, not a virtual machine. Your answer is remembered; withdraw it with TEMPO: Revoke Consent to Run Generated Code.",
      },
      allow,
    );
    if (choice !== allow) return false;
    await this.setConsent(true);
    return true;
  }

  /** Asks for the task file, arms, limit and baselines; undefined when the user cancelled a step. */
  private async pickSpec(): Promise<ExperimentSpec | undefined> {
    const builtin = { label: "Built-in suite", description: "JavaScript tasks, then Python tasks (run when python3 is installed)" };
    const file = { label: "Choose a .jsonl file…", description: "HumanEval format: task_id, prompt, canonical_solution, test, entry_point" };
    const source = await vscode.window.showQuickPick([builtin, file], { title: "TEMPO Completion Experiment (1/4): tasks", ignoreFocusOut: true });
    if (!source) return undefined;
    let tasksPath: string | undefined;
    if (source === file) {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { "Task files": ["jsonl"] }, openLabel: "Use These Tasks" });
      if (!picked?.[0]) return undefined;
      tasksPath = picked[0].fsPath;
    }
    const armItems = EXPERIMENT_ARMS.map((arm) => ({ label: arm, picked: (DEFAULT_EXPERIMENT_ARMS as readonly string[]).includes(arm) }));
    const arms = await vscode.window.showQuickPick(armItems, {
      title: "TEMPO Completion Experiment (2/4): arms (standard = greedy baseline)",
      canPickMany: true,
      ignoreFocusOut: true,
    });
    if (!arms) return undefined;
    if (arms.length === 0) {
      void vscode.window.showWarningMessage("TEMPO: pick at least one arm.");
      return undefined;
    }
    const limitText = await vscode.window.showInputBox({
      title: "TEMPO Completion Experiment (3/4): how many tasks",
      prompt: "Run the first n tasks; empty runs them all",
      placeHolder: "all",
      ignoreFocusOut: true,
      validateInput: (v) => parseLimit(v).error,
    });
    if (limitText === undefined) return undefined;
    const { limit } = parseLimit(limitText);
    const chosen = arms.map((a) => a.label as ExperimentSpec["arms"][number]);
    const baselines = await pickBaselines(vscode.window, "TEMPO Completion Experiment (4/4)", chosen);
    if (baselines === undefined) return undefined;
    return { ...(tasksPath ? { tasksPath } : {}), arms: chosen, ...(limit ? { limit } : {}), ...(baselines ? { baselines } : {}) };
  }

  /** What will run, shown before it does and savable as an experiment file that `tempo run` reruns. */
  private confirm(spec: ExperimentSpec): Promise<boolean> {
    const engine = this.engine.options();
    return confirmSettings("Completion Experiment", [
      `model ${basename(engine.modelPath)}`,
      `arms ${spec.arms.join(", ")}`,
      `tasks ${spec.tasksPath ?? "the built-in suite"}${spec.limit ? `, the first ${spec.limit}` : ", all"}`,
      baselinesSummary(spec.baselines),
      "other settings (threshold, width, steps, path cap, time and memory limits): tempo eval's defaults (docs/eval.md)",
    ], evalExperimentFile(engine, spec));
  }

  /** The command: resolves with the results shown, or undefined (refused, cancelled before the run, failed). */
  async run(argsRaw?: unknown): Promise<ExperimentView | undefined> {
    if (this.running) {
      void vscode.window.showInformationMessage("TEMPO: a completion experiment is already running.");
      return undefined;
    }
    const args = commandArgsSchema.safeParse(argsRaw ?? {});
    if (!args.success) {
      void vscode.window.showErrorMessage(`TEMPO: invalid experiment arguments: ${args.error.issues[0]?.message ?? "unknown"}`);
      return undefined;
    }
    if (!(await this.mayExecute())) return undefined;
    const spec: ExperimentSpec | undefined = argsRaw === undefined
      ? await this.pickSpec()
      : {
          ...(args.data.tasks && args.data.tasks !== "builtin" ? { tasksPath: args.data.tasks } : {}),
          arms: args.data.arms ?? [...DEFAULT_EXPERIMENT_ARMS],
          ...(args.data.limit ? { limit: args.data.limit } : {}),
          ...(args.data.baselines ? { baselines: args.data.baselines } : {}),
        };
    if (!spec) return undefined;
    if (argsRaw === undefined && !(await this.confirm(spec))) return undefined;
    this.log.info(`experiment: ${JSON.stringify(spec)}`);
    try {
      const view = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: "TEMPO completion experiment", cancellable: true },
        async (progress, token) => {
          progress.report({ message: "loading the model and tasks" });
          const started = performance.now();
          let reported = 0;
          const handle = this.engine.experiment(spec, this.stagingRoot, (e) => {
            if (e.type !== "experimentProgress") return;
            const p = e.progress;
            const fraction = p.total > 0 ? (100 * p.done) / p.total : 0;
            progress.report({ message: `${progressText(p, performance.now() - started)} (last: ${p.taskId} ${p.arm})`, increment: Math.max(0, fraction - reported) });
            reported = Math.max(reported, fraction);
          });
          this.running = handle;
          const sub = token.onCancellationRequested(() => handle.cancel());
          try {
            return await handle.result;
          } finally {
            sub.dispose();
            this.running = undefined;
          }
        },
      );
      this.log.info(`experiment: ${view.analysed} tasks analysed, ${view.skipped.count} skipped${view.aborted ? ", cancelled" : ""}; files in ${view.dir}`);
      pruneStaged(this.stagingRoot, KEPT_STAGED_EXPERIMENTS, view.dir);
      ExperimentPanel.show(this.context.extensionUri, this.log, view, (v) => void this.export(v));
      if (view.aborted) void vscode.window.showInformationMessage("TEMPO: experiment cancelled; the results page shows what finished.");
      return view;
    } catch (e) {
      void this.engine.reportError(e, "completion experiment");
      return undefined;
    }
  }

  /** Export button: the staged results folder into <workspace>/.tempo/experiments. */
  async export(view: ExperimentView): Promise<vscode.Uri | undefined> {
    try {
      return await exportStaged(view.dir, EXPERIMENT_EXPORT, this.log);
    } catch (e) {
      void this.engine.reportError(e, "export");
      return undefined;
    }
  }

  dispose(): void {
    this.running?.cancel();
    ExperimentPanel.instance?.dispose();
  }
}
