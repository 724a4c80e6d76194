/**
 * Which tokens form a parallel set: every token with p >= cutoff, sorted by probability,
 * capped at maxWidth; the top-1 when none passes. End-of-generation tokens never join a set
 * (if the top token is EOG the run stops instead, once min steps are done: the caller checks).
 *
 * Every helper here is one pass over the vocabulary that allocates nothing the size of it:
 * they run on every step of generation, where a full sort or a copy of a 32k row cost more
 * than the forward pass of a small model on a GPU.
 */
import { topTokens } from "../math/top-k.js";

export interface SelectedMember { token: number; prob: number; rank: number }

export function selectSet(probs: Float64Array, threshold: number, relativeAlpha: number, maxWidth: number, isEog: (t: number) => boolean): SelectedMember[] {
  const [top] = topTokens(probs, 1);
  const cutoff = Math.max(threshold, relativeAlpha * probs[top]);
  const passing = topTokens(probs, maxWidth, cutoff, (t) => !isEog(t));
  // None passes: the most probable token that may join a set (the top one unless it is EOG,
  // which the caller lets through only before min steps).
  const chosen = passing.length ? passing : isEog(top) ? topTokens(probs, 1, -Infinity, (t) => !isEog(t)) : [top];
  // Ranks in the full distribution: members are the head of it, minus any EOG tokens above them.
  const ranks = ranksOf(probs, chosen);
  return chosen.map((token, j) => ({ token, prob: probs[token], rank: ranks[j] }));
}

/**
 * Rank of each of `tokens` in the whole distribution (0 = most probable; ties to the lower
 * id), in one pass: each token of the vocabulary is compared with the least of them first.
 */
export function ranksOf(probs: Float64Array, tokens: readonly number[]): number[] {
  const m = tokens.length;
  const outranks = (i: number, t: number) => probs[i] > probs[t] || (probs[i] === probs[t] && i < t);
  // Members from the highest rank to the lowest; starts[r] counts the tokens that outrank
  // order[r..] but not order[r - 1].
  const order = tokens.map((_, j) => j).sort((a, b) => (outranks(tokens[a], tokens[b]) ? -1 : 1));
  const starts = new Array<number>(m).fill(0);
  const last = tokens[order[m - 1]], pLast = probs[last];
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (!(p > pLast || (p === pLast && i < last))) continue;
    let r = m - 1;
    while (r > 0 && outranks(i, tokens[order[r - 1]])) r--;
    starts[r]++;
  }
  const ranks = new Array<number>(m);
  for (let r = 0, sum = 0; r < m; r++) { sum += starts[r]; ranks[order[r]] = sum; }
  return ranks;
}
