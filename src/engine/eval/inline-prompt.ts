/**
 * The text before an editor's cursor as the prompt of a live completion: cut to fit the
 * context, and told where the completion ends.
 */
import type { TruncationTarget } from "./completion.js";
import type { TaskLanguage } from "./tasks.js";

/**
 * Truncation for a completion of `prefix`: brace languages end at the `}` that closes the
 * innermost open block; Python at the first line back at the indentation of the last `def`
 * before the cursor (column 0 without one).
 */
export function inlineTruncationTarget(prefix: string, language: TaskLanguage): TruncationTarget {
  const defs = language === "python" ? [...prefix.matchAll(/^[ \t]*(?:async\s+)?def\s+(\w+)\s*\(/gm)] : [];
  return { prompt: prefix, language, entryPoint: defs.at(-1)?.[1] ?? "" };
}

/**
 * The longest tail of `prefix` that is at most `maxTokens` tokens: whole lines where possible
 * (a cut inside a line would start the prompt mid-token and mid-string), else the tail of the
 * last line. Token counts grow with the text, so binary searches over start offsets find it.
 */
export function fitPrefix(prefix: string, maxTokens: number, countTokens: (text: string) => number): string {
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError(`fitPrefix: maxTokens must be a positive integer, got ${maxTokens}`);
  if (countTokens(prefix) <= maxTokens) return prefix;
  const lineStarts = [0];
  for (let i = prefix.indexOf("\n"); i >= 0 && i + 1 < prefix.length; i = prefix.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  // Smallest index into `starts` whose tail fits (the last one always counts as a candidate).
  const firstFitting = (starts: readonly number[]): number => {
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (countTokens(prefix.slice(starts[mid])) <= maxTokens) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const line = lineStarts[firstFitting(lineStarts)];
  if (countTokens(prefix.slice(line)) <= maxTokens) return prefix.slice(line);
  const chars = Array.from({ length: prefix.length - line }, (_, i) => line + i);
  return prefix.slice(chars[firstFitting(chars)]);
}
