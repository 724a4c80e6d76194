// Settings (contributes.configuration "tempo.*") turned into engine options and control defaults.
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import * as vscode from "vscode";
import type { EngineOptions, GenerationSettings } from "../protocol/engine.js";
import type { AttentionLayers } from "../protocol/attention.js";
import { DEFAULT_CONFIG, oneOf, NEXT_STEP_POLICIES, TEMPO_MODES, THRESHOLD_SCHEDULES } from "../protocol/generation.js";

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

/** `tempo.compare.attention`: the layers Compare Isolated vs Visible captures attention of (every one), or none. */
export function compareAttentionLayers(): AttentionLayers | undefined {
  return vscode.workspace.getConfiguration("tempo.compare").get<boolean>("attention", true) ? "all" : undefined;
}

/**
 * The playground's starting values for every control (`tempo.generation.*`); a setting left
 * unset gets the engine's default. A choice that is not one of the list (a hand-edited
 * settings.json) is left out, so the run gets the default rather than a value the protocol refuses.
 */
export function generationDefaults(): GenerationSettings {
  const g = vscode.workspace.getConfiguration("tempo.generation");
  const d = DEFAULT_CONFIG;
  const pick = <T extends string>(key: string, list: readonly T[], fallback: T): T | undefined => oneOf(list, g.get<unknown>(key, fallback));
  return {
    mode: pick("mode", TEMPO_MODES, d.mode),
    policy: pick("policy", NEXT_STEP_POLICIES, d.policy),
    threshold: g.get<number>("threshold", d.threshold),
    schedule: pick("schedule", THRESHOLD_SCHEDULES, d.schedule),
    thresholdEnd: g.get<number>("thresholdEnd", d.thresholdEnd),
    maxWidth: g.get<number>("maxWidth", d.maxWidth),
    maxSteps: g.get<number>("maxSteps", d.maxSteps),
    minSteps: g.get<number>("minSteps", d.minSteps),
    temperature: g.get<number>("temperature", d.temperature),
    stopStrings: g.get<string[]>("stopStrings", d.stopStrings),
    pruneMass: g.get<number>("pruneMass", d.pruneMass),
    pruneLookahead: g.get<number>("pruneLookahead", d.pruneLookahead),
    pruneLayers: g.get<number[]>("pruneLayers", d.pruneLayers),
  };
}
