// The live completion experiment: an inline completion provider (off unless
// tempo.inlineCompletions.enabled) that runs TEMPO in the engine host on the text before the
// cursor and offers the distinct paths through its sets as alternatives, primary first. Each
// request draws one arm from tempo.inlineCompletions.arms; offers and acceptances go to a
// JSONL log (inlineLog.ts) so real use can be compared between arms.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import * as vscode from "vscode";
import type { CompletionResult, GenerationSettings } from "../protocol/engine.js";
import { oneOf } from "../protocol/generation.js";
import { generationDefaults } from "./config.js";
import type { EngineService } from "./engineService.js";
import { EngineCrashedError } from "../host/client.js";
import { INLINE_ARMS, JsonlAppender, acceptanceSchema, acceptedRecord, offeredRecord, type AcceptedRecord, type InlineArm, type Offer } from "./inlineLog.js";

export const ACCEPT_COMMAND = "tempo.inlineCompletions.recordAcceptance";
export const INLINE_LOG_FILE = "inline-completions.jsonl";
/** Paths through the sets looked at per alternative wanted: many share their truncated text. */
const PATHS_PER_ALTERNATIVE = 8;

export interface InlineSettings {
  enabled: boolean;
  arms: InlineArm[];
  languages: string[];
  maxSteps: number;
  maxAlternatives: number;
  maxPrefixChars: number;
  debounceMs: number;
}

export function inlineSettings(): InlineSettings {
  const c = vscode.workspace.getConfiguration("tempo.inlineCompletions");
  const arms = [...new Set(c.get<string[]>("arms", []).flatMap((a) => oneOf(INLINE_ARMS, a) ?? []))];
  const int = (key: string, fallback: number, min: number): number => Math.max(min, Math.floor(c.get<number>(key, fallback)));
  return {
    enabled: c.get<boolean>("enabled", false),
    arms: arms.length ? arms : ["isolated", "visible"],
    languages: c.get<string[]>("languages", []),
    maxSteps: int("maxSteps", 48, 1),
    maxAlternatives: Math.min(16, int("maxAlternatives", 5, 1)),
    maxPrefixChars: int("maxPrefixChars", 2000, 1),
    debounceMs: int("debounceMs", 250, 0),
  };
}

/** Where the log goes: the document's workspace folder, else the first one, else global storage. */
function logLocation(context: vscode.ExtensionContext, document: vscode.TextDocument | undefined): { file: string; inWorkspace: boolean } {
  const folder = (document && vscode.workspace.getWorkspaceFolder(document.uri)) ?? vscode.workspace.workspaceFolders?.[0];
  if (folder?.uri.scheme === "file") return { file: join(folder.uri.fsPath, ".tempo", INLINE_LOG_FILE), inWorkspace: true };
  return { file: join(context.globalStorageUri.fsPath, INLINE_LOG_FILE), inWorkspace: false };
}

/** Resolves true after `ms`, false as soon as `token` is cancelled. */
function waitUnlessCancelled(ms: number, token: vscode.CancellationToken): Promise<boolean> {
  if (token.isCancellationRequested) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sub.dispose();
      resolve(true);
    }, ms);
    const sub = token.onCancellationRequested(() => {
      clearTimeout(timer);
      sub.dispose();
      resolve(false);
    });
  });
}

