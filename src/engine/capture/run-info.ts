/** What a capture's manifest says about the run: model identity, versions, backend, context. */
import { createRequire } from "node:module";
import { TempoSession } from "../session.js";
import { GenerationConfig } from "../types.js";
import { CaptureInfo } from "./manifest.js";

const tempoVersion = (): string => {
  try { return (createRequire(import.meta.url)("../../../package.json") as { version: string }).version; } catch { return "unknown"; }
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
      nCtx: session.contextSize, nBatch: session.batchSize, nUbatch: session.batchSize, lanes: session.lanes,
      kvUnified: true, flashAttention: session.flashAttention === "on", typeK: "f16", typeV: "f16",
    },
    prompt,
    ...(extra ? { extra } : {}),
  };
}
