// "Compare Isolated vs Visible" (tempo.compareModes): the engine's teacher-forced comparison
// (isolated generation, its sets replayed visible, the null baseline), then free visible and
// standard runs of the same prompt, into the comparison view, with the report beside it.
import { basename, join } from "node:path";
import * as vscode from "vscode";
import { generationSettingsSchema, type EngineOptions, type GenerationSettings } from "../protocol/engine.js";
import type { ComparisonData } from "../../webview/comparison-protocol.js";
import type { ComparisonViewProvider } from "./comparisonView.js";
import type { EngineService } from "./engineService.js";
import { showReport } from "./reportPanel.js";
import { confirmSettings } from "./confirmRun.js";
import { compareExperimentFile } from "./experiment-files.js";
import { resolveConfig } from "../engine/tempo/config.js";
import { compareAttentionLayers } from "./config.js";
import type { AttentionLayers } from "../protocol/attention.js";

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
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "TEMPO: isolated vs visible", cancellable: true },
    async (progress, token) => {
      const out: ComparisonData = { prompt, runs: { isolated: [], visible: [], standard: [] } };
      let reported = 0;
      const report = (fraction: number, message: string): void => {
        // Four parts: compare (generation + replays), then the free visible and standard runs.
        const total = Math.min(100, fraction * 100);
        progress.report({ message, increment: Math.max(0, total - reported) });
        reported = Math.max(reported, total);
      };
      const compared = c.engine.compare(prompt, { ...base, mode: "isolated" }, captureRoot, attentionLayers, (e) => {
        if (e.type === "progress") report(((e.phase === "replay" ? 1 : 0) + (e.fraction ?? 0)) / 4, e.message);
        else if (e.type === "steps") out.runs.isolated.push(...e.steps);
      });
      let sub = token.onCancellationRequested(() => compared.cancel());
      const outcome = await compared.result.finally(() => sub.dispose());
      if (!outcome.complete) {
        void keptWhenCancelled(outcome.js.length, outcome.reportHtml, prompt);
        return undefined;
      }
      out.js = outcome.js;
      out.reportHtml = outcome.reportHtml;
      if (outcome.attention.length) out.attention = outcome.attention;
      for (const [k, mode] of (["visible", "standard"] as const).entries()) {
        if (token.isCancellationRequested) return undefined;
        report((2 + k) / 4, `${mode} run`);
        const handle = c.engine.generate(prompt, { ...base, mode }, (e) => {
          if (e.type === "steps") out.runs[mode].push(...e.steps);
        });
        sub = token.onCancellationRequested(() => handle.cancel());
        await handle.result.finally(() => sub.dispose());
      }
      if (token.isCancellationRequested) return undefined;
      await c.comparison.show(out);
      c.log.info(`comparison: mean JS ${outcome.meanJs ?? "n/a"} nats (null baseline ${outcome.nullMeanJs ?? "n/a"}); report ${outcome.reportHtml}`);
      await showReport(outcome.reportHtml, `TEMPO Report: ${prompt.slice(0, 30)}`);
      return out;
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
