/** What a capture's manifest says about the run: model identity, versions, backend, context. */
import { fileURLToPath } from "node:url";
import type { TempoModel } from "../model.js";
import { packageOf } from "../llama/package-info.js";
import { GenerationConfig } from "../types.js";
import { CaptureInfo } from "./manifest.js";

/** What a capture records of the session that made it (a TempoSession has all of it). */
export interface CapturedSession {
  model: TempoModel;
  contextSize: number;
  batchSize: number;
  ubatchSize: number;
  lanes: number;
  kvCacheType: string;
  flashAttention: "on" | "off";
}

export async function captureInfoFor(session: CapturedSession, config: GenerationConfig, prompt: { text?: string; tokens: number[] }, extra?: Record<string, unknown>): Promise<CaptureInfo> {
  const { model } = session;
  const { versions, backend } = model.runtime;
  return {
    config,
    model: { fileName: model.info.fileName, sha256: await model.sha256(), quantization: model.info.description },
    versions: { tempo: packageOf(fileURLToPath(import.meta.url)).version, nodeLlamaCpp: versions.nodeLlamaCpp, llamaCpp: versions.llamaCpp, node: process.version },
    backend: { name: backend },
    context: {
      nCtx: session.contextSize, nBatch: session.batchSize, nUbatch: session.ubatchSize, lanes: session.lanes,
      kvUnified: true, flashAttention: session.flashAttention === "on", typeK: session.kvCacheType, typeV: session.kvCacheType,
    },
    prompt,
    ...(extra ? { extra } : {}),
  };
}
