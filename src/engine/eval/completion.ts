/**
 * From generated text to a scored completion: cut at the end of the function, then exact
 * match and edit similarity against the reference body.
 */
import { distance } from "fastest-levenshtein";
import { EvalTask, escapeRegExp, openBraces, scanJs } from "./tasks.js";

export interface Truncation {
  /** The completion up to and including the end of the function. */
  text: string;
  /** Whether the function was seen to end; otherwise `text` is everything generated. */
  closed: boolean;
  /** Characters of the generated text that the completion uses. */
  used: number;
  /** What the harness appends to close the scopes around the function (a class's `}`). */
  closing: string;
}

/**
 * What truncation reads of a task: the text before the completion, its language, and (Python)
 * the function's name. Live inline completions pass the text before the cursor.
 */
export type TruncationTarget = Pick<EvalTask, "prompt" | "language" | "entryPoint">;

/**
 * JS: counts braces from the prompt's open ones and cuts after the `}` that closes the
 * function being completed. Python: cuts before the first non-blank line indented no deeper
 * than the `def`.
 */
export function truncateCompletion(task: TruncationTarget, generated: string): Truncation {
  if (task.language === "python") return truncatePython(task, generated);
  const depth = openBraces(task.prompt);
  if (depth < 1) return { text: generated, closed: false, used: generated.length, closing: "" };
  let level = depth;
  const end = scanJs(generated, (ch) => {
    if (ch === "{") level++;
    else if (ch === "}") level--;
    return level === depth - 1;
  });
  const closing = "}\n".repeat(depth - 1);
  if (end < 0) return { text: generated, closed: false, used: generated.length, closing };
  return { text: generated.slice(0, end + 1) + "\n", closed: true, used: end + 1, closing };
}

function truncatePython(task: TruncationTarget, generated: string): Truncation {
  const def = new RegExp(`^([ \\t]*)(async\\s+)?def\\s+${escapeRegExp(task.entryPoint)}\\s*\\(`, "m").exec(task.prompt);
  const defIndent = def ? def[1].length : 0;
  const lines = generated.split("\n");
  // A prompt that ends mid-line (a cursor after indentation): the first line continues it.
  const continues = task.prompt !== "" && !task.prompt.endsWith("\n");
  for (let i = continues ? 1 : 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    const indent = line.length - line.trimStart().length;
    if (indent <= defIndent) {
      const kept = lines.slice(0, i).join("\n").replace(/\s+$/, "");
      return { text: kept + "\n", closed: true, used: kept.length, closing: "" };
    }
  }
  return { text: generated, closed: false, used: generated.length, closing: "" };
}

/** Whitespace-normalised text: runs of whitespace become one space, ends trimmed. */
export function normalizeWhitespace(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

export function exactMatch(completion: string, reference: string): boolean {
  return normalizeWhitespace(completion) === normalizeWhitespace(reference);
}

/**
 * Edit similarity: 1 - Levenshtein(a, b) / max(|a|, |b|) on the whitespace-normalised texts
 * (UTF-16 code units); 1 when both are empty.
 */
export function editSimilarity(completion: string, reference: string): number {
  const a = normalizeWhitespace(completion), b = normalizeWhitespace(reference);
  const longest = Math.max(a.length, b.length);
  return longest === 0 ? 1 : 1 - distance(a, b) / longest;
}

/** The program the sandbox runs, minus the harness's own check call. */
export function programSource(task: EvalTask, completion: Truncation): string {
  return `${task.prompt}${completion.text}${completion.closing}\n${task.test}\n`;
}
