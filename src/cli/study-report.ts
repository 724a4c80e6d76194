/**
 * The study report: each claim of the seed document (../shared/seed, docs/study-seed.md), what
 * this study measured for it, with intervals, and a verdict by a rule stated beside it. It reads
 * only the study folder's files (paired.json, report.json, steps.jsonl, summary.json,
 * perplexity.json), so it can be rebuilt from a finished folder.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../engine/capture/atomic.js";
import { readSteps } from "../engine/capture/reader.js";
import { CAPTURE_FILES } from "../engine/capture/manifest.js";
import { bootstrapMean, type Interval } from "../engine/analysis/stats.js";
import { readPairedFile, type PairedFile } from "../engine/analysis/paired-file.js";
import type { DivergenceReport } from "../engine/analysis/report-model.js";
import { REPORT_FILES } from "../engine/analysis/report-write.js";
import { EVAL_FILES } from "../engine/eval/report.js";
import type { EvalSummary } from "../engine/eval/summary.js";
import type { StepEvent } from "../engine/types.js";
import { PERPLEXITY_FILE, STUDY_PARTS, type PerplexityPart, type ResolvedStudy } from "./study.js";

export const STUDY_REPORT = { md: "study.md", json: "study-report.json" } as const;

export type Verdict = "supported" | "refuted" | "inconclusive" | "confirmed";

export interface ClaimResult {
  id: string;
  /** The seed document's words, and where. */
  claim: string;
  measured: string;
  /** Result lines (markdown). */
  result: string[];
  verdict: Verdict;
  /** The rule the verdict follows. */
  rule: string;
}

const fmt = (x: number) => (x === 0 ? "0" : Math.abs(x) >= 0.01 && Math.abs(x) < 1000 ? x.toFixed(4) : x.toExponential(2));
const ci = (i: Interval | null) => (i ? `[${fmt(i.lo)}, ${fmt(i.hi)}]` : "—");
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;

/** The prompt folders of a compare suite, in order. */
function promptFolders(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^\d{3,}$/.test(f)).sort().map((f) => join(dir, f));
}

function pairedOf(dir: string): PairedFile {
  const p = readPairedFile(dir);
  if (!p) throw new Error(`${dir} has no paired.json`);
  return p;
}

/** Claims 1 and 2: attention in the set's own pass, isolated (P) vs visible (Q). */
function attentionClaims(dir: string): ClaimResult[] {
  const reports = promptFolders(dir).map((d) => readJson<DivergenceReport>(join(d, REPORT_FILES.json)));
  const all = reports.flatMap((r) => r.attention ?? []);
  const sets = all.filter((a) => a.members.length > 1);
  const meanOf = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
  /** Mean attention of a set's members on their siblings, over members and heads. */
  const siblings = (a: (typeof all)[number], side: "p" | "q") => meanOf(a[side][a.targets.indexOf("siblings")].flat());
  const [pSib, qSib] = [sets.map((a) => siblings(a, "p")), sets.map((a) => siblings(a, "q"))];
  const items = pSib.length;
  const layers = [...new Set(all.map((a) => a.layer))].sort((a, b) => a - b);
  // Largest |P - Q| and |P - null| over every target, member and head, per layer.
  const perLayer = layers.map((layer) => {
    const of = all.filter((a) => a.layer === layer);
    const maxAbs = (a: number[][][], b: number[][][]) => a.reduce((m, t, i) => t.reduce((mm, row, j) => row.reduce((mmm, v, h) => Math.max(mmm, Math.abs(v - b[i][j][h])), mm), m), 0);
    const wide = of.filter((a) => a.members.length > 1);
    return { layer, pq: Math.max(0, ...of.map((a) => maxAbs(a.p, a.q))), pn: Math.max(0, ...of.map((a) => maxAbs(a.p, a.nullBaseline))), qSib: wide.length ? meanOf(wide.map((a) => siblings(a, "q"))) : NaN };
  });
  const qCi = items >= 2 ? bootstrapMean(qSib) : null;
  const isolatedZero = pSib.every((v) => v === 0);
  const differ = perLayer.filter((l) => l.pq > l.pn).length;
  const identical: ClaimResult = {
    id: "attention-identical",
    claim: "\"Isolated vs Visible Attention — Result: Perfect correlation (1.0), zero difference\" (seed document, Experiment 1; it captured attention before the sets existed)",
    measured: `Attention of every member of every set of 2 or more, captured in the forward pass that holds the set, in ${layers.length} layers, under isolated (P) and visible (Q) replays of the same sets, with the null baseline (P in another batch layout) beside.`,
    result: [
      `${items} sets × layers. Attention on siblings: isolated ${isolatedZero ? "exactly 0 in every one" : `not zero in ${pSib.filter((v) => v !== 0).length}`}; visible mean ${qSib.length ? fmt(meanOf(qSib)) : "—"}, 95% bootstrap ${ci(qCi)}.`,
      `Layers where the largest |P − Q| exceeds the largest |P − null| (the layout noise): ${differ} of ${layers.length}.`,
      ...perLayer.map((l) => `layer ${l.layer}: visible members' attention on siblings ${fmt(l.qSib)} (isolated: 0); max |P − Q| ${fmt(l.pq)}, max |P − null| ${fmt(l.pn)}`),
    ],
    verdict: items === 0 || !qCi ? "inconclusive" : qCi.lo > 0 && isolatedZero && differ > 0 ? "refuted" : "supported",
    rule: "refuted when visible members' attention on siblings has a 95% interval above 0 while isolated members' is exactly 0, and some layer's |P − Q| exceeds its |P − null|; inconclusive with fewer than two sets of two or more.",
  };
  return [identical];
}

