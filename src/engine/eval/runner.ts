/**
 * The completion experiment: every task under every arm (standard greedy, TEMPO isolated /
 * visible / causal) on one session, the same settings otherwise; each run turned into
 * completions (primary path, best-of-set path, the top paths as pass@k samples), each
 * completion executed in the sandbox. Callers (CLI, extension) get progress, can abort, and
 * receive one result object.
 */
import { performance } from "node:perf_hooks";
import type { TempoSession } from "../session.js";
import { TempoInputError } from "../errors.js";
import { resolveConfig } from "../tempo/config.js";
import type { GenerationConfig, NextStepPolicy, StopReason, TempoMode } from "../types.js";
import { passAtK } from "../analysis/stats.js";
import { editSimilarity, exactMatch, programSource, type Truncation } from "./completion.js";
import { generateCompletionPaths, type GeneratedPaths } from "./completion-paths.js";
import { DEFAULT_EXEC, executeProgram, pythonMissing, sandboxInfo, type ExecOptions, type ExecResult, type ExecStatus, type SandboxInfo } from "./sandbox.js";
import type { EvalTask } from "./tasks.js";

export interface EvalSettings {
  arms: TempoMode[];
  threshold: number;
  maxWidth: number;
  maxSteps: number;
  policy: NextStepPolicy;
  /** Most paths taken from one TEMPO run as pass@k samples. */
  pathCap: number;
  /** k values for pass@k. */
  ks: number[];
  exec: ExecOptions;
  /** Programs executed at once. */
  concurrency: number;
}

export const DEFAULT_EVAL_SETTINGS: EvalSettings = {
  arms: ["standard", "isolated", "visible"],
  threshold: 0.1,
  maxWidth: 4,
  maxSteps: 128,
  policy: "mixture",
  pathCap: 32,
  ks: [1, 5, 10],
  exec: DEFAULT_EXEC,
  concurrency: 2,
};

export interface ScoredCompletion {
  /** Index into the item's `completions`. */
  completion: number;
  pass: boolean;
  exact: boolean;
  editSimilarity: number;
}

export interface CompletionRecord {
  text: string;
  /** Whether the function was seen to end. */
  closed: boolean;
  status: ExecStatus;
  exact: boolean;
  editSimilarity: number;
  durationMs: number;
  /** Test output (cut). */
  output: string;
}

export interface ItemResult {
  taskId: string;
  category?: string;
  language: string;
  arm: TempoMode;
  stopReason: StopReason | "function-end" | "error";
  steps: number;
  /** Tokens decoded in sets (the width summed over steps). */
  setTokens: number;
  forwardPasses: number;
  evaluatedTokens: number;
  generateMs: number;
  executeMs: number;
  /** The path of each set's most probable member. */
  primary: ScoredCompletion;
  /** The path whose truncated completion the model scores highest (sum of member log-probs). */
  best: ScoredCompletion & { path: number; logprob: number };
  /** Paths through the sets, best first (at most pathCap); `total` counts all of them. */
  paths: { total: number; n: number; passed: number; list: { logprob: number; completion: number }[] };
  /** Distinct completions of this item, executed once each. */
  completions: CompletionRecord[];
  /** Unbiased pass@k over the paths, null where n < k. */
  passAtK: Record<string, number | null>;
  /** True when the task could not run here (Python without an interpreter, a prompt longer than the context); see `error`. */
  skipped: boolean;
  error?: string;
}

export interface EvalProgress {
  /** Task × arm units finished (generated and executed). */
  done: number;
  total: number;
  taskId: string;
  arm: TempoMode;
}

export interface EvalRun {
  settings: EvalSettings;
  configs: Record<string, GenerationConfig>;
  sandbox: SandboxInfo;
  items: ItemResult[];
  aborted: boolean;
  wallMs: number;
}

