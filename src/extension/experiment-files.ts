// Experiment files (docs/experiments.md) for what the extension is about to run, from its
// engine options and settings: the same file `tempo run` reruns. No vscode here: unit-tested.
import type { AttentionLayers } from "../protocol/attention.js";
import type { EngineOptions } from "../protocol/engine.js";
import type { GenerationConfig } from "../protocol/generation.js";
import type { ExperimentSpec } from "../protocol/experiment.js";
import { EXPERIMENT_FILE_VERSION, type ExperimentFile } from "../protocol/experiment-file.js";

/** The model and engine part of an experiment file, from the extension's engine options. */
export function experimentBase(engine: EngineOptions): Pick<ExperimentFile, "version" | "model" | "engine"> {
  return {
    version: EXPERIMENT_FILE_VERSION,
    model: { path: engine.modelPath },
    engine: {
      gpu: engine.gpu, flashAttention: engine.flashAttention,
      // 0 in the settings means "the engine's default": left out, so the file means the same.
      ...(engine.contextSize > 0 ? { contextSize: engine.contextSize } : {}),
      ...(engine.threads > 0 ? { threads: engine.threads } : {}),
    },
  };
}

/**
 * "Compare Isolated vs Visible": P isolated (the config's mode), Q visible. Flash attention off
 * whatever the engine's setting: compare always runs without it (attention capture needs that).
 * The engine host runs exactly this file and stores it in the capture folder.
 */
export function compareExperimentFile(engine: EngineOptions, prompt: string, generation: GenerationConfig, attentionLayers: AttentionLayers | undefined, analysisWorkers?: number): ExperimentFile {
  const base = experimentBase(engine);
  return {
    ...base, engine: { ...base.engine, flashAttention: "off" }, command: "compare", prompt, generation,
    compare: { qMode: "visible", attentionLayers: attentionLayers ?? null, ...(analysisWorkers !== undefined ? { analysisWorkers } : {}) },
  };
}

/** "Run Completion Experiment": its arms, tasks, limit and baselines; every other setting tempo eval's default. */
export function evalExperimentFile(engine: EngineOptions, spec: ExperimentSpec): ExperimentFile {
  return {
    ...experimentBase(engine), command: "eval",
    eval: { arms: spec.arms, tasks: spec.tasksPath ?? null, limit: spec.limit ?? null, ...(spec.baselines ? { baselines: spec.baselines } : {}) },
  };
}
