/**
 * Every CLI command opens its model here, so the supervisor knows which file llama.cpp was
 * loading, or running on, if it aborts (src/cli/engine-child.ts).
 */
import { TempoModel } from "../engine/model.js";
import type { GpuChoice } from "../engine/llama/runtime.js";
import { reportPhase } from "./engine-child.js";

export async function openModel(path: string, gpu: GpuChoice): Promise<TempoModel> {
  reportPhase({ phase: "loading", model: path });
  const model = await TempoModel.open(path, { gpu });
  reportPhase({ phase: "running", model: path });
  return model;
}
