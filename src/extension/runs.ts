// The playground's run: one at a time per window. Steps received from the engine stay here (the
// extension side), so a re-created webview or a crashed engine loses nothing already shown.
import { join } from "node:path";
import * as vscode from "vscode";
import type { Handle } from "../host/client.js";
import type { GenerationSettings, PromptFormat, RunOptions, RenderedPrompt, RunSummary, StepEventMessage } from "../protocol/engine.js";
import type { ExtensionMessage } from "../../webview/protocol.js";
import type { EngineService } from "./engineService.js";
import { pruneStaged } from "./staging.js";
import { applyArrivedDecisions } from "../protocol/pruning.js";

/** Staged capture folders kept in global storage (older ones are removed). */
const KEPT_STAGED_CAPTURES = 20;

export interface RunState {
  runId: number;
  /** Epoch ms; with runId it names the run in the page's history across reloads. */
  startedAt: number;
  prompt: string;
  settings: GenerationSettings;
  format: PromptFormat;
  responsePrefix?: string;
  /** The prompt as the engine fed it (chat markup included), once it said. */
  rendered?: RenderedPrompt;
  steps: StepEventMessage[];
  summary?: RunSummary;
  error?: string;
}

export class RunController implements vscode.Disposable {
  current: RunState | undefined;
  private handle: Handle<RunSummary> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly engine: EngineService,
    /** Posts to the open playground, if any. */
    private readonly post: (message: ExtensionMessage) => void,
  ) {}

  get running(): boolean {
    return this.handle !== undefined;
  }

  private get stagingRoot(): string {
    return join(this.context.globalStorageUri.fsPath, "captures");
  }

  /** Runs a generation into the playground; resolves with its summary (also when stopped). */
  async run(prompt: string, settings: GenerationSettings, options: RunOptions = {}): Promise<RunSummary> {
    this.handle?.cancel();
    const handle = this.engine.generate(
      prompt,
      settings,
      (e) => {
        const mine = this.current?.runId === handle.id ? this.current : undefined;
        switch (e.type) {
          case "progress":
            this.post({ type: "progress", runId: handle.id, message: e.message });
            break;
          case "steps":
            if (mine) {
              mine.steps.push(...e.steps);
              // A pruning decision concerns an earlier set: a re-created page then shows it struck through.
              applyArrivedDecisions(mine.steps, e.steps);
            }
            this.post({ type: "steps", runId: handle.id, steps: e.steps });
            break;
          case "promptRendered":
            if (mine) mine.rendered = e.prompt;
            this.post({ type: "promptRendered", runId: handle.id, prompt: e.prompt });
            break;
        }
      },
      this.stagingRoot,
      options,
    );
    this.handle = handle;
    const run: RunState = { runId: handle.id, startedAt: Date.now(), prompt, settings, format: options.promptFormat ?? "raw", steps: [] };
    if (options.responsePrefix !== undefined) run.responsePrefix = options.responsePrefix;
    this.current = run;
    // Before any await: the page drops steps of a run it has not been told about.
    this.post(this.startedMessage(run));
    await this.setContext();
    try {
      const summary = await handle.result;
      if (this.current?.runId === handle.id) this.current.summary = summary;
      this.post({ type: "runDone", runId: handle.id, run: summary, exportable: summary.captureDir !== undefined });
      pruneStaged(this.stagingRoot, KEPT_STAGED_CAPTURES, this.captureDir);
      return summary;
    } catch (e) {
      const message = (e as Error)?.message ?? String(e);
      if (this.current?.runId === handle.id) this.current.error = message;
      this.post({ type: "runError", runId: handle.id, message });
      throw e;
    } finally {
      if (this.handle === handle) this.handle = undefined;
      await this.setContext();
    }
  }

  stop(): void {
    this.handle?.cancel();
  }

  /** The staged capture folder of the last finished run, if it has one. */
  get captureDir(): string | undefined {
    return this.current?.summary?.captureDir;
  }

  private startedMessage(r: RunState): ExtensionMessage {
    return {
      type: "runStarted", runId: r.runId, startedAt: r.startedAt, prompt: r.prompt, settings: r.settings, format: r.format,
      ...(r.responsePrefix !== undefined ? { responsePrefix: r.responsePrefix } : {}),
    };
  }

  /** Sends the current run again (a re-created webview shows it from its stored history, maybe trimmed). */
  replay(): void {
    const r = this.current;
    if (!r) return;
    this.post(this.startedMessage(r));
    if (r.rendered) this.post({ type: "promptRendered", runId: r.runId, prompt: r.rendered });
    if (r.steps.length) this.post({ type: "steps", runId: r.runId, steps: r.steps });
    if (r.summary) this.post({ type: "runDone", runId: r.runId, run: r.summary, exportable: r.summary.captureDir !== undefined });
    else if (r.error) this.post({ type: "runError", runId: r.runId, message: r.error });
  }

  private async setContext(): Promise<void> {
    await vscode.commands.executeCommand("setContext", "tempo.generating", this.running);
    await vscode.commands.executeCommand("setContext", "tempo.hasCapture", this.captureDir !== undefined);
  }

  dispose(): void {
    this.handle?.cancel();
  }
}
