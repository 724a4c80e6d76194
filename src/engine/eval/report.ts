/**
 * The experiment's files: results.jsonl (one line per task × arm, every number recomputable),
 * summary.json, report.md and report.html.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../capture/atomic.js";
import { PARTIAL_RESULTS } from "../capture/out-dir.js";
import { escapeHtml, escapeMarkdownCell, fmt } from "../analysis/report-format.js";
import type { Interval } from "../analysis/stats.js";
import type { TempoSession } from "../session.js";
import { SessionGroup } from "../session-group.js";
import { type EvalRequest, type EvalRun, runEval } from "./runner.js";
import { type EvalSummary, type MeanEstimate, type Proportion, summarizeEval } from "./summary.js";
import type { ShardRecord } from "../../protocol/shard.js";

export const EVAL_FILES = { results: "results.jsonl", summary: "summary.json", md: "report.md", html: "report.html" } as const;

export interface EvalMeta {
  model: { fileName: string; path: string; sha256: string; description: string };
  engine: { nodeLlamaCpp: string; llamaCpp: string; backend: string };
  /** `promptsPerDecode`: seats of a SessionGroup (1: one session); contextSize, lanes and batchSize are each seat's. */
  context: { contextSize: number; lanes: number; batchSize: number; flashAttention: string; threads: number; automaticThreads: boolean; promptsPerDecode: number };
  /** `count`: the tasks this folder ran (a shard's, or the whole suite's). */
  tasks: { source: string; count: number; limit: number | null };
  startedAt: string;
  /** Present in a shard's folder (docs/scale.md): which shard, of how many, of which suite. */
  shard?: ShardRecord;
}

export async function evalMeta(engine: TempoSession | SessionGroup, taskSource: string, taskCount: number, limit: number | null, shard?: ShardRecord): Promise<EvalMeta> {
  const session = engine instanceof SessionGroup ? engine.seats[0] : engine;
  const m = session.model;
  return {
    model: { fileName: m.info.fileName, path: m.info.path, sha256: await m.sha256(), description: m.info.description },
    engine: { nodeLlamaCpp: m.runtime.versions.nodeLlamaCpp, llamaCpp: m.runtime.versions.llamaCpp, backend: m.runtime.backend },
    context: { contextSize: session.contextSize, lanes: session.lanes, batchSize: session.batchSize, flashAttention: session.flashAttention, threads: session.maxThreads, automaticThreads: session.autoThreads, promptsPerDecode: engine instanceof SessionGroup ? engine.size : 1 },
    tasks: { source: taskSource, count: taskCount, limit },
    startedAt: new Date().toISOString(),
    ...(shard ? { shard } : {}),
  };
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "—");
const interval = (i: Interval | null, scale: (x: number) => string = fmt) => (i ? `[${scale(i.lo)}, ${scale(i.hi)}]` : "—");
const prop = (p: Proportion) => `${p.count}/${p.n} = ${pct(p.n ? p.count / p.n : NaN)} ${interval(p.wilson, pct)}`;
const meanEst = (m: MeanEstimate) => (m.n ? `${fmt(m.mean)} ${interval(m.bootstrap)} (n=${m.n})` : "—");

export interface EvalTable { title: string; note?: string; table: { head: string[]; rows: string[][] } }

/** Skipped tasks as one phrase: "6 skipped (no Python interpreter: …: 6)", or "" when none. */
export function skippedPhrase(summary: EvalSummary): string {
  const n = summary.skippedTasks.length;
  if (n === 0) return "";
  return `${n} task${n === 1 ? "" : "s"} skipped, not counted as failures (${Object.entries(summary.skipReasons).map(([why, k]) => `${why}: ${k}`).join("; ")})`;
}