export class TempoInlineCompletionProvider implements vscode.InlineCompletionItemProvider, vscode.Disposable {
  private readonly appenders = new Map<string, JsonlAppender>();
  private readonly reported = new Set<string>();
  private toldGlobalStorage = false;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly context: vscode.ExtensionContext, private readonly engine: EngineService, private readonly log: vscode.LogOutputChannel) {
    this.disposables = [vscode.commands.registerCommand(ACCEPT_COMMAND, (arg: unknown) => this.recordAcceptance(arg))];
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument, position: vscode.Position, context: vscode.InlineCompletionContext, token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionList | undefined> {
    const s = inlineSettings();
    // A suggestion-widget item is showing: VS Code would only show completions extending it.
    if (!s.enabled || !s.languages.includes(document.languageId) || context.selectedCompletionInfo) return undefined;
    const end = document.offsetAt(position);
    let start = document.positionAt(Math.max(0, end - s.maxPrefixChars));
    // Start on a whole line where the bound allows it (the engine cuts further to fit the context).
    if (start.character > 0 && start.line < position.line) start = new vscode.Position(start.line + 1, 0);
    const prefix = document.getText(new vscode.Range(start, position));
    if (prefix.trim() === "") return undefined;
    if (context.triggerKind === vscode.InlineCompletionTriggerKind.Automatic && s.debounceMs > 0 && !(await waitUnlessCancelled(s.debounceMs, token))) return undefined;

    const arm = s.arms[Math.floor(Math.random() * s.arms.length)];
    const settings: GenerationSettings = { ...generationDefaults(), mode: arm, maxSteps: s.maxSteps };
    const modelPath = this.engine.options().modelPath;
    const handle = this.engine.complete({
      prompt: prefix, settings, language: document.languageId === "python" ? "python" : "javascript",
      pathCap: s.maxAlternatives * PATHS_PER_ALTERNATIVE, maxAlternatives: s.maxAlternatives,
    });
    const sub = token.onCancellationRequested(() => handle.cancel());
    let result: CompletionResult | null;
    try {
      result = await handle.result;
    } catch (e) {
      this.reportOnce(e);
      return undefined;
    } finally {
      sub.dispose();
    }
    if (!result || token.isCancellationRequested || result.alternatives.length === 0) return undefined;

    const offer: Offer = {
      requestId: randomUUID(),
      language: document.languageId,
      model: { path: modelPath, sha256: result.modelSha256 },
      arm,
      settings: { ...result.config, arms: s.arms, maxAlternatives: s.maxAlternatives, maxPrefixChars: s.maxPrefixChars },
      alternatives: result.alternatives.length,
      lengths: result.alternatives.map((a) => a.text.length),
    };
    void this.append(document, offeredRecord(offer, result)).catch((e: unknown) => this.log.error(`inline completions: could not log the offer: ${(e as Error).message}`));
    const here = new vscode.Range(position, position);
    return new vscode.InlineCompletionList(result.alternatives.map((a, index) => new vscode.InlineCompletionItem(a.text, here, {
      title: "Record the accepted TEMPO completion",
      command: ACCEPT_COMMAND,
      arguments: [{ offer, index, closed: a.closed }],
    })));
  }

  /** The accept command: VS Code runs it after inserting an item (full accepts only). */
  async recordAcceptance(arg: unknown): Promise<AcceptedRecord | undefined> {
    const parsed = acceptanceSchema.safeParse(arg);
    if (!parsed.success) {
      void vscode.window.showErrorMessage(`TEMPO: not an inline completion acceptance (${parsed.error.issues[0]?.message ?? "invalid"}); nothing logged.`);
      return undefined;
    }
    const record = acceptedRecord(parsed.data);
    try {
      await this.append(vscode.window.activeTextEditor?.document, record);
    } catch (e) {
      void vscode.window.showErrorMessage(`TEMPO: could not log the accepted completion: ${(e as Error).message}`);
      return undefined;
    }
    return record;
  }

  /** The log file events of `document` go to (for tests and the docs' snippets). */
  logFile(document?: vscode.TextDocument): string {
    return logLocation(this.context, document).file;
  }

  private append(document: vscode.TextDocument | undefined, record: object): Promise<void> {
    const { file, inWorkspace } = logLocation(this.context, document);
    if (!inWorkspace && !this.toldGlobalStorage) {
      this.toldGlobalStorage = true;
      this.log.info(`inline completions: no workspace folder is open; events go to ${file}`);
      void vscode.window.showInformationMessage(`TEMPO: no workspace folder is open, so inline completion events are logged to ${file}`);
    }
    let appender = this.appenders.get(file);
    if (!appender) this.appenders.set(file, (appender = new JsonlAppender(file)));
    return appender.append(record);
  }

  /** Engine errors reach the log every time and a notification once per message: typing must not bring a stream of them. */
  private reportOnce(e: unknown): void {
    if (e instanceof EngineCrashedError) return; // the engine service already told the user
    const message = (e as Error)?.message ?? String(e);
    this.log.warn(`inline completions: ${message}`);
    if (this.reported.has(message)) return;
    this.reported.add(message);
    void this.engine.reportError(e, "inline completion");
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
