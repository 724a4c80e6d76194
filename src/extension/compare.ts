// "Compare Isolated vs Visible" (tempo.compareModes): the engine's teacher-forced comparison
// (isolated generation, its sets replayed visible, the null baseline), then free visible and
// standard runs of the same prompt, into the comparison view, with the report beside it.
import { basename, join } from "node:path";
import * as vscode from "vscode";
import { generationSettingsSchema, type EngineOptions, type GenerationSettings } from "../protocol/engine.js";
import { COMPARE_PHASES, type ComparePhase, type ComparisonData } from "../../webview/comparison-protocol.js";
import type { ComparisonViewProvider } from "./comparisonView.js";
import type { EngineService } from "./engineService.js";
import { showReport } from "./reportPanel.js";
import { confirmSettings } from "./confirmRun.js";
import { compareExperimentFile } from "./experiment-files.js";
import { resolveConfig } from "../engine/tempo/config.js";
import { compareAttentionLayers } from "./config.js";
import { PhaseClock } from "./compare-progress.js";
import { progressText } from "../../webview/comparison-model.js";
import type { AttentionLayers } from "../protocol/attention.js";

/** The view gets a running comparison's partial rows at most this often (ms). */
const VIEW_UPDATE_MS = 250;

export interface CompareContext {
  context: vscode.ExtensionContext;
  engine: EngineService;
  comparison: ComparisonViewProvider;
  log: vscode.LogOutputChannel;
  /** The settings a comparison starts from: the playground's last run's, or the configured defaults. */
  baseSettings(): GenerationSettings;
  /** What the prompt box offers first (the playground's current prompt). */
  suggestedPrompt(): string;
}

/** Runs a comparison of `promptArg` (asked for when absent) with `settingsArg` over the base settings. */
export async function compareModes(c: CompareContext, promptArg?: unknown, settingsArg?: unknown): Promise<ComparisonData | undefined> {
  const overrides = generationSettingsSchema.safeParse(settingsArg ?? {});
  if (!overrides.success) {
    void vscode.window.showErrorMessage(`TEMPO: invalid generation settings: ${overrides.error.issues[0]?.message ?? "unknown"}`);
    return undefined;
  }
  const prompt = typeof promptArg === "string" ? promptArg : await vscode.window.showInputBox({
    title: "TEMPO: Compare Isolated vs Visible",
    prompt: "Isolated generation, its sets replayed visible (divergence per step, null baseline), and free visible and standard runs side by side",
    value: c.suggestedPrompt(),
    ignoreFocusOut: true,
  });
  if (!prompt) return undefined;
  // Pruning is a generation's, not a comparison's: compare replays the sets as decoded.
  const base = { ...c.baseSettings(), ...overrides.data, pruneMass: 0 };
  // Asked when a person started it (a command with arguments is a script or a test).
  const attentionLayers = compareAttentionLayers();
  if (typeof promptArg !== "string" && !(await confirmCompare(c.engine.options(), prompt, base, attentionLayers))) return undefined;
  const captureRoot = join(c.context.globalStorageUri.fsPath, "captures");
  const clock = new PhaseClock();
  const out: ComparisonData = { prompt, replay: { rows: [], nullBand: null }, runs: { isolated: [], visible: [], standard: [] } };
  // The view shows the partial rows and the progress as they come, a few times a second.
  let lastUpdate = 0;
  const updateView = (force = false): void => {
    if (!force && performance.now() - lastUpdate < VIEW_UPDATE_MS) return;
    lastUpdate = performance.now();
    c.comparison.update(out);
  };
  await c.comparison.show(out);
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "TEMPO: isolated vs visible", cancellable: true },
    async (progress, notificationToken) => {
      // Cancelled from the notification or the view's Cancel button.
      const cancel = new vscode.CancellationTokenSource();
      const subs = [notificationToken.onCancellationRequested(() => cancel.cancel()), c.comparison.onDidRequestCancel(() => cancel.cancel())];
      const token = cancel.token;
      let reported = 0;
      const report = (phase: ComparePhase, done: number, total: number, atMost: boolean): void => {
        const p = clock.update(phase, done, total, atMost);
        c.comparison.setProgress(p);
        // The notification's bar: four phases of equal weight.
        const fraction = Math.min(100, ((COMPARE_PHASES.indexOf(phase) + (total > 0 ? Math.min(1, done / total) : 0)) / COMPARE_PHASES.length) * 100);
        progress.report({ message: progressText(p), increment: Math.max(0, fraction - reported) });
        reported = Math.max(reported, fraction);
      };
      try {
        const { maxSteps } = resolveConfig({ ...base, mode: "isolated" });
        report("generate", 0, maxSteps, true);
        const compared = c.engine.compare(prompt, { ...base, mode: "isolated" }, captureRoot, attentionLayers, (e) => {
          if (e.type === "progress" && e.done !== undefined && e.total !== undefined) report(e.phase === "replay" ? "replay" : "generate", e.done, e.total, e.phase !== "replay");
          else if (e.type === "replayed") {
            out.replay.rows.push(...e.rows);
            out.replay.nullBand = e.nullBand;
            updateView();
          } else if (e.type === "steps") out.runs.isolated.push(...e.steps);
        });
        let sub = token.onCancellationRequested(() => compared.cancel());
        const outcome = await compared.result.finally(() => sub.dispose());
        Object.assign(out, { captureDir: outcome.captureDir, reportHtml: outcome.reportHtml }, outcome.attention.length ? { attention: outcome.attention } : {});
        out.replay.nullBand = outcome.nullBand;
        if (!outcome.complete) {
          out.cancelled = true;
          c.comparison.setProgress(null);
          updateView(true);
          void keptWhenCancelled(outcome.js.length, outcome.reportHtml, prompt);
          return undefined;
        }
        updateView(true);
        for (const mode of ["visible", "standard"] as const) {
          if (token.isCancellationRequested) return undefined;
          report(mode, 0, maxSteps, true);
          const handle = c.engine.generate(prompt, { ...base, mode }, (e) => {
            if (e.type !== "steps") return;
            out.runs[mode].push(...e.steps);
            report(mode, out.runs[mode].length, maxSteps, true);
            updateView();
          });
          sub = token.onCancellationRequested(() => handle.cancel());
          await handle.result.finally(() => sub.dispose());
        }
        if (token.isCancellationRequested) return undefined;
        c.comparison.setProgress(null);
        await c.comparison.show(out);
        c.log.info(`comparison: mean JS ${outcome.meanJs ?? "n/a"} nats (null baseline ${outcome.nullMeanJs ?? "n/a"}); report ${outcome.reportHtml}`);
        await showReport(outcome.reportHtml, `TEMPO Report: ${prompt.slice(0, 30)}`);
        return out;
      } finally {
        c.comparison.setProgress(null);
        for (const sub of subs) sub.dispose();
        cancel.dispose();
      }
    },
  ).then(undefined, (e: unknown) => {
    void c.engine.reportError(e, "comparison");
    return undefined;
  });
}