/** The report's tables (cells are plain text; `**…**` marks the primary metric). */
export function evalTables(run: EvalRun, summary: EvalSummary): EvalTable[] {
  const ks = run.settings.ks.map(String);
  const b = run.settings.baselines;
  const matched: EvalTable[] = b ? [{
    title: `Matched compute: baselines at the rows of ${b.match}`,
    note: `On each task a baseline may decode as many rows as ${b.match} decoded on it (tokens evaluated, prompt included; the prompt is decoded once). `
      + `${b.arms.includes("sample") ? `sample: best-of-n seeded sampling (temperature ${b.temperature}, top-p ${b.topP}, sample i seeded ${b.seed} + i, at most ${run.settings.pathCap} samples); its primary is the most likely sample. ` : ""}`
      + `${b.arms.includes("beam") ? `beam: beam search of width ${b.beamWidth}, no length penalty; its primary is the top beam, re-decoded prefixes count as rows. ` : ""}`
      + "pass@k is over the paths, samples or beams of each task. Rows decoded are what llama.cpp evaluated, per task.",
    table: {
      head: ["arm", "budget rows", "rows decoded", "samples", ...ks.map((k) => `pass@${k}`), "pass@1 (primary)", "forward passes"],
      rows: summary.arms.map((a) => [a.arm, a.cost.budgetRowsPerTask !== undefined ? fmt(a.cost.budgetRowsPerTask) : a.arm === b.match ? "(the budget)" : "—",
        fmt(a.cost.evaluatedTokensPerTask), fmt(a.cost.samplesPerTask), ...ks.map((k) => meanEst(a.passAtK[k])), prop(a.pass1), fmt(a.cost.forwardPassesPerTask)]),
    },
  }] : [];
  return [
    {
      title: "Quality per arm",
      note: `Proportions with 95% Wilson intervals; means with 95% item-level bootstrap intervals (2000 resamples, seed 1). pass@k is the unbiased estimator over the paths of each run${b ? " (a baseline's samples or beams)" : ""}, averaged over the items with at least k paths.`,
      table: {
        head: ["arm", "pass@1 (primary)", "pass@1 (best-of-set)", "exact match", "edit similarity", ...ks.map((k) => `pass@${k} (${b ? "paths / samples" : "paths"})`)],
        rows: summary.arms.map((a) => [a.arm, prop(a.pass1), prop(a.bestOfSet), prop(a.exact), meanEst(a.editSimilarity), ...ks.map((k) => meanEst(a.passAtK[k]))]),
      },
    },
    {
      title: `Paired comparisons against ${summary.baseline}`,
      note: `Primary metric: ${summary.primaryMetric}. Difference = arm − ${summary.baseline}, with a paired item-level bootstrap interval. Holm and Benjamini–Hochberg adjust across all ${summary.comparisons.length} comparisons.`,
      table: {
        head: ["arm", "metric", "difference [95% CI]", "test", "statistic", "p", "p (Holm)", "p (BH)"],
        rows: summary.comparisons.map((c) => [
          c.arm, c.primary ? `**${c.metric}** (primary)` : c.metric,
          `${fmt(c.difference.estimate)} ${interval(c.difference)}`,
          c.discordant ? `${c.method}; arm only ${c.discordant.armOnly}, ${c.baseline} only ${c.discordant.baselineOnly}` : c.method,
          fmt(c.statistic), fmt(c.pValue), fmt(c.pHolm), fmt(c.pBH),
        ]),
      },
    },
    {
      title: "Cost per task",
      note: "Forward passes and tokens count the prompt too. A TEMPO run's paths are its pass@k samples: samples/s is paths per second of generation time.",
      table: {
        head: ["arm", "forward passes", "tokens evaluated", "generation ms", "execution ms", "samples (paths)", "median paths before cap", "passes per sample", "samples/s"],
        rows: summary.arms.map((a) => [a.arm, fmt(a.cost.forwardPassesPerTask), fmt(a.cost.evaluatedTokensPerTask), fmt(a.cost.generateMsPerTask), fmt(a.cost.executeMsPerTask),
          fmt(a.cost.samplesPerTask), fmt(a.cost.medianTotalPaths), fmt(a.cost.passesPerSample), fmt(a.cost.samplesPerSecond)]),
      },
    },
    ...matched,
    {
      title: "Outcomes",
      note: "Execution outcome of each primary completion, and why generation stopped (function-end: the primary path closed the function).",
      table: {
        head: ["arm", "primary completion outcomes", "stop reasons"],
        rows: summary.arms.map((a) => [a.arm, Object.entries(a.outcomes).map(([k, v]) => `${k} ${v}`).join(", "), Object.entries(a.stopReasons).map(([k, v]) => `${k} ${v}`).join(", ")]),
      },
    },
  ];
}

