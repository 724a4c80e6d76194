/**
 * The report's charts as static SVG strings, drawn by vega-lite + vega in Node (no browser,
 * no network: data is inlined and the headless renderer is used).
 */
import type { TopLevelSpec } from "vega-lite";
import type { DivergenceReport } from "./report-model.js";
import { attentionFigureSvg } from "./attention-svg.js";
import { nullBandOf } from "../../protocol/null-band.js";

/** Divergences are shown on a log axis; exact zeros (identical distributions) sit at this floor. */
export const LOG_FLOOR = 1e-12;

/** Steps whose JS the timeline labels with their set: the largest. */
export const LABELLED_SPIKES = 3;
/** Characters of a set's text in a spike's label (the tooltip and the step's row hold all of it). */
const LABEL_CHARS = 18;
/** Pixels between the labels of successive spikes. */
const LABEL_STAGGER = 11;

/** The id of a step's row in report.html's per-step table: chart points and labels link to it. */
export const stepAnchor = (index: number): string => `step-${index}`;

export interface ReportCharts {
  /** Per-step JS with the null-baseline band (null min..p99) and the per-step null JS; the largest spikes labelled. */
  timeline: string;
  /** Top-k overlap as a k x step heatmap. */
  overlap: string;
  /** Entropy of P and Q per step. */
  entropy: string;
}

async function toSvg(name: keyof ReportCharts, spec: TopLevelSpec): Promise<string> {
  // Loaded on first use: vega is ESM with top-level await (no require), and heavy at start-up.
  const [vega, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return withOwnIds(name, withTooltips(await view.toSVG()));
  } finally {
    view.finalize();
  }
}

/**
 * Vega describes each mark item in an aria-label ("step: 5; JS: 0.04; set: …") but a browser
 * shows a tooltip only for a <title> child: give every point and cell one, with the same
 * (already escaped) text.
 */
function withTooltips(svg: string): string {
  // Points and heatmap cells only: a line's path carries its first point's description.
  return svg.replace(/<path( aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="(?:point|rect mark)"[^>]*?)\/>/g, "<path$1><title>$2</title></path>");
}

/**
 * Vega numbers gradients and clips from process-wide counters ("gradient_3"), so the same report
 * drawn in another process (a rerun, a shard) got other ids, and two reports' charts could share
 * one. Renaming each chart's ids after the chart, in order of appearance, makes the SVG a function
 * of the report alone and keeps ids unique within report.html.
 */
function withOwnIds(name: string, svg: string): string {
  const ids = [...new Set([...svg.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]))];
  const renamed = new Map(ids.map((id, k) => [id, `${name}-${k}`]));
  return svg.replace(/ id="([^"]+)"|url\(#([^)]+)\)/g, (m, def?: string, ref?: string) => {
    const to = renamed.get(def ?? ref ?? "");
    if (to === undefined) return m;
    return def !== undefined ? ` id="${to}"` : `url(#${to})`;
  });
}

const WIDTH = 720, HEIGHT = 220;

