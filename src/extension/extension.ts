// Extension entry (bundled to dist/extension.cjs). Activation must stay cheap: register
// commands, views and serializers only; the engine host (and node-llama-cpp inside it) starts
// on the first request.
import * as vscode from "vscode";
import { generationSettingsSchema, runOptionsSchema, type GenerationSettings, type RunOptions, type RunSummary } from "../protocol/engine.js";
import type { ExtensionMessage, PlaygroundView } from "../../webview/protocol.js";
import { ComparisonViewProvider, COMPARISON_VIEW_ID, type RenderedComparison } from "./comparisonView.js";
import { compareModes, type CompareContext } from "./compare.js";
import { generationDefaults } from "./config.js";
import { downloadModel } from "./download.js";
import { EngineService } from "./engineService.js";
import { exportCapture } from "./exportCapture.js";
import { ExperimentController } from "./experiment.js";
import { ExperimentPanel } from "./experimentPanel.js";
import type { ExperimentRendered } from "../../webview/experiment-protocol.js";
import { TempoInlineCompletionProvider } from "./inlineCompletions.js";
import { selectModel } from "./models.js";
import { PLAYGROUND_VIEW_TYPE, PlaygroundPanel, type CspViolation, type PlaygroundHost, type PlaygroundReadyInfo, type RenderedInfo } from "./playground.js";
import { showReport } from "./reportPanel.js";
import { RunController, type RunState } from "./runs.js";

/** What `extension.exports` offers other extensions and the integration tests. */
export interface TempoExtensionApi {
  /** Opens (or reveals) the playground and resolves when its page has said "ready". */
  openPlayground(): Promise<PlaygroundReadyInfo>;
  /** CSP violations the open playground page reported (empty when none is open). */
  playgroundCspViolations(): readonly CspViolation[];
  /** Milliseconds activate() took. */
  readonly activationMs: number;
  /** The engine child's pid (undefined before first use or after it died) and its start count. */
  engineProcess(): { pid: number | undefined; starts: number };
  /** The playground's current run as the extension holds it (steps kept even if the engine died). */
  currentRun(): Readonly<RunState> | undefined;
  /** Test hooks: what the playground page rendered; post a message to it as the extension would. */
  inspectPlayground(view?: PlaygroundView): Promise<RenderedInfo>;
  postToPlayground(message: ExtensionMessage): void;
  inspectComparison(): Promise<RenderedComparison>;
  /** The inline completion provider as registered (tests call it on real documents). */
  readonly inlineCompletions: TempoInlineCompletionProvider;
  /** The experiment results page: what it shows (optionally after opening a task's drill-down), and its Export button. */
  inspectExperiment(taskId?: string): Promise<ExperimentRendered & { cspViolations: readonly string[]; elements: readonly string[] }>;
  exportExperiment(): Promise<vscode.Uri | undefined>;
  /**
   * Only when the extension runs under its test runner (ExtensionMode.Test): set the consent to
   * run generated code, since a test cannot answer the modal. Users always get the modal.
   */
  readonly testing?: { setExperimentConsent(value: boolean): Thenable<void>; experimentConsent(): boolean };
}

