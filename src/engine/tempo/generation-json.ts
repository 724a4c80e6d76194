/**
 * A generation as JSON: what `tempo generate --json` prints and `POST /tempo/generate`
 * answers, from one function so the two never drift apart.
 */
import type { TempoSession } from "../session.js";
import type { GenerationConfig, GenerationResult } from "../types.js";

export function generationJson(session: TempoSession, config: GenerationConfig, result: GenerationResult) {
  return {
    config: { ...config, model: session.model.info.path, contextSize: session.contextSize, lanes: session.lanes, backend: session.model.runtime.backend, flashAttention: session.flashAttention },
    promptTokens: result.promptTokens,
    steps: result.steps.map((s) => ({ ...s })),
    stopReason: result.stopReason,
    text: result.text,
  };
}
