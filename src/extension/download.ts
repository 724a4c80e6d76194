// "TEMPO: Download Model…": an `hf:` URI (from huggingface.co or the mirror in
// tempo.download.huggingFaceEndpoint) or an http(s) URL through node-llama-cpp's downloader (in
// the engine host) into the extension's global storage, with progress and cancel.
import * as vscode from "vscode";
import { huggingFaceEndpoint } from "./config.js";
import type { EngineService } from "./engineService.js";

/** Small models that suit TEMPO experiments on a laptop CPU, of each verified family (docs/models.md). */
import { SUGGESTED_MODELS } from "./suggested-models.js";
export { SUGGESTED_MODELS };

export type ParsedModelUri = { ok: true; uri: string } | { ok: false; error: string };

/** Checks what the user typed before anything is fetched: `hf:user/repo[:quant | /file.gguf[#branch]]` or an http(s) URL. */
export function parseModelUri(input: string): ParsedModelUri {
  const uri = input.trim();
  if (uri === "") return { ok: false, error: "Enter an hf: URI or an http(s) URL" };
  if (/\s/.test(uri)) return { ok: false, error: "A model URI cannot contain spaces" };
  if (uri.startsWith("hf:")) {
    if (!/^hf:[A-Za-z0-9][\w.-]*\/[\w.-]+(:[\w.-]+|\/[^#]+\.gguf(#[\w./-]+)?)?$/.test(uri)) {
      return { ok: false, error: "Expected hf:<user>/<repo>[:<quant>] or hf:<user>/<repo>/<file>.gguf[#<branch>]" };
    }
    return { ok: true, uri };
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return { ok: false, error: "Not an hf: URI or a URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, error: `Unsupported scheme ${url.protocol} (use hf:, https: or http:)` };
  return { ok: true, uri: url.toString() };
}

/** Asks for a model (or takes `uriArg`), downloads it with progress, and offers to use it. */
export async function downloadModel(context: vscode.ExtensionContext, engine: EngineService, log: vscode.LogOutputChannel, uriArg?: string): Promise<string | undefined> {
  let uri = uriArg;
  if (uri === undefined) {
    type Item = vscode.QuickPickItem & { uri?: string };
    const items: Item[] = [
      { label: "$(edit) Enter a URI or URL…", description: "hf:<user>/<repo>:<quant> or https://…/model.gguf" },
      { label: "Suggested", kind: vscode.QuickPickItemKind.Separator },
      ...SUGGESTED_MODELS.map((m) => ({ label: m.uri, description: m.description, uri: m.uri })),
    ];
    const pick = await vscode.window.showQuickPick(items, { title: "TEMPO: Download Model" });
    if (!pick) return undefined;
    uri =
      pick.uri ??
      (await vscode.window.showInputBox({
        title: "TEMPO: Download Model",
        prompt: "hf:<user>/<repo>[:<quant>], hf:<user>/<repo>/<file>.gguf or an http(s) URL",
        ignoreFocusOut: true,
        validateInput: (v) => {
          const r = parseModelUri(v);
          return r.ok ? undefined : r.error;
        },
      }));
    if (!uri) return undefined;
  }
  const parsed = parseModelUri(uri);
  if (!parsed.ok) {
    void vscode.window.showErrorMessage(`TEMPO: ${parsed.error}`);
    return undefined;
  }
  const dir = vscode.Uri.joinPath(context.globalStorageUri, "models");
  await vscode.workspace.fs.createDirectory(dir);
  const endpoint = parsed.uri.startsWith("hf:") ? huggingFaceEndpoint() : undefined;
  log.info(`downloading ${parsed.uri}${endpoint ? ` from ${endpoint}` : ""} into ${dir.fsPath}`);
  try {
    const path = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `TEMPO: downloading ${parsed.uri}`, cancellable: true },
      async (progress, token) => {
        let reported = 0;
        // A download streams nothing but progress.
        const handle = engine.download({ uri: parsed.uri, dirPath: dir.fsPath, huggingFaceEndpoint: endpoint }, ({ message, fraction }) => {
          const pct = (fraction ?? 0) * 100;
          progress.report({ message, increment: Math.max(0, pct - reported) });
          reported = Math.max(reported, pct);
        });
        const sub = token.onCancellationRequested(() => handle.cancel());
        try {
          return await handle.result;
        } finally {
          sub.dispose();
        }
      },
    );
    log.info(`downloaded ${path}`);
    void vscode.window.showInformationMessage(`TEMPO: downloaded ${path}`, "Use This Model").then(async (choice) => {
      if (choice === "Use This Model") await vscode.commands.executeCommand("tempo.selectModel", vscode.Uri.file(path));
    });
    return path;
  } catch (e) {
    void engine.reportError(e, `downloading ${parsed.uri}`);
    return undefined;
  }
}
