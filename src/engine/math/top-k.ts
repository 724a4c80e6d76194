/**
 * Bounded top-k selection, for the generation loop (the set, the head shown per step) and the
 * divergence metrics (top-k overlap): a sorted buffer of k entries behind a bar, so almost
 * every entry costs one compare and nothing the size of the row is copied or sorted.
 */

/**
 * Inserts (v, i) into the descending buffer holding `filled` of at most k entries (when full,
 * the last drops out); strict compares keep ties in index order. Returns the new count.
 */
export function insertTop(idx: Int32Array, val: Float64Array, filled: number, k: number, v: number, i: number): number {
  let j = filled < k ? filled++ : k - 1;
  while (j > 0 && v > val[j - 1]) {
    val[j] = val[j - 1];
    idx[j] = idx[j - 1];
    j--;
  }
  val[j] = v;
  idx[j] = i;
  return filled;
}

/**
 * The (at most) k largest values >= min whose index `accept` takes, as indices, descending,
 * ties to the lower index. `accept` is asked only about entries that would enter the list.
 */
export function topTokens(values: Float32Array | Float64Array, k: number, min = -Infinity, accept?: (token: number) => boolean): number[] {
  const n = values.length;
  const cap = Math.max(0, Math.min(k, n));
  const ids = new Int32Array(cap), vals = new Float64Array(cap);
  let filled = 0, i = 0;
  for (; i < n && filled < cap; i++) {
    const v = values[i];
    if (v >= min && (!accept || accept(i))) filled = insertTop(ids, vals, filled, cap, v, i);
  }
  // Full: an equal value loses to the lower index already held.
  for (let bar = vals[cap - 1]; i < n; i++) {
    const v = values[i];
    if (v > bar && (!accept || accept(i))) {
      insertTop(ids, vals, cap, cap, v, i);
      bar = vals[cap - 1];
    }
  }
  return Array.from(ids.subarray(0, filled));
}
