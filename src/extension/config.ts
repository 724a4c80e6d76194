// Settings (contributes.configuration "tempo.*") turned into engine options and control defaults.
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import * as vscode from "vscode";
import type { EngineOptions, GenerationSettings } from "../protocol/engine.js";

export const DEMO_MODEL_FILE = "tempo-demo-code.gguf";

/** The shipped demo model inside the installed extension. */
export function demoModelPath(extensionUri: vscode.Uri): string {
  return vscode.Uri.joinPath(extensionUri, "models", DEMO_MODEL_FILE).fsPath;
}

/** `tempo.model`, resolved: empty = the demo model; `~/` = home; relative = the first workspace folder. */
export function modelPath(extensionUri: vscode.Uri): string {
  const raw = vscode.workspace.getConfiguration("tempo").get<string>("model", "").trim();
  if (raw === "") return demoModelPath(extensionUri);
  if (raw.startsWith("~/")) return join(homedir(), raw.slice(2));
  if (isAbsolute(raw)) return raw;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? join(folder.uri.fsPath, raw) : raw;
}

/** `tempo.download.huggingFaceEndpoint`: a mirror for `hf:` URIs; undefined (empty) = node-llama-cpp's default. */
export function huggingFaceEndpoint(): string | undefined {
  return vscode.workspace.getConfiguration("tempo").get<string>("download.huggingFaceEndpoint", "").trim() || undefined;
}

export function engineOptions(extensionUri: vscode.Uri): EngineOptions {
  const c = vscode.workspace.getConfiguration("tempo");
  return {
    modelPath: modelPath(extensionUri),
    gpu: c.get<string>("gpu") === "cpu" ? "cpu" : "auto",
    contextSize: Math.max(0, Math.floor(c.get<number>("contextSize", 0))),
    flashAttention: c.get<string>("flashAttention") === "on" ? "on" : "off",
    threads: Math.max(0, Math.floor(c.get<number>("threads", 0))),
  };
}

/** The playground's starting values for every control (`tempo.generation.*`). */
export function generationDefaults(): GenerationSettings {
  const g = vscode.workspace.getConfiguration("tempo.generation");
  return {
    mode: g.get<string>("mode", "isolated"),
    policy: g.get<string>("policy", "mixture"),
    threshold: g.get<number>("threshold", 0.1),
    schedule: g.get<string>("schedule", "constant"),
    thresholdEnd: g.get<number>("thresholdEnd", 0.1),
    maxWidth: g.get<number>("maxWidth", 8),
    maxSteps: g.get<number>("maxSteps", 64),
    minSteps: g.get<number>("minSteps", 0),
    temperature: g.get<number>("temperature", 1),
    stopStrings: g.get<string[]>("stopStrings", []),
  };
}