/** A comparison cancelled in its replays keeps the capture of the steps replayed: say so, and offer its report. */
async function keptWhenCancelled(steps: number, reportHtml: string, prompt: string): Promise<void> {
  const open = "Open Report";
  const choice = await vscode.window.showInformationMessage(`TEMPO: comparison cancelled; the capture of the ${steps} steps replayed is kept.`, open);
  if (choice === open) await showReport(reportHtml, `TEMPO Report: ${prompt.slice(0, 30)} (cancelled)`);
}

/** The settings the comparison will run with (the engine's resolution of them), shown and savable. */
async function confirmCompare(engine: EngineOptions, prompt: string, settings: GenerationSettings, attentionLayers: AttentionLayers | undefined): Promise<boolean> {
  let config;
  try {
    config = resolveConfig({ ...settings, mode: "isolated" });
  } catch (e) {
    void vscode.window.showErrorMessage(`TEMPO: ${(e as Error).message}`);
    return false;
  }
  const lines = [
    `isolated generation, its sets replayed visible, a null baseline; then free visible and standard runs`,
    `model ${basename(engine.modelPath)}`,
    `threshold ${config.threshold} (${config.schedule}${config.schedule === "constant" ? "" : ` to ${config.thresholdEnd}`}), max width ${config.maxWidth}, max steps ${config.maxSteps}, min steps ${config.minSteps}`,
    `policy ${config.policy}, temperature ${config.temperature}, relative alpha ${config.relativeAlpha}${config.stopStrings.length ? `, stop strings ${JSON.stringify(config.stopStrings)}` : ""}`,
    `attention ${attentionLayers ? `captured (${attentionLayers === "all" ? "every layer" : `layers ${attentionLayers.join(",")}`}) in the isolated, visible and null replays` : "not captured (tempo.compare.attention)"}`,
    `prompt ${JSON.stringify(prompt.length > 80 ? `${prompt.slice(0, 79)}…` : prompt)}`,
  ];
  return confirmSettings("Compare Isolated vs Visible", lines, compareExperimentFile(engine, prompt, config, attentionLayers));
}
