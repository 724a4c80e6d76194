/**
 * The data shapes every part of TEMPO shares: the CLI's JSON, the engine host protocol,
 * the capture files, the analysis and the UI all read these.
 */

/** How members of one parallel set see each other. `standard` is width-1 greedy decoding. */
export type TempoMode = "isolated" | "visible" | "causal" | "standard";
export const TEMPO_MODES: readonly TempoMode[] = ["isolated", "visible", "causal", "standard"];

/** Which next-token distribution the step after a set is selected from. */
export type NextStepPolicy = "mixture" | "top" | "last";
export const NEXT_STEP_POLICIES: readonly NextStepPolicy[] = ["mixture", "top", "last"];

/** How the threshold evolves over steps. */
export type ThresholdSchedule = "constant" | "linear" | "cosine";
export const THRESHOLD_SCHEDULES: readonly ThresholdSchedule[] = ["constant", "linear", "cosine"];

export interface GenerationConfig {
  mode: TempoMode;
  policy: NextStepPolicy;
  /** Keep tokens with p >= threshold (absolute rule). In (0, 1]. */
  threshold: number;
  /** Relative rule: the cutoff is max(threshold, alpha * p_max). 0 disables it. */
  relativeAlpha: number;
  schedule: ThresholdSchedule;
  /** For `linear` and `cosine`: the threshold at the last step (src/engine/tempo/schedule.ts). */
  thresholdEnd: number;
  /** Cap on set size; at most the session's lane count. */
  maxWidth: number;
  maxSteps: number;
  /** End-of-generation tokens cannot end the run (nor join a set) before this step. 0: no delay. */
  minSteps: number;
  temperature: number;
  stopStrings: string[];
}

export interface Candidate {
  token: number;
  /** Display text: UTF-8 of the piece, or `<0xNN>` for bytes that are not a whole character. */
  text: string;
  /** A special token's name (`<s>`); such tokens have empty `text`. Absent for text tokens. */
  special?: string;
  prob: number;
  logprob: number;
  /** 0-based rank in the distribution the step selected from. */
  rank: number;
  /** KV cell the member occupies. */
  cell: number;
  /** Set once its set is decided by retroactive pruning (PruneDecision): the member's score. */
  pruneScore?: number;
  /** Set once decided: the member left the cache's visible sequences (later tokens do not see it). */
  pruned?: boolean;
}

export interface TopEntry { token: number; text: string; special?: string; prob: number }

export type StopReason = "eog" | "max-steps" | "stop-string" | "context-full" | "aborted";

export interface StepEvent {
  index: number;
  /** Shared RoPE position of every member of the set. */
  position: number;
  mode: TempoMode;
  policy: NextStepPolicy;
  /** Threshold in force at this step (after the schedule). */
  threshold: number;
  /** Sorted by descending probability. */
  candidates: Candidate[];
  /** Head of the distribution the set was selected from (includes runner-ups that missed). */
  top: TopEntry[];
  entropy: number;
  /** Probability mass covered by the set. */
  setMass: number;
  timings: { decodeMs: number; selectMs: number };
  /** Retroactive pruning decided an earlier set right after this step's decode. */
  pruning?: PruneDecision;
}

/** What was decided for one set, carried by the event of the step that decided it. */
export interface PruneDecision {
  /** Step of the set decided. */
  step: number;
  /** Per member, in member order: the mean attention the lookahead steps' query rows paid to its cell, over the captured layers and their heads. */
  scores: number[];
  /** Per member: it left the cache's visible sequences. */
  pruned: boolean[];
}

/** One row of the session's index table: where a token lives. */
export interface TokenRecord {
  token: number;
  /** -1 for prompt tokens. */
  step: number;
  position: number;
  cell: number;
  /** Sequence ids the token carries; the first decides what it sees. */
  seqIds: number[];
  /** Row in the batch (decode call) it was fed in. */
  batchRow: number;
  /** Ordinal of the llama_decode call. */
  decodeCall: number;
  /** The cell left main and the lanes (TempoSession.pruneMembers): no token decoded since sees it. */
  pruned?: boolean;
}

export interface GenerationResult {
  config: GenerationConfig;
  promptTokens: number[];
  steps: StepEvent[];
  stopReason: StopReason;
  /** Primary path (top candidate per step). */
  text: string;
}
