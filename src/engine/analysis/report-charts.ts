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

export interface ReportCharts {
  /** Per-step JS with the null-baseline band (null min..p99) and the per-step null JS. */
  timeline: string;
  /** Top-k overlap per step, one line per k. */
  overlap: string;
  /** Entropy of P and Q per step. */
  entropy: string;
}

async function toSvg(spec: TopLevelSpec): Promise<string> {
  // Loaded on first use: vega is ESM with top-level await (no require), and heavy at start-up.
  const [vega, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const WIDTH = 720, HEIGHT = 220;

export function timelineSpec(r: DivergenceReport): TopLevelSpec {
  const floor = (v: number) => (Number.isFinite(v) ? Math.max(v, LOG_FLOOR) : null);
  const nullBy = new Map(r.nullBaseline.steps.map((s) => [s.index, s.js]));
  const rows = r.steps.flatMap((s) => [
    { step: s.index, js: floor(s.js), series: `${r.p.label} vs ${r.q.label}` },
    ...(nullBy.has(s.index) ? [{ step: s.index, js: floor(nullBy.get(s.index)!), series: `null: ${r.nullBaseline.mode}, two layouts` }] : []),
  ]);
  const ns = nullBandOf(r.nullBaseline.summary.js);
  const x = { field: "step", type: "quantitative" as const, title: "step" };
  return {
    width: WIDTH, height: HEIGHT,
    title: "Jensen–Shannon divergence per step (nats, log scale)",
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
        },
      },
    ],
  };
}

export function overlapSpec(r: DivergenceReport): TopLevelSpec {
  const rows = r.steps.flatMap((s) => s.topK.map((t) => ({ step: s.index, overlap: t.overlap, k: `top-${t.k}` })));
  return {
    width: WIDTH, height: HEIGHT, title: `Top-k overlap |A∩B|/k per step (${r.p.label} vs ${r.q.label})`,
    data: { values: rows },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "step", type: "quantitative", title: "step" },
      y: { field: "overlap", type: "quantitative", title: "overlap", scale: { domain: [0, 1] } },
      color: { field: "k", type: "nominal", title: null, sort: r.ks.map((k) => `top-${k}`), legend: { orient: "bottom" } },
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
  const [timeline, overlap, entropy] = await Promise.all([toSvg(timelineSpec(r)), toSvg(overlapSpec(r)), toSvg(entropySpec(r))]);
  return { timeline, overlap, entropy };
}
