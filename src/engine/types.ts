/**
 * The data shapes every part of TEMPO shares: the CLI's JSON, the engine host protocol,
 * the capture files, the analysis and the UI all read these.
 */

// The settings' names, choices and ranges are declared once, in the protocol module that the
// extension and the page share; the engine takes its types from there.
export {
  TEMPO_MODES, NEXT_STEP_POLICIES, THRESHOLD_SCHEDULES, STOP_REASONS,
  type TempoMode, type NextStepPolicy, type ThresholdSchedule, type StopReason, type GenerationConfig,
} from "../protocol/generation.js";
import type { GenerationConfig, NextStepPolicy, StopReason, TempoMode } from "../protocol/generation.js";
import type { PruneDecision } from "../protocol/pruning.js";

export type { PruneDecision } from "../protocol/pruning.js";

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
