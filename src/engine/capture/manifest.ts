/** The capture folder's manifest.json: what a run was, so every number can be traced back. */
import type { GenerationConfig, StopReason } from "../types.js";

export const CAPTURE_SCHEMA_VERSION = 1;
export const CAPTURE_FILES = {
  manifest: "manifest.json",
  steps: "steps.jsonl",
  logits: "logits.safetensors",
  attention: "attention.safetensors",
} as const;

export interface ModelInfo {
  /** File name only (no directories: captures are shared). */
  fileName: string;
  /** Lower-case hex SHA-256 of the GGUF file; replays refuse a different one. */
  sha256: string;
  sizeBytes?: number;
  quantization?: string;
}

export interface ContextSettings {
  nCtx: number;
  nBatch: number;
  nUbatch: number;
  lanes: number;
  kvUnified: boolean;
  flashAttention: boolean;
  typeK?: string;
  typeV?: string;
}

/** How one logits stream is stored (see CaptureRecorder.addLogits). */
export type LogitsStreamInfo =
  | { kind: "topk"; k: number; rows: number }
  | { kind: "full"; vocab: number; dtype: "F32" | "F16"; rows: number };

/** What the engine knows about a run; the recorder adds the rest. */
export interface CaptureInfo {
  config: GenerationConfig;
  model: ModelInfo;
  versions: { tempo: string; nodeLlamaCpp?: string; llamaCpp?: string; node?: string };
  backend: { name: string; device?: string };
  context: ContextSettings;
  seeds?: Record<string, number>;
  prompt?: { text?: string; tokens?: number[] };
  /** Free-form extra settings (e.g. replay of which capture, under which mode). */
  extra?: Record<string, unknown>;
}

export interface CaptureManifest extends CaptureInfo {
  schemaVersion: number;
  format: "tempo-capture";
  createdAt: string;
  stopReason?: StopReason;
  /** Milliseconds, e.g. { totalMs, decodeMs, replayMs }. */
  timings: Record<string, number>;
  files: {
    steps: { path: string; count: number };
    logits?: { path: string; streams: Record<string, LogitsStreamInfo> };
    /**
     * `streams` (when the capture holds attention of several decodes of each set, e.g. tempo
     * compare's P and Q replays and null baseline): each stream's name, mode and record count;
     * attention.safetensors says which record belongs to which (record_streams).
     */
    attention?: { path: string; records: number; streams?: { name: string; mode?: string; records: number }[] };
  };
}
