/**
 * Task files in the HumanEval layout (one JSON object per line: task_id, prompt,
 * canonical_solution, test, entry_point). A program under test is
 * `prompt + completion + closing + test + check(entry_point)`; `closing` closes whatever the
 * prompt left open around the function being completed (a class around a method).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TempoInputError } from "../errors.js";

export type TaskLanguage = "javascript" | "python";

export interface EvalTask {
  taskId: string;
  prompt: string;
  canonicalSolution: string;
  test: string;
  entryPoint: string;
  language: TaskLanguage;
  /** Optional grouping (the built-in suite's categories). */
  category?: string;
  /** 1-based line in the task file, for messages. */
  line: number;
}

export const BUILTIN_TASKS_PATH = fileURLToPath(new URL("./tasks/builtin.jsonl", import.meta.url));

const REQUIRED = ["task_id", "prompt", "canonical_solution", "test", "entry_point"] as const;

/**
 * Python when the prompt defines the entry point with `def` (HumanEval's Python layout),
 * JavaScript otherwise (JS prompts carry their types as JSDoc, so they run as they are).
 */
export function detectLanguage(prompt: string, entryPoint: string): TaskLanguage {
  return new RegExp(`^\\s*(async\\s+)?def\\s+${escapeRegExp(entryPoint)}\\s*\\(`, "m").test(prompt) ? "python" : "javascript";
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Parses JSONL task text; every problem is reported with its line number, all at once. */
export function parseTasks(text: string, source = "tasks"): EvalTask[] {
  const tasks: EvalTask[] = [];
  const errors: string[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === "") return;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      errors.push(`${source}:${line}: not valid JSON (${(e as Error).message})`);
      return;
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      errors.push(`${source}:${line}: expected a JSON object`);
      return;
    }
    const rec = obj as Record<string, unknown>;
    const bad = REQUIRED.filter((k) => typeof rec[k] !== "string" || (k !== "canonical_solution" && (rec[k] as string).trim() === ""));
    if (bad.length) {
      errors.push(`${source}:${line}: missing or empty string field(s): ${bad.join(", ")}`);
      return;
    }
    const taskId = rec.task_id as string;
    const entryPoint = rec.entry_point as string;
    if (!/^[A-Za-z_$][\w$]*$/.test(entryPoint)) {
      errors.push(`${source}:${line}: entry_point "${entryPoint}" is not an identifier`);
      return;
    }
    const first = seen.get(taskId);
    if (first !== undefined) {
      errors.push(`${source}:${line}: duplicate task_id "${taskId}" (first on line ${first})`);
      return;
    }
    seen.set(taskId, line);
    const prompt = rec.prompt as string;
    tasks.push({
      taskId, prompt, canonicalSolution: rec.canonical_solution as string, test: rec.test as string, entryPoint,
      language: detectLanguage(prompt, entryPoint),
      category: typeof rec.category === "string" ? rec.category : undefined,
      line,
    });
  });
  if (errors.length) {
    const shown = errors.slice(0, 5).join("; ");
    throw new TempoInputError(errors.length > 5 ? `${shown}; and ${errors.length - 5} more` : shown);
  }
  if (tasks.length === 0) throw new TempoInputError(`${source}: no tasks`);
  return tasks;
}

export function loadTasks(path: string = BUILTIN_TASKS_PATH): EvalTask[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new TempoInputError(`cannot read the task file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseTasks(text, path);
}

/** The first `limit` tasks of `path` (the built-in suite when absent), and a label for the source. */
export function selectTasks(path: string | undefined, limit: number | undefined): { tasks: EvalTask[]; source: string } {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new TempoInputError("--limit must be a positive integer");
  const all = loadTasks(path ?? BUILTIN_TASKS_PATH);
  return { tasks: limit === undefined ? all : all.slice(0, limit), source: path ?? "built-in suite (src/engine/eval/tasks/builtin.jsonl)" };
}

/** Unclosed `{` in JS code, skipping strings, template literals and comments. */
export function openBraces(code: string): number {
  let depth = 0;
  scanJs(code, (ch) => {
    if (ch === "{") depth++;
    else if (ch === "}") depth--;
    return false;
  });
  return depth;
}

/**
 * Walks JS source calling `visit` for each character that is code (not inside a string,
 * template text or comment) with its index; stops when `visit` returns true and returns
 * that index, or -1. Template `${...}` bodies count as code. Regex literals are not
 * recognised (a brace inside one would be miscounted); generated function bodies rarely
 * hold them, and a miscount only ever cuts a completion that then fails its tests.
 */
export function scanJs(code: string, visit: (ch: string, index: number) => boolean): number {
  type Mode = "code" | "line" | "block" | "'" | '"' | "`";
  const modes: Mode[] = ["code"];
  const templateDepth: number[] = []; // brace depth at which each `${` was opened
  let braces = 0;
  for (let i = 0; i < code.length; i++) {
    const ch = code[i];
    const mode = modes[modes.length - 1];
    if (mode === "line") { if (ch === "\n") modes.pop(); continue; }
    if (mode === "block") { if (ch === "*" && code[i + 1] === "/") { modes.pop(); i++; } continue; }
    if (mode === "'" || mode === '"') {
      if (ch === "\\") i++;
      else if (ch === mode || ch === "\n") modes.pop();
      continue;
    }
    if (mode === "`") {
      if (ch === "\\") i++;
      else if (ch === "`") modes.pop();
      else if (ch === "$" && code[i + 1] === "{") { modes.push("code"); templateDepth.push(braces); braces++; i++; }
      continue;
    }
    // code
    if (ch === "/" && code[i + 1] === "/") { modes.push("line"); i++; continue; }
    if (ch === "/" && code[i + 1] === "*") { modes.push("block"); i++; continue; }
    if (ch === "'" || ch === '"' || ch === "`") { modes.push(ch); continue; }
    if (ch === "{") braces++;
    if (ch === "}") {
      braces--;
      if (templateDepth.length && templateDepth[templateDepth.length - 1] === braces) { templateDepth.pop(); modes.pop(); continue; }
    }
    if (visit(ch, i)) return i;
  }
  return -1;
}