export function activate(context: vscode.ExtensionContext): TempoExtensionApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel("TEMPO", { log: true });
  context.subscriptions.push(log);

  const engine = new EngineService(context, log);
  const post = (message: ExtensionMessage): void => PlaygroundPanel.instance?.post(message);
  const runs = new RunController(context, engine, post);
  const comparison = new ComparisonViewProvider(context.extensionUri, log);
  const inlineCompletions = new TempoInlineCompletionProvider(context, engine, log);
  const experiments = new ExperimentController(context, engine, log);
  let lastSettings: GenerationSettings | undefined;

  const runInPlayground = async (prompt: string, settings: GenerationSettings, options: RunOptions = {}): Promise<RunSummary | undefined> => {
    lastSettings = settings;
    try {
      return await runs.run(prompt, settings, options);
    } catch (e) {
      // Not awaited: the notification waits for the user, the command should not.
      void engine.reportError(e, "generation");
      return undefined;
    }
  };

  const host: PlaygroundHost = {
    run: (prompt, settings, options) => void runInPlayground(prompt, settings, options),
    stop: () => runs.stop(),
    exportCapture: () => void vscode.commands.executeCommand("tempo.exportCapture"),
    init: () => ({
      type: "init",
      extensionVersion: String(context.extension.packageJSON.version),
      defaults: generationDefaults(),
      ...(engine.model ? { model: { fileName: engine.model.fileName, backend: engine.model.backend, chatTemplate: engine.model.chatTemplate } } : {}),
    }),
    restore: () => runs.replay(),
  };
  const openPlayground = (): Promise<PlaygroundReadyInfo> => PlaygroundPanel.show(context, log, host).whenReady();

  /**
   * Opens the playground and streams a run of `prompt` with the settings of the playground's
   * last run (or the configured defaults), with `overrides` on top.
   */
  const generate = async (prompt: string, overrides: GenerationSettings = {}, options: RunOptions = {}): Promise<RunSummary | undefined> => {
    await openPlayground();
    return runInPlayground(prompt, { ...(lastSettings ?? generationDefaults()), ...overrides }, options);
  };

  const compareContext: CompareContext = {
    context, engine, comparison, log,
    baseSettings: () => lastSettings ?? generationDefaults(),
    suggestedPrompt: () => runs.current?.prompt ?? "",
  };

  context.subscriptions.push(
    engine,
    runs,
    comparison,
    vscode.window.registerWebviewViewProvider(COMPARISON_VIEW_ID, comparison),
    ...comparison.registerCommands((e, what) => engine.reportError(e, what)),
    vscode.commands.registerCommand("tempo.openPlayground", async () => {
      await openPlayground();
    }),
    // Arguments (keybindings, other extensions, tests): a prompt string, settings overrides, and
    // prompt options ({ promptFormat: "chat" }).
    vscode.commands.registerCommand("tempo.generate", async (promptArg?: unknown, settingsArg?: unknown, optionsArg?: unknown) => {
      const parsed = generationSettingsSchema.safeParse(settingsArg ?? {});
      const options = runOptionsSchema.safeParse(optionsArg ?? {});
      if (!parsed.success || !options.success) {
        const issue = (parsed.error ?? options.error)?.issues[0]?.message ?? "unknown";
        void vscode.window.showErrorMessage(`TEMPO: invalid ${parsed.success ? "prompt options" : "generation settings"}: ${issue}`);
        return undefined;
      }
      const prompt =
        typeof promptArg === "string"
          ? promptArg
          : await vscode.window.showInputBox({ title: "TEMPO: Generate", prompt: "Prompt for a TEMPO generation", value: runs.current?.prompt ?? "", ignoreFocusOut: true });
      if (!prompt) return undefined;
      return generate(prompt, parsed.data, options.data);
    }),
    vscode.commands.registerCommand("tempo.generateFromSelection", async () => {
      const editor = vscode.window.activeTextEditor;
      const text = editor ? editor.document.getText(editor.selection) : "";
      if (!text) {
        void vscode.window.showInformationMessage("TEMPO: select some text to use as the prompt first.");
        return undefined;
      }
      return generate(text);
    }),
    vscode.commands.registerCommand("tempo.stop", () => runs.stop()),
    inlineCompletions,
    // Every language: the provider checks tempo.inlineCompletions.languages per request, so a settings change needs no re-registration.
    vscode.languages.registerInlineCompletionItemProvider([{ scheme: "file" }, { scheme: "untitled" }], inlineCompletions),
    vscode.commands.registerCommand("tempo.selectModel", (uri?: unknown) => selectModel(context, engine, uri instanceof vscode.Uri ? uri : undefined)),
    vscode.commands.registerCommand("tempo.exportCapture", async () => {
      const staged = runs.captureDir;
      if (!staged) {
        void vscode.window.showInformationMessage("TEMPO: nothing to export yet: run a generation first.");
        return undefined;
      }
      try {
        return await exportCapture(staged, log);
      } catch (e) {
        void engine.reportError(e, "export");
        return undefined;
      }
    }),
    vscode.commands.registerCommand("tempo.compareModes", (promptArg?: unknown, settingsArg?: unknown) => compareModes(compareContext, promptArg, settingsArg)),
    experiments,
    // Arguments skip the pickers: { tasks?: "builtin" | path, arms?: [...], limit?: n }.
    vscode.commands.registerCommand("tempo.runCompletionExperiment", (args?: unknown) => experiments.run(args)),
    vscode.commands.registerCommand("tempo.revokeExperimentConsent", () => experiments.revokeConsent()),
    vscode.commands.registerCommand("tempo.downloadModel", (uri?: unknown) => downloadModel(context, engine, log, typeof uri === "string" ? uri : undefined)),
    comparison.onDidRequestReport((file) => void showReport(file, "TEMPO Report")),
    vscode.window.registerWebviewPanelSerializer(PLAYGROUND_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel) {
        PlaygroundPanel.revive(panel, context, log, host);
      },
    }),
    engine.onDidLoadModel((m) => post({ type: "model", model: { fileName: m.fileName, backend: m.backend, chatTemplate: m.chatTemplate } })),
    { dispose: () => PlaygroundPanel.instance?.dispose() },
  );

  const activationMs = performance.now() - started;
  log.info(`activated in ${activationMs.toFixed(1)} ms`);
  return {
    openPlayground,
    playgroundCspViolations: () => PlaygroundPanel.instance?.cspViolations ?? [],
    activationMs,
    engineProcess: () => engine.processInfo,
    currentRun: () => runs.current,
    inspectPlayground: async (view) => {
      const panel = PlaygroundPanel.instance;
      if (!panel) throw new Error("the playground is not open");
      return panel.inspect(view);
    },
    postToPlayground: post,
    inspectComparison: () => comparison.inspect(),
    inlineCompletions,
    inspectExperiment: async (taskId) => {
      const panel = ExperimentPanel.instance;
      if (!panel) throw new Error("the experiment page is not open");
      return { ...(await panel.inspect(taskId)), cspViolations: panel.cspViolations, elements: panel.elements };
    },
    exportExperiment: async () => {
      const view = ExperimentPanel.instance?.view;
      return view ? experiments.export(view) : undefined;
    },
    ...(context.extensionMode === vscode.ExtensionMode.Test
      ? { testing: { setExperimentConsent: (value: boolean) => experiments.setConsent(value), experimentConsent: () => experiments.consented } }
      : {}),
  };
}

export function deactivate(): void {
  // Everything (the engine child included) is disposed through context.subscriptions.
}