function methodLines(run: EvalRun, summary: EvalSummary, meta: EvalMeta): string[] {
  const s = run.settings;
  const c = Object.values(run.configs)[0];
  const b = s.baselines;
  const baselines = b ? `; baselines ${b.arms.join(", ")} at the rows of ${b.match} per task${b.arms.includes("sample") ? `, sampling temperature ${b.temperature}, top-p ${b.topP}, seed ${b.seed}` : ""}${b.arms.includes("beam") ? `, beam width ${b.beamWidth}` : ""}` : "";
  return [
    `Model: ${meta.model.fileName} (SHA-256 ${meta.model.sha256}), ${meta.model.description}`,
    `Engine: node-llama-cpp ${meta.engine.nodeLlamaCpp}, llama.cpp ${meta.engine.llamaCpp}, backend ${meta.engine.backend}`,
    `Context: n_ctx ${meta.context.contextSize}, lanes ${meta.context.lanes}, n_batch ${meta.context.batchSize}, flash attention ${meta.context.flashAttention}, ${meta.context.automaticThreads ? "at most " : ""}${meta.context.threads} decode thread${meta.context.threads === 1 ? "" : "s"}${meta.context.automaticThreads ? " (automatic: the cores other processes left idle)" : ""}${meta.context.promptsPerDecode > 1 ? `, ${meta.context.promptsPerDecode} task × mode units per decode` : ""}`,
    `Method: arms ${s.arms.join(", ")}; threshold ${s.threshold}, max width ${s.maxWidth}, policy ${s.policy}, temperature ${c.temperature}, max steps ${s.maxSteps}; schedule ${c.schedule}; generation stops when the primary path closes the function; path cap ${s.pathCap}; pass@k for k = ${s.ks.join(", ")}; best-of-set = the path with the highest sum of member log-probabilities over its truncated completion${baselines}`,
    `Execution: ${run.sandbox.permissionFlag} (no fs, child processes, workers, addons), network namespace ${run.sandbox.networkNamespace ? "yes" : "no"} plus a socket-denying prelude, PID namespace ${run.sandbox.pidNamespace ? "yes" : "no"} (own process group, killed whole), ${s.exec.timeoutMs} ms, heap ${s.exec.memoryMb} MiB; ${s.concurrency} at once${run.items.some((i) => i.language === "python") ? `; Python tasks: ${run.sandbox.python ? `${run.sandbox.python} with rlimits (address space, file size) and an audit hook denying writes, processes and sockets` : "not run (no interpreter)"}` : ""}`,
    `Data: ${meta.tasks.source}, ${meta.tasks.count} tasks${meta.tasks.limit !== null ? ` (--limit ${meta.tasks.limit})` : ""}${meta.shard ? ` (shard ${meta.shard.index}/${meta.shard.count} of ${meta.shard.total}; tempo merge combines the shards)` : ""}; ${summary.tasks} analysed${summary.skippedTasks.length ? `; ${skippedPhrase(summary)}: ${summary.skippedTasks.join(", ")}` : ""}${summary.aborted ? "; the run was ABORTED before the end" : ""}`,
    "Edit similarity: 1 − Levenshtein / max length, on whitespace-normalised texts of the truncated completion and the reference body.",
    `Started ${meta.startedAt}; wall time ${fmt(run.wallMs / 1000)} s.`,
  ];
}

