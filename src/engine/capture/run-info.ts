/** What a capture's manifest says about the run: model identity, versions, backend, context. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TempoSession } from "../session.js";
import { GenerationConfig } from "../types.js";
import { CaptureInfo } from "./manifest.js";

/** Our package.json's version, found by walking up (works from src/ and from the dist/ bundle). */
const tempoVersion = (): string => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
    if (pkg.name === "tempo-playground" && pkg.version) return pkg.version;
  }
  return "unknown";
};

export async function captureInfoFor(session: TempoSession, config: GenerationConfig, prompt: { text?: string; tokens: number[] }, extra?: Record<string, unknown>): Promise<CaptureInfo> {
  const { model } = session;
  const { versions, backend } = model.runtime;
  return {
    config,
    model: { fileName: model.info.fileName, sha256: await model.sha256(), quantization: model.info.description },
    versions: { tempo: tempoVersion(), nodeLlamaCpp: versions.nodeLlamaCpp, llamaCpp: versions.llamaCpp, node: process.version },
    backend: { name: backend },
    context: {
      nCtx: session.contextSize, nBatch: session.batchSize, nUbatch: session.ubatchSize, lanes: session.lanes,
      kvUnified: true, flashAttention: session.flashAttention === "on", typeK: "f16", typeV: "f16",
    },
    prompt,
    ...(extra ? { extra } : {}),
  };
}