export function timelineSpec(r: DivergenceReport): TopLevelSpec {
  const floor = (v: number) => (Number.isFinite(v) ? Math.max(v, LOG_FLOOR) : null);
  const nullBy = new Map(r.nullBaseline.steps.map((s) => [s.index, s.js]));
  const point = (index: number, js: number, series: string, text: string | undefined) => ({
    step: index, js: floor(js), series, href: `#${stepAnchor(index)}`, tip: `step ${index}: JS ${fmtJs(js)} nats (${series}); set ${text ?? ""}`,
  });
  const rows = r.steps.flatMap((s) => [
    point(s.index, s.js, `${r.p.label} vs ${r.q.label}`, s.text),
    ...(nullBy.has(s.index) ? [point(s.index, nullBy.get(s.index)!, `null: ${r.nullBaseline.mode}, two layouts`, s.text)] : []),
  ]);
  const spikes = [...r.steps].filter((s) => Number.isFinite(s.js) && s.js > 0).sort((a, b) => b.js - a.js).slice(0, LABELLED_SPIKES)
    // Staggered by rank, so that neighbouring spikes' labels do not print over each other.
    .map((s, rank) => ({ step: s.index, js: floor(s.js), label: `${s.index}: ${shorten(s.text ?? "")}`, href: `#${stepAnchor(s.index)}`, dy: -9 - LABEL_STAGGER * rank }));

  const ns = nullBandOf(r.nullBaseline.summary.js);
  const x = { field: "step", type: "quantitative" as const, title: "step" };
  return {
    width: WIDTH, height: HEIGHT,
    // Room above the plot for the staggered spike labels.
    title: { text: "Jensen–Shannon divergence per step (nats, log scale)", offset: 12 + LABEL_STAGGER * LABELLED_SPIKES },
    layer: [
      ...(ns ? [{
        data: { values: [{ lo: Math.max(ns.min, LOG_FLOOR), hi: Math.max(ns.p99, LOG_FLOOR) }] },
        mark: { type: "rect" as const, color: "#f28e2b", opacity: 0.18 },
        encoding: { y: { field: "lo", type: "quantitative" as const, scale: { type: "log" as const } }, y2: { field: "hi" } },
      }] : []),
      {
        data: { values: rows },
        mark: { type: "line" as const, point: true },
        encoding: {
          x,
          y: { field: "js", type: "quantitative" as const, title: "JS (nats)", scale: { type: "log" as const } },
          color: { field: "series", type: "nominal" as const, title: null, legend: { orient: "bottom" as const, labelLimit: 480 } },
          strokeDash: { field: "series", type: "nominal" as const, title: null, legend: { orient: "bottom" as const, labelLimit: 480 } },
          description: { field: "tip", type: "nominal" as const },
          href: { field: "href", type: "nominal" as const },
        },
      },
      // One layer per spike: a mark's dy is fixed, and each rank needs its own.
      ...spikes.map((spike) => ({
        data: { values: [spike] },
        mark: { type: "text" as const, fontSize: 10, align: "center" as const, dy: spike.dy },
        encoding: {
          x,
          y: { field: "js", type: "quantitative" as const, scale: { type: "log" as const } },
          text: { field: "label", type: "nominal" as const },
          href: { field: "href", type: "nominal" as const },
        },
      })),
    ],
  };
}

/** A JS value in a tooltip: three significant digits. */
const fmtJs = (v: number): string => (v === 0 || !Number.isFinite(v) ? String(v) : v.toPrecision(3));

const shorten = (text: string): string => (text.length > LABEL_CHARS ? `${text.slice(0, LABEL_CHARS - 1)}…` : text);

export function overlapSpec(r: DivergenceReport): TopLevelSpec {
  const rows = r.steps.flatMap((s) => s.topK.map((t) => ({
    step: s.index, overlap: t.overlap, k: `top-${t.k}`, href: `#${stepAnchor(s.index)}`, tip: `step ${s.index}, top-${t.k}: overlap ${t.overlap.toFixed(2)}; set ${s.text ?? ""}`,
  })));
  const ks = r.ks.map((k) => `top-${k}`);
  return {
    width: WIDTH, height: Math.max(60, 24 * ks.length),
    title: `Top-k overlap |A∩B|/k per step and k (${r.p.label} vs ${r.q.label}; darker: less shared)`,
    data: { values: rows },
    mark: { type: "rect" },
    encoding: {
      x: { field: "step", type: "ordinal", title: "step", axis: { labelOverlap: true, labelAngle: 0 } },
      y: { field: "k", type: "ordinal", title: null, sort: ks },
      color: { field: "overlap", type: "quantitative", title: "overlap", scale: { domain: [0, 1], scheme: "blues", reverse: true }, legend: { orient: "right" } },
      description: { field: "tip", type: "nominal" },
      href: { field: "href", type: "nominal" },
    },
  };
}

export function entropySpec(r: DivergenceReport): TopLevelSpec {
  const rows = r.steps.flatMap((s) => [
    { step: s.index, entropy: s.entropyP, dist: `P: ${r.p.label}` },
    { step: s.index, entropy: s.entropyQ, dist: `Q: ${r.q.label}` },
  ]);
  return {
    width: WIDTH, height: HEIGHT, title: "Entropy of the next-token distribution (nats)",
    data: { values: rows },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "step", type: "quantitative", title: "step" },
      y: { field: "entropy", type: "quantitative", title: "entropy (nats)" },
      color: { field: "dist", type: "nominal", title: null, legend: { orient: "bottom" } },
    },
  };
}

/** SVG heatmaps of the report's attention summaries, in report order (attention-svg.ts). */
export function renderAttentionCharts(r: DivergenceReport): string[] {
  return (r.attention ?? []).map((a, i) => attentionFigureSvg(a, { p: r.p.label, q: r.q.label }, String(i)));
}

export async function renderCharts(r: DivergenceReport): Promise<ReportCharts> {
  const [timeline, overlap, entropy] = await Promise.all([toSvg("timeline", timelineSpec(r)), toSvg("overlap", overlapSpec(r)), toSvg("entropy", entropySpec(r))]);
  return { timeline, overlap, entropy };
}