export function renderEvalMarkdown(run: EvalRun, summary: EvalSummary, meta: EvalMeta): string {
  const out = ["# TEMPO completion experiment", "", ...methodLines(run, summary, meta).map((l) => `- ${l}`), ""];
  for (const t of evalTables(run, summary)) {
    out.push(`## ${t.title}`, "");
    if (t.note) out.push(t.note, "");
    out.push(`| ${t.table.head.join(" | ")} |`, `|${t.table.head.map(() => " --- |").join("")}`);
    for (const r of t.table.rows) out.push(`| ${r.map((c) => escapeMarkdownCell(c).replace(/\\\*\\\*/g, "**")).join(" | ")} |`);
    out.push("");
  }
  out.push("Per-item results (every completion, its test output and each path's log-probability) are in results.jsonl.", "");
  return out.join("\n");
}

export function renderEvalHtml(run: EvalRun, summary: EvalSummary, meta: EvalMeta): string {
  const body = [`<h1>TEMPO completion experiment</h1>`, `<ul>${methodLines(run, summary, meta).map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ul>`];
  for (const t of evalTables(run, summary)) {
    body.push(`<h2>${escapeHtml(t.title)}</h2>`);
    if (t.note) body.push(`<p>${escapeHtml(t.note)}</p>`);
    body.push(`<table><thead><tr>${t.table.head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>`);
    for (const r of t.table.rows) body.push(`<tr>${r.map((c) => `<td>${escapeHtml(c).replace(/\*\*(.*?)\*\*/g, "<b>$1</b>")}</td>`).join("")}</tr>`);
    body.push("</tbody></table>");
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>TEMPO completion experiment</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#eee}</style>
</head><body>${body.join("\n")}</body></html>\n`;
}

/** summary.json's object: what `tempo eval` writes and `/tempo/eval` answers. */
export function evalSummaryJson(run: EvalRun, summary: EvalSummary, meta: EvalMeta) {
  return { meta, settings: run.settings, configs: run.configs, sandbox: run.sandbox, summary };
}

/**
 * Writes the four files into `dir` (each created exclusively: never overwrites), summary.json
 * last: a folder without it is a partial run.
 */
export function writeEvalOutput(dir: string, run: EvalRun, summary: EvalSummary, meta: EvalMeta): Record<keyof typeof EVAL_FILES, string> {
  const files = Object.fromEntries(Object.entries(EVAL_FILES).map(([k, f]) => [k, path.join(dir, f)])) as Record<keyof typeof EVAL_FILES, string>;
  const md = renderEvalMarkdown(run, summary, meta), html = renderEvalHtml(run, summary, meta);
  writeFileAtomic(files.results, run.items.map((i) => JSON.stringify(i)).join("\n") + (run.items.length ? "\n" : ""), { exclusive: true });
  writeFileAtomic(files.md, md, { exclusive: true });
  writeFileAtomic(files.html, html, { exclusive: true });
  writeFileAtomic(files.summary, JSON.stringify(evalSummaryJson(run, summary, meta), null, 2) + "\n", { exclusive: true });
  return files;
}

/**
 * From per-unit results to the folder's summary and reports: the end of a run, and all of
 * `tempo merge` of an eval's shards, so a merged suite is summarised as an unsharded run is.
 */
export function finishEvalFolder(dir: string, run: EvalRun, meta: EvalMeta): { summary: EvalSummary; files: Record<keyof typeof EVAL_FILES, string> } {
  const summary = summarizeEval(run);
  return { summary, files: writeEvalOutput(dir, run, summary, meta) };
}

/**
 * Runs the experiment into the existing folder `dir`, the CLI's and VS Code's alike: each finished
 * unit is appended to results.partial.jsonl at once, so a killed run (SIGKILL, a native abort,
 * power) keeps it; then the four files, and the partial file goes last.
 */
export async function runEvalIntoFolder(dir: string, request: Omit<EvalRequest, "onItem">, meta: EvalMeta): Promise<{ run: EvalRun; summary: EvalSummary; files: Record<keyof typeof EVAL_FILES, string> }> {
  const partial = path.join(dir, PARTIAL_RESULTS);
  const run = await runEval({ ...request, onItem: (item) => fs.appendFileSync(partial, JSON.stringify(item) + "\n") });
  const { summary, files } = finishEvalFolder(dir, run, meta);
  fs.rmSync(partial, { force: true });
  return { run, summary, files };
}