/** Claim: logits are affected by isolation (and its negation: prior context dominates). */
function logitsClaim(paired: PairedFile): ClaimResult {
  const js = paired.stats.metrics.find((m) => m.metric === paired.stats.primaryMetric)!;
  const top1 = paired.stats.metrics.find((m) => m.metric === "top1Agree");
  return {
    id: "logits-affected",
    claim: "\"Logits ARE affected by isolation (generated with custom mask)\" (seed document, Experiments 2–5 and Option B), against its earlier \"Prior context dominates, parallel tokens don't need to see each other\"",
    measured: `Teacher-forced: each prompt's isolated sets replayed in visible mode; per-step Jensen–Shannon divergence of the next-token distributions, against the null baseline (the same isolated sets in another batch layout), paired over ${js.n} prompts.`,
    result: [
      `Mean JS isolated vs visible ${fmt(js.meanComparison)} nats; null ${fmt(js.meanNull)}; difference ${fmt(js.meanDiff)}, 95% bootstrap ${ci(js.bootstrap)}, t interval ${ci(js.tInterval)}; Wilcoxon p = ${fmt(js.wilcoxonPValue)} (${js.wilcoxonMethod}), Holm-adjusted ${fmt(js.holm)}.`,
      ...(top1 ? [`Top-1 agreement isolated vs visible ${fmt(top1.meanComparison)} (null ${fmt(top1.meanNull)}).`] : []),
    ],
    verdict: js.n < 2 ? "inconclusive" : js.bootstrap.lo > 0 && js.tInterval.lo > 0 ? "supported" : "inconclusive",
    rule: "supported when both 95% intervals of the paired difference (JS minus its null) are above 0; otherwise inconclusive at this number of prompts (never \"refuted\": an interval that holds 0 does not show the effect is absent).",
  };
}

/** Claim: members share a RoPE position (and, in this engine, each has a KV cell of its own). */
function positionsClaim(dirs: string[]): ClaimResult {
  const steps: StepEvent[] = dirs.flatMap((dir) => promptFolders(dir).flatMap((d) => readSteps(join(d, CAPTURE_FILES.steps))));
  const sets = steps.filter((s) => s.candidates.length > 1);
  const distinctCells = sets.filter((s) => new Set(s.candidates.map((c) => c.cell)).size === s.candidates.length).length;
  const contiguous = sets.filter((s) => s.candidates.every((c, j) => c.cell === s.candidates[0].cell + j)).length;
  const widest = Math.max(0, ...sets.map((s) => s.candidates.length));
  return {
    id: "shared-position",
    claim: "\"RoPE position sharing is independently verifiable\" (seed document, Experiments 2–5)",
    measured: "The index table of every capture (steps.jsonl: each set's position and each member's KV cell), from the divergence and high-parallelism parts.",
    result: [`${sets.length} sets of 2 to ${widest} members, each at one position; members in distinct KV cells in ${distinctCells}, in consecutive cells in ${contiguous}.`],
    verdict: sets.length === 0 ? "inconclusive" : distinctCells === sets.length ? "confirmed" : "refuted",
    rule: "confirmed when every set's members share its one position and each has a KV cell of its own (all enter the cache); inconclusive without sets of two or more.",
  };
}

/** Claim: high parallelism is stable. */
function wideClaim(dir: string, paired: PairedFile): ClaimResult {
  const steps = promptFolders(dir).flatMap((d) => readSteps(join(d, CAPTURE_FILES.steps)));
  const widths = steps.map((s) => s.candidates.length);
  const widthCi = widths.length >= 2 ? bootstrapMean(widths) : null;
  const js = paired.stats.metrics.find((m) => m.metric === paired.stats.primaryMetric)!;
  const entropy = steps.map((s) => s.entropy).filter(Number.isFinite);
  return {
    id: "high-parallelism",
    claim: "\"High parallelism stability is observable behavior\" (seed document, Experiments 2–5)",
    measured: `Generation with wide sets (this part's max width and threshold), ${paired.items.length} prompts, then the same isolated-vs-visible comparison with its null baseline.`,
    result: [
      `${steps.length} steps; set width mean ${widths.length ? fmt(widths.reduce((a, b) => a + b, 0) / widths.length) : "—"} ${ci(widthCi)}, widest ${Math.max(0, ...widths)}; next-token entropy mean ${entropy.length ? fmt(entropy.reduce((a, b) => a + b, 0) / entropy.length) : "—"} nats.`,
      `JS isolated vs visible at this width ${fmt(js.meanComparison)} (null ${fmt(js.meanNull)}), difference 95% bootstrap ${ci(js.bootstrap)}.`,
    ],
    verdict: steps.length === 0 || Math.max(0, ...widths) < 2 || !paired.complete ? "inconclusive" : entropy.length === steps.length ? "supported" : "refuted",
    rule: "supported when sets of two or more were decoded and compared to the end with every step's entropy finite; refuted when some entropy is not; inconclusive without wide sets or a complete run. The JS line says how much isolation then matters.",
  };
}

