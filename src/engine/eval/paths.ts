/**
 * Paths through the parallel sets of one TEMPO run: a path takes one member of each set.
 * Its score is the sum of the chosen members' log-probabilities, as the model gave them
 * when the set was selected.
 */
import type { StepEvent } from "../types.js";

export interface SetPath {
  /** Member index chosen at each step (0 = the set's most probable member). */
  choice: number[];
  tokens: number[];
  /** Sum of the chosen members' log-probabilities over all steps. */
  logprob: number;
}

/** Number of paths through the sets (product of set sizes; may be huge). */
export function countPaths(steps: readonly StepEvent[]): number {
  return steps.reduce((n, s) => n * s.candidates.length, 1);
}

/**
 * The `cap` most likely paths, best first. Exact: the score is a sum of independent
 * per-step terms, so a path in the overall top `cap` has a prefix in the top `cap` prefixes
 * (otherwise `cap` better prefixes with its suffix would beat it), and a beam of width `cap`
 * over prefixes loses nothing. Ties keep the lexicographically smaller choice first.
 */
export function topPaths(steps: readonly StepEvent[], cap: number): SetPath[] {
  if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`topPaths: cap must be a positive integer, got ${cap}`);
  let beam: { choice: number[]; logprob: number }[] = [{ choice: [], logprob: 0 }];
  for (const step of steps) {
    const cands = step.candidates;
    const next: { choice: number[]; logprob: number }[] = [];
    for (const p of beam) for (let j = 0; j < cands.length; j++) next.push({ choice: [...p.choice, j], logprob: p.logprob + cands[j].logprob });
    next.sort((a, b) => b.logprob - a.logprob || compareChoice(a.choice, b.choice));
    beam = next.slice(0, cap);
  }
  return beam.map((p) => ({ choice: p.choice, tokens: p.choice.map((j, i) => steps[i].candidates[j].token), logprob: p.logprob }));
}

function compareChoice(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * Smallest number of leading tokens whose text is at least `chars` long (text length never
 * shrinks as tokens are added), by binary search over prefixes.
 */
export function tokensCovering(tokens: readonly number[], chars: number, pathText: (t: number[]) => string): number {
  let lo = 0, hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pathText(tokens.slice(0, mid)).length >= chars) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