export interface EvalRequest {
  session: TempoSession;
  tasks: readonly EvalTask[];
  settings?: Partial<EvalSettings>;
  signal?: AbortSignal;
  onProgress?: (p: EvalProgress) => void;
  /** Each task × arm result as it finishes (completion order, not task order). */
  onItem?: (item: ItemResult) => void;
  /** Units a resumed run finished before (--resume): kept as they are, not run again, not passed to onItem. */
  previous?: readonly ItemResult[];
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const MAX_MEMORY_MB = 1024 * 1024;

export function resolveEvalSettings(partial: Partial<EvalSettings> = {}): EvalSettings {
  const s: EvalSettings = { ...DEFAULT_EVAL_SETTINGS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  if (s.arms.length === 0) throw new TempoInputError("at least one arm is needed");
  if (new Set(s.arms).size !== s.arms.length) throw new TempoInputError(`an arm is named twice: ${s.arms.join(", ")}`);
  if (!Number.isInteger(s.pathCap) || s.pathCap < 1 || s.pathCap > 4096) throw new TempoInputError("the path cap must be an integer in [1, 4096]");
  if (s.ks.length === 0 || s.ks.some((k) => !Number.isInteger(k) || k < 1)) throw new TempoInputError("pass@k needs positive integer k values");
  // setTimeout fires at once for delays past 2^31-1 ms, so a larger limit would be no limit at all.
  if (!(s.exec.timeoutMs >= 100 && s.exec.timeoutMs <= MAX_TIMEOUT_MS)) throw new TempoInputError(`the execution time limit must be from 100 to ${MAX_TIMEOUT_MS} ms`);
  if (!(Number.isInteger(s.exec.memoryMb) && s.exec.memoryMb >= 16 && s.exec.memoryMb <= MAX_MEMORY_MB)) throw new TempoInputError(`the memory limit must be an integer from 16 to ${MAX_MEMORY_MB} MiB`);
  if (!Number.isInteger(s.concurrency) || s.concurrency < 1) throw new TempoInputError("concurrency must be a positive integer");
  return s;
}

/** Generation settings of one arm: only the mode differs between arms. */
export function armConfig(settings: EvalSettings, arm: TempoMode): GenerationConfig {
  return resolveConfig({ mode: arm, policy: settings.policy, threshold: settings.threshold, maxWidth: settings.maxWidth, maxSteps: settings.maxSteps });
}

class Limiter {
  private active = 0;
  private waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export async function runEval(request: EvalRequest): Promise<EvalRun> {
  const { session, tasks, signal, onProgress, onItem } = request;
  const settings = resolveEvalSettings(request.settings);
  const configs = Object.fromEntries(settings.arms.map((arm) => [arm, armConfig(settings, arm)]));
  const widest = Math.max(...Object.values(configs).map((c) => c.maxWidth));
  if (widest > session.lanes) throw new TempoInputError(`max width ${widest} exceeds the session's ${session.lanes} lanes`);
  const started = performance.now();
  const limiter = new Limiter(settings.concurrency);
  const total = tasks.length * settings.arms.length;
  const items: ItemResult[] = [];
  const pending: Promise<void>[] = [];
  const unitKey = (taskId: string, arm: string) => JSON.stringify([taskId, arm]);
  const previous = new Map((request.previous ?? []).map((item) => [unitKey(item.taskId, item.arm), item]));
  let done = 0;
  let aborted = false;
  const finished = (item: ItemResult) => {
    items.push(item);
    onItem?.(item);
    onProgress?.({ done: ++done, total, taskId: item.taskId, arm: item.arm });
  };
  const noPython = tasks.some((t) => t.language === "python") ? pythonMissing(settings.exec) : null;

  outer: for (const task of tasks) {
    // Same program text (across paths and arms of one task) runs once.
    const executed = new Map<string, Promise<ExecResult>>();
    const execute = (program: string) => {
      let p = executed.get(program);
      if (!p) {
        p = limiter.run(() => executeProgram(program, task.entryPoint, task.language, settings.exec, signal));
        executed.set(program, p);
      }
      return p;
    };
    for (const arm of settings.arms) {
      if (signal?.aborted) { aborted = true; break outer; }
      const before = previous.get(unitKey(task.taskId, arm));
      if (before) {
        items.push(before);
        onProgress?.({ done: ++done, total, taskId: task.taskId, arm });
        continue;
      }
      if (task.language === "python" && noPython) {
        // Not generated at all: it could not be scored, and it is no failure of the model.
        finished(unrunnable(task, arm, noPython));
        continue;
      }
      let generated;
      try {
        generated = await generateCompletionPaths(session, task, configs[arm], settings.pathCap, signal);
      } catch (e) {
        if (!(e instanceof TempoInputError)) throw e;
        finished(unrunnable(task, arm, e.message));
        continue;
      }
      if (generated === null) { aborted = true; break outer; }
      pending.push(scoreArm(task, arm, generated, settings.ks, execute).then(finished, (e: unknown) => {
        // An abort kills the programs still running: that unit is left out, unfinished.
        if (!signal?.aborted) throw e;
        aborted = true;
      }));
    }
  }
  await Promise.all(pending);
  const order = new Map(tasks.map((t, i) => [t.taskId, i]));
  items.sort((a, b) => order.get(a.taskId)! - order.get(b.taskId)! || settings.arms.indexOf(a.arm) - settings.arms.indexOf(b.arm));
  return { settings, configs, sandbox: sandboxInfo(settings.exec.python), items, aborted, wallMs: performance.now() - started };
}

/** A task the engine refused (e.g. its prompt does not fit the context): left out of the analysis. */
function unrunnable(task: EvalTask, arm: TempoMode, error: string): ItemResult {
  const none = { completion: -1, pass: false, exact: false, editSimilarity: 0 };
  return {
    taskId: task.taskId, category: task.category, language: task.language, arm, stopReason: "error", steps: 0, setTokens: 0, forwardPasses: 0,
    evaluatedTokens: 0, generateMs: 0, executeMs: 0, primary: none, best: { ...none, path: -1, logprob: NaN },
    paths: { total: 0, n: 0, passed: 0, list: [] }, completions: [], passAtK: {}, skipped: true, error,
  };
}

async function scoreArm(task: EvalTask, arm: TempoMode, g: GeneratedPaths, ks: readonly number[], execute: (program: string) => Promise<ExecResult>): Promise<ItemResult> {
  const byText = new Map<string, number>();
  const records: Promise<CompletionRecord>[] = [];
  const indexOf = (t: Truncation): number => {
    let i = byText.get(t.text);
    if (i === undefined) {
      i = records.length;
      byText.set(t.text, i);
      records.push(execute(programSource(task, t)).then((r) => ({
        text: t.text, closed: t.closed, status: r.status, durationMs: r.durationMs, output: r.output.slice(0, 2000),
        exact: exactMatch(t.text, task.canonicalSolution), editSimilarity: editSimilarity(t.text, task.canonicalSolution),
      })));
    }
    return i;
  };
  const list = g.paths.map((p) => ({ logprob: p.logprob, completion: indexOf(p.truncation) }));
  const completions = await Promise.all(records);
  let bestPath = 0;
  g.paths.forEach((p, i) => { if (p.scoredLogprob > g.paths[bestPath].scoredLogprob) bestPath = i; });
  const scored = (completion: number): ScoredCompletion => {
    const c = completions[completion];
    return { completion, pass: c.status === "pass", exact: c.exact, editSimilarity: c.editSimilarity };
  };
  const n = list.length;
  const passed = list.filter((p) => completions[p.completion].status === "pass").length;
  return {
    taskId: task.taskId, category: task.category, language: task.language, arm,
    stopReason: g.stopReason, steps: g.steps, setTokens: g.setTokens, forwardPasses: g.forwardPasses, evaluatedTokens: g.evaluatedTokens,
    generateMs: g.generateMs, executeMs: completions.reduce((a, c) => a + c.durationMs, 0),
    primary: scored(list[0].completion),
    best: { ...scored(list[bestPath].completion), path: bestPath, logprob: g.paths[bestPath].scoredLogprob },
    paths: { total: g.totalPaths, n, passed, list },
    completions,
    passAtK: Object.fromEntries(ks.map((k) => [String(k), n >= k ? passAtK(n, passed, k) : null])),
    skipped: completions.some((c) => c.status === "skipped"),
  };
}