/** Claim: generation quality is the measure (perplexity, pass@k per mode). */
function qualityClaim(evalDir: string, ppl: PerplexityPart): ClaimResult {
  const summary = readJson<{ summary: EvalSummary }>(join(evalDir, EVAL_FILES.summary)).summary;
  const arms = summary.arms.map((a) => `${a.arm}: pass@1 ${a.pass1.count}/${a.pass1.n}${a.pass1.wilson ? ` (Wilson 95% [${fmt(a.pass1.wilson.lo)}, ${fmt(a.pass1.wilson.hi)}])` : ""}, edit similarity ${fmt(a.editSimilarity.mean)} ${ci(a.editSimilarity.bootstrap)}`);
  const primary = summary.comparisons.filter((c) => c.primary).map((c) => `${c.arm} − ${c.baseline}: ${fmt(c.difference.estimate)} ${ci(c.difference)}, ${c.method} p = ${fmt(c.pValue)} (Holm ${fmt(c.pHolm)})`);
  const decisive = summary.comparisons.filter((c) => c.primary && (c.difference.lo > 0 || c.difference.hi < 0));
  return {
    id: "quality",
    claim: "\"Compare Generation Quality (Most Meaningful)… perplexity measurements… task-specific metrics (code correctness)\" (seed document, Option C)",
    measured: `Teacher-forced perplexity of one text in each mode (windows of the context when longer; ${ppl.text.length} characters), and pass@1 on ${summary.tasks} built-in code-completion tasks per arm, paired against standard.`,
    result: [
      ...ppl.results.map((r) => `perplexity ${r.mode}: ${fmt(r.perplexity)} over ${r.tokens} tokens (mean set ${fmt(r.meanSetSize)}; ${r.windows.count} window${r.windows.count === 1 ? "" : "s"} of ${r.windows.size}, stride ${r.windows.stride})`),
      ...arms, ...primary,
    ],
    verdict: decisive.length ? "supported" : "inconclusive",
    rule: "supported (isolation or TEMPO changes code correctness) when some arm's paired pass@1 difference against standard has a 95% interval excluding 0; otherwise inconclusive at this many tasks. Perplexity is reported, not tested (one text).",
  };
}

export interface StudyReport { study: string; model: ResolvedStudy["model"]; claims: ClaimResult[] }

export function buildStudyReport(s: ResolvedStudy, out: string): StudyReport {
  const divergence = join(out, STUDY_PARTS.divergence), wide = join(out, STUDY_PARTS.wide);
  const perplexity = readJson<PerplexityPart>(join(out, PERPLEXITY_FILE));
  return {
    study: s.study, model: s.model,
    claims: [
      ...attentionClaims(divergence),
      logitsClaim(pairedOf(divergence)),
      positionsClaim([divergence, wide].filter(existsSync)),
      wideClaim(wide, pairedOf(wide)),
      qualityClaim(join(out, STUDY_PARTS.quality), perplexity),
    ],
  };
}

export function renderStudyMarkdown(r: StudyReport, s: ResolvedStudy): string {
  const lines = [
    `# Study: ${s.study}`, "",
    s.description ?? "", "",
    `Model: \`${r.model.path.split("/").pop()}\`, SHA-256 \`${r.model.sha256}\`. ${s.prompts.length} prompts. Each part's folder holds the experiment.json that reruns it; study.json reruns the whole (\`tempo study study.json --out <dir>\`).`, "",
    "| claim | verdict |", "| --- | --- |",
    ...r.claims.map((c) => `| ${c.id} | **${c.verdict}** |`), "",
  ];
  for (const c of r.claims) {
    lines.push(`## ${c.id}: ${c.verdict}`, "", `**Claim.** ${c.claim}`, "", `**Measured.** ${c.measured}`, "", ...c.result.map((l) => `- ${l}`), "", `**Rule.** ${c.rule}`, "");
  }
  return lines.join("\n");
}

/** Writes study.md and study-report.json into the study folder. */
export function writeStudyReport(s: ResolvedStudy, out: string): void {
  const r = buildStudyReport(s, out);
  writeFileAtomic(join(out, STUDY_REPORT.json), JSON.stringify(r, null, 2) + "\n", { exclusive: true });
  writeFileAtomic(join(out, STUDY_REPORT.md), renderStudyMarkdown(r, s), { exclusive: true });
}
