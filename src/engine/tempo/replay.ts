/**
 * Teacher-forced replay: decode exactly a run's parallel sets again under another mode (or
 * batch layout) and record, at every step, each member's logits and the next-token
 * distribution under the run's policy. Comparing two free-running generations would compare
 * different texts; replay compares the same sets.
 */
import { TempoSession } from "../session.js";
import { GenerationResult, NextStepPolicy, StepEvent, TempoMode } from "../types.js";
import { resolveConfig } from "./config.js";
import { generate } from "./generate.js";

export interface ReplayRequest {
  promptTokens: number[];
  /** Token ids of each step's set, in member order. */
  sets: number[][];
  mode: TempoMode;
  policy: NextStepPolicy;
  temperature: number;
  scratchRow?: boolean;
  signal?: AbortSignal;
}

export interface ReplayStep {
  event: StepEvent;
  memberLogits: readonly Float32Array[];
  /** Next-token probabilities after this set, under the policy. */
  next: Float64Array;
}

/** The sets of a finished run, as replay input. */
export function setsOf(run: Pick<GenerationResult, "steps">): number[][] {
  return run.steps.map((s) => s.candidates.map((c) => c.token));
}

/** The primary path as width-1 sets (standard mode on the primary path). */
export function primaryPathOf(run: Pick<GenerationResult, "steps">): number[][] {
  return run.steps.map((s) => [s.candidates[0].token]);
}

export async function* replay(session: TempoSession, r: ReplayRequest): AsyncGenerator<ReplayStep, GenerationResult> {
  if (r.mode === "standard" && r.sets.some((s) => s.length !== 1)) {
    throw new Error("standard mode replays width-1 sets: use primaryPathOf(run)");
  }
  const maxWidth = Math.max(1, ...r.sets.map((s) => s.length));
  const config = resolveConfig({ mode: r.mode, policy: r.policy, temperature: r.temperature, maxWidth, maxSteps: Math.max(1, r.sets.length) });
  let last: { memberLogits: readonly Float32Array[]; next: Float64Array } | undefined;
  const it = generate(session, {
    promptTokens: r.promptTokens, config, forcedSets: r.sets, signal: r.signal, scratchRow: r.scratchRow,
    onDistributions: (_i, memberLogits, next) => { last = { memberLogits, next }; },
  });
  for (;;) {
    const step = await it.next();
    if (step.done) return step.value;
    yield { event: step.value, memberLogits: last!.memberLogits, next: last!.next };
  }
}
