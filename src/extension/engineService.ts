// The extension's handle on the engine host: starts it on first use (activation stays cheap),
// restarts it on the next request after it died, turns its errors into notifications with
// actions, and keeps the status bar (model, backend, last speed) current.
import { basename } from "node:path";
import * as vscode from "vscode";
import { EngineClient, EngineCrashedError, EngineRequestError, mapHandle, type Handle } from "../host/client.js";
import type {
  CompletionRequest, CompletionResult, DownloadRequest, EngineOptions, FinalEvent, GenerationSettings, ModelSummary, RunOptions, RunSummary, StreamedEvent,
} from "../protocol/engine.js";
import type { ExperimentSpec, ExperimentView } from "../protocol/experiment.js";
import type { AttentionLayers } from "../protocol/attention.js";
import { engineOptions } from "./config.js";

/** A finished compare: its capture, report and divergences. */
export type CompareOutcome = FinalEvent<"compare">;

export class EngineService implements vscode.Disposable {
  private client: EngineClient | undefined;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  /** Model the engine last reported loaded, for the status bar and the playground header. */
  model: ModelSummary | undefined;
  lastSpeed: number | undefined;
  /** The last run's decode threads, for the status bar's hover. */
  private lastThreads: RunSummary["decodeThreads"] | undefined;
  private readonly modelEmitter = new vscode.EventEmitter<ModelSummary>();
  readonly onDidLoadModel = this.modelEmitter.event;

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: vscode.LogOutputChannel) {
    this.statusItem = vscode.window.createStatusBarItem("tempo.status", vscode.StatusBarAlignment.Right, 100);
    this.statusItem.name = "TEMPO Model";
    this.statusItem.command = "tempo.selectModel";
    this.updateStatus();
    this.statusItem.show();
    this.disposables.push(
      this.statusItem,
      this.modelEmitter,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("tempo.model")) this.updateStatus();
      }),
    );
  }

  /** The engine host client, forked on first use. */
  private engine(): EngineClient {
    if (!this.client) {
      const entry = vscode.Uri.joinPath(this.context.extensionUri, "dist", "engine-host.js").fsPath;
      this.client = new EngineClient(entry, this.log);
      this.client.onCrash((e) => this.onCrash(e));
    }
    return this.client;
  }

  /** For tests and diagnostics: the engine child's pid and how many times it was started. */
  get processInfo(): { pid: number | undefined; starts: number } {
    return { pid: this.client?.pid, starts: this.client?.starts ?? 0 };
  }

  options(): EngineOptions {
    return engineOptions(this.context.extensionUri);
  }

  private onCrash(error: EngineCrashedError): void {
    this.model = undefined;
    this.updateStatus();
    void vscode.window.showErrorMessage(error.message, "Show Log").then((choice) => {
      if (choice === "Show Log") this.log.show();
    });
  }

  /** Loads the configured model now (Select Model… checks a new file at once), with progress. */
  async loadModel(): Promise<ModelSummary> {
    const engine = this.options();
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `TEMPO: loading ${basename(engine.modelPath)}` },
      async () => {
        const { model } = await this.engine().request("loadModel", { engine }).result;
        this.setModel(model);
        return model;
      },
    );
  }

  private setModel(model: ModelSummary): void {
    const changed = this.model?.path !== model.path;
    this.model = model;
    if (changed) this.log.info(`model ${model.path} (${model.description}) on ${model.backend}, loaded in ${model.loadMs.toFixed(0)} ms`);
    this.updateStatus();
    this.modelEmitter.fire(model);
  }

  /**
   * Starts a generation. Model loading shows progress in the status bar; the steps, the rendered
   * prompt and progress go to `onEvent` as the engine sends them.
   */
  generate(prompt: string, settings: GenerationSettings, onEvent?: (event: StreamedEvent<"generate">) => void, captureRoot?: string, runOptions: RunOptions = {}): Handle<RunSummary> {
    const engine = this.options();
    let loaded!: () => void;
    const loading = new Promise<void>((r) => (loaded = r));
    if (this.model?.path !== engine.modelPath) {
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `TEMPO: loading ${basename(engine.modelPath)}` }, () => loading);
    } else {
      loaded();
    }
    const handle = this.engine().request("generate", { engine, prompt, settings, ...runOptions, ...(captureRoot ? { captureRoot } : {}) }, (e) => {
      if (e.type === "modelLoaded") {
        loaded();
        this.setModel(e.model);
      }
      onEvent?.(e);
    });
    const result = handle.result.then(
      ({ run }) => {
        loaded();
        this.lastSpeed = run.stepsPerSecond;
        this.lastThreads = run.decodeThreads;
        this.updateStatus();
        return run;
      },
      (e: unknown) => {
        loaded();
        throw e;
      },
    );
    return { id: handle.id, result, cancel: handle.cancel };
  }

  /** Isolated vs visible through the engine's compareModes (capture + report under `captureRoot`); the isolated run's steps stream first. */
  compare(prompt: string, settings: GenerationSettings, captureRoot: string, attentionLayers: AttentionLayers | undefined, onEvent: (event: StreamedEvent<"compare">) => void): Handle<CompareOutcome> {
    return this.engine().request("compare", { engine: this.options(), prompt, settings, captureRoot, ...(attentionLayers ? { attentionLayers } : {}) }, this.trackingModel(onEvent));
  }

  /** The completion experiment with the configured model; files staged under `outRoot`. Cancelled, it resolves with the partial results. */
  experiment(spec: ExperimentSpec, outRoot: string, onEvent: (event: StreamedEvent<"experiment">) => void): Handle<ExperimentView> {
    return mapHandle(this.engine().request("experiment", { engine: this.options(), spec, outRoot }, this.trackingModel(onEvent)), (e) => e.view);
  }

  /** `onEvent`, after keeping the status bar's model current. */
  private trackingModel<E extends StreamedEvent<"compare" | "experiment" | "complete">>(onEvent?: (event: E) => void): (event: E) => void {
    return (e) => {
      if (e.type === "modelLoaded") this.setModel(e.model);
      onEvent?.(e);
    };
  }

  /** Inline completions: no progress UI, they must never get in the way of typing. Null when cancelled. */
  complete(request: CompletionRequest): Handle<CompletionResult | null> {
    return mapHandle(this.engine().request("complete", { engine: this.options(), ...request }, this.trackingModel()), (e) => e.result);
  }

  /** Downloads a model into `request.dirPath`; resolves with the downloaded file's path. */
  download(request: DownloadRequest, onEvent: (event: StreamedEvent<"download">) => void): Handle<string> {
    return mapHandle(this.engine().request("download", request, onEvent), (e) => e.path);
  }

  /** A notification for a failed request: input errors as they are, with the fitting actions. */
  async reportError(e: unknown, what: string): Promise<void> {
    if (e instanceof EngineCrashedError) return; // onCrash already told the user
    const input = e instanceof EngineRequestError && e.kind === "input";
    const message = (e as Error)?.message ?? String(e);
    this.log.error(`${what}: ${message}`);
    const modelProblem = input && /model|gguf|architecture|memory/i.test(message);
    const actions = [...(modelProblem ? ["Select Model…"] : []), ...(input && !modelProblem ? ["Open Settings"] : []), "Show Log"];
    const choice = await vscode.window.showErrorMessage(`TEMPO: ${what} failed: ${message}`, ...actions);
    if (choice === "Select Model…") await vscode.commands.executeCommand("tempo.selectModel");
    else if (choice === "Open Settings") await vscode.commands.executeCommand("workbench.action.openSettings", "tempo.");
    else if (choice === "Show Log") this.log.show();
  }

  private updateStatus(): void {
    const configured = basename(this.options().modelPath).replace(/\.gguf$/i, "");
    const parts = [this.model ? this.model.fileName.replace(/\.gguf$/i, "") : configured];
    if (this.model) parts.push(this.model.backend);
    if (this.lastSpeed !== undefined && this.model) parts.push(`${this.lastSpeed.toFixed(1)} steps/s`);
    this.statusItem.text = `$(pulse) ${parts.join(" · ")}`;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.isTrusted = false;
    tip.appendText(this.model ? `TEMPO model: ${this.model.path}\n${this.model.description}, ${this.model.backend}` : `TEMPO model: ${this.options().modelPath} (loads on first use)`);
    if (this.lastThreads && this.model) tip.appendText(`\nDecode threads: ${threadsText(this.lastThreads)}`);
    tip.appendMarkdown("\n\nClick to select a model.");
    this.statusItem.tooltip = tip;
  }

  dispose(): void {
    this.client?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** "1 of 2, automatic (the cores other processes left idle)" or "2 (tempo.threads)". */
function threadsText(t: RunSummary["decodeThreads"]): string {
  return t.automatic ? `${t.last} of ${t.max}, automatic (the cores other processes left idle; tempo.threads sets a fixed count)` : `${t.last} (tempo.threads)`;
}
