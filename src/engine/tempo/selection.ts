/**
 * Which tokens form a parallel set: every token with p >= cutoff, sorted by probability,
 * capped at maxWidth; the top-1 when none passes. End-of-generation tokens never join a set
 * (if the top token is EOG the run stops instead: the caller checks that first).
 *
 * Every helper here is one pass over the vocabulary that allocates nothing the size of it:
 * they run on every step of generation, where a full sort or a copy of a 32k row cost more
 * than the forward pass of a small model on a GPU.
 */
import { GenerationConfig } from "../types.js";

export interface SelectedMember { token: number; prob: number; rank: number }

/** Threshold in force at `step` under the configured schedule. */
export function thresholdAt(config: GenerationConfig, step: number): number {
  if (config.schedule === "constant" || config.maxSteps <= 1) return config.threshold;
  const f = Math.min(1, step / (config.maxSteps - 1));
  return config.threshold + (config.thresholdEnd - config.threshold) * f;
}

/**
 * The (at most) k largest values >= min whose index `accept` takes, as indices, descending,
 * ties to the lower index. Bounded selection: once k are held, a value must beat the last of
 * them, so almost every entry costs one compare, and `accept` is asked only about entries
 * that would enter the list.
 */
export function topTokens(values: Float32Array | Float64Array, k: number, min = -Infinity, accept?: (token: number) => boolean): number[] {
  const ids: number[] = [], vals: number[] = [];
  const n = values.length;
  let i = 0;
  for (; i < n && ids.length < k; i++) {
    const v = values[i];
    if (v >= min && (!accept || accept(i))) insertTop(ids, vals, k, i, v);
  }
  // Full: an equal value loses to the lower index already held.
  for (let bar = vals[k - 1]; i < n; i++) {
    const v = values[i];
    if (v > bar && (!accept || accept(i))) {
      insertTop(ids, vals, k, i, v);
      bar = vals[k - 1];
    }
  }
  return ids;
}

/** Inserts (id, v) after every held value >= v; when k are held, the last one drops out. */
function insertTop(ids: number[], vals: number[], k: number, id: number, v: number): void {
  let j = Math.min(ids.length, k - 1);
  for (; j > 0 && vals[j - 1] < v; j--) { ids[j] = ids[j - 1]; vals[j] = vals[j - 1]; }
  ids[j] = id;
  vals[j] = v;
}

export function selectSet(probs: Float64Array, threshold: number, relativeAlpha: number, maxWidth: number, isEog: (t: number) => boolean): SelectedMember[] {
  const [top] = topTokens(probs, 1);
  const cutoff = Math.max(threshold, relativeAlpha * probs[top]);
  const passing = topTokens(probs, maxWidth, cutoff, (t) => !isEog(t));
  const chosen = passing.length ? passing : [top];
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
