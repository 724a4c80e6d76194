import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { compare } from "../../src/engine/analysis/divergence.js";
import { fromLogits } from "../../src/engine/math/distribution.js";
import { buildDivergenceReport, type StepMetrics } from "../../src/engine/analysis/report-model.js";
import { renderReportJson } from "../../src/engine/analysis/report-json.js";
import { renderReportMarkdown } from "../../src/engine/analysis/report-md.js";
import { renderReportHtml } from "../../src/engine/analysis/report-html.js";
import { LABELLED_SPIKES, stepAnchor } from "../../src/engine/analysis/report-charts.js";
import { writeReport } from "../../src/engine/analysis/report-write.js";
import { lcg, syntheticLogits } from "../../src/engine/capture/synthetic.js";

const EVIL = `<script>alert("x")</script> & 'q' | *b*`;

/** Synthetic teacher-forced run: Q is P with a real perturbation, the null one with float noise. */
function synthetic(steps = 24) {
  const rnd = lcg(21);
  const main: StepMetrics[] = [], nul: StepMetrics[] = [];
  for (let i = 0; i < steps; i++) {
    const a = syntheticLogits(2000, rnd);
    const P = fromLogits(a);
    const Q = fromLogits(a.map((v) => v + (rnd() - 0.5) * 0.8));
    const N = fromLogits(Float64Array.from(a, (v) => v + (rnd() - 0.5) * 1e-5));
    const tokens = [P.top[0], P.top[1]];
    main.push({ index: i, text: i === 3 ? EVIL : `tok${i}`, ...compare(P, Q, { tokens }) });
    nul.push({ index: i, ...compare(P, N, { tokens }) });
  }
  // One step where Q gives a token zero probability: KL(P||Q) is infinite.
  const z = new Float32Array(2000).fill(0);
  const zq = z.slice(); zq[0] = -Infinity;
  main.push({ index: steps, ...compare(fromLogits(z), fromLogits(zq)) });
  nul.push({ index: steps, ...compare(fromLogits(z), fromLogits(z)) });
  return buildDivergenceReport({
    p: { mode: "isolated" }, q: { mode: "visible" },
    model: { fileName: "tiny<model>.gguf", sha256: "a".repeat(64) },
    steps: main, nullBaseline: { mode: "isolated", layouts: ["set alone", "set + unrelated row"], steps: nul },
    now: new Date("2026-01-01T00:00:00Z"),
  });
}

describe("divergence report", () => {
  const report = synthetic();

  it("summarises comparison and null baseline, and tests one against the other", () => {
    assert.equal(report.steps.length, 25);
    assert.deepEqual(report.ks, [1, 5, 10, 20, 50]);
    const js = report.summary.js, nj = report.nullBaseline.summary.js;
    assert.equal(js.n, 25);
    assert.ok(js.mean > 100 * nj.max, "the perturbation must dominate the float noise");
    assert.ok(js.bootstrap.lo <= js.mean && js.mean <= js.bootstrap.hi);
    // KL(P||Q) is infinite at the last step: left out of the summary, not averaged in.
    assert.equal(report.summary.klPQ.n, 24);
    assert.ok(report.summary["overlap@50"] && report.summary.massP);
    assert.ok(report.versusNull);
    assert.ok(report.versusNull.fractionAboveNullP99 > 0.9);
    assert.ok(report.versusNull.wilcoxon.pValue < 1e-3);
  });

  it("report.json: steps[i].js in nats, nullBaseline block, infinities as null", () => {
    const j = JSON.parse(renderReportJson(report));
    assert.equal(j.steps[2].js, report.steps[2].js);
    assert.ok(j.steps[2].js > 0 && j.steps[2].js <= Math.LN2);
    assert.equal(j.steps[24].klPQ, null);
    assert.equal(j.nullBaseline.steps.length, 25);
    assert.equal(j.nullBaseline.layouts[1], "set + unrelated row");
    assert.equal(typeof j.nullBaseline.summary.js.p99, "number");
    assert.equal(j.steps[3].text, EVIL);
  });

  it("report.md: summary table with the null beside each metric; model text escaped", () => {
    const md = renderReportMarkdown(report);
    assert.match(md, /\| Metric \| Unit \| Mean ± SE .*\| Null mean ± SE \| Null p99 \| Null max \|/);
    const jsRow = md.split("\n").find((l) => l.startsWith("| Jensen–Shannon |"))!;
    assert.equal(jsRow.split("|").length - 2, 12);
    assert.ok(!md.includes("<script>"));
    assert.ok(md.includes("&lt;script&gt;") && md.includes("\\|"));
    assert.match(md, /## Method/);
  });

  it("report.html: self-contained, three inline SVG charts, all text escaped", async () => {
    const html = await renderReportHtml(report);
    assert.equal((html.match(/<svg[\s>]/g) ?? []).length, 3);
    assert.ok(!/<script/i.test(html), "no scripts at all");
    assert.ok(!/(src|href)=["']?https?:/i.test(html), "no external resources");
    assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"));
    assert.ok(html.includes("tiny&lt;model&gt;.gguf"));
    assert.ok(html.includes("Jensen–Shannon divergence per step"));
    assert.ok(html.includes("null: isolated, two layouts"));
  });

  it("report.html charts: hover titles on points, the largest spikes labelled and linked to their rows, top-k overlap as a k x step heatmap", async () => {
    const html = await renderReportHtml(report);
    const [timeline, overlap] = html.match(/<svg[\s\S]*?<\/svg>/g) ?? ["", ""];
    // Every point of both series has a title; the null series' points too.
    const titles = timeline.match(/<title>step \d+: JS [^<]* nats \([^)]*\); set [^<]*<\/title>/g) ?? [];
    assert.equal(titles.length, report.steps.length + report.nullBaseline.steps.length, titles.join("\n"));
    const spikes = [...report.steps].filter((s) => s.js > 0).sort((a, b) => b.js - a.js).slice(0, LABELLED_SPIKES).map((s) => s.index);
    for (const index of spikes) {
      assert.match(timeline, new RegExp(`<a xlink:href="#${stepAnchor(index)}">(?:(?!</a>).)*>${index}: `, "s"), `spike ${index} labelled, with a link`);
      assert.ok(html.includes(`<tr id="${stepAnchor(index)}">`), `row ${index} is the link's target`);
    }
    const cells = overlap.match(/<path aria-label="step \d+, top-\d+: overlap [\d.]+; set [^"]*" role="graphics-symbol" aria-roledescription="rect mark"[^>]*><title>/g) ?? [];
    assert.equal(cells.length, report.steps.length * report.ks.length, "one cell per step and k");
  });

  it("report.html is a function of the report: drawn twice in one process, the same bytes, every id defined once and every reference to a defined id", async () => {
    // Vega's own gradient and clip ids count per process, so the second drawing differed (a rerun or a shard's report did not match).
    const [first, second] = [await renderReportHtml(report), await renderReportHtml(report)];
    assert.equal(second, first);
    const ids = [...first.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length, "ids unique within the page");
    const refs = [...first.matchAll(/url\(#([^)]+)\)/g)].map((m) => m[1]);
    assert.ok(refs.length > 0, "the heatmap's legend refers to its gradient");
    for (const r of refs) assert.ok(ids.includes(r), `url(#${r}) is defined`);
  });

  it("attention: P vs Q per set, layer and target with |P − null| beside; exact zeros drawn unlike small values", async () => {
    const targets = ["self", "siblings", "prompt", "earlierSets", "bos", "other"];
    // Two members, two heads: [target][member][head]. P isolated (siblings exactly 0), Q with
    // siblings, the null baseline P with float noise (and one tiny sibling value: not a zero).
    const p = [[[0.5, 0.4], [0.6, 0.3]], [[0, 0], [0, 0]], [[0.3, 0.4], [0.2, 0.5]], [[0.1, 0.1], [0.1, 0.1]], [[0.1, 0.1], [0.1, 0.1]], [[0, 0], [0, 0]]];
    const q = p.map((rows, t) => rows.map((hs) => hs.map((v) => (t === 1 ? 0.2 : t === 0 ? v - 0.2 : v))));
    const nul = p.map((rows) => rows.map((hs) => hs.map((v) => v + 1e-7)));
    // Token level: keys BOS, a prompt token with markup, the two members; P's members put
    // exactly 0 on each other, Q's a little (one of them tiny: NOT a zero).
    const keys = [{ text: "<s> #1", step: -1 }, { text: "<b>", step: -1 }, { text: "a", step: 4 }, { text: "b", step: 4 }];
    const tp = [[[0.5, 0.2, 0.3, 0], [0.4, 0.3, 0, 0.3]], [[0.5, 0.2, 0.3, 0], [0.4, 0.3, 0, 0.3]]];
    const tq = [[[0.5, 0.2, 0.2, 0.1], [0.4, 0.3, 1e-9, 0.3]], [[0.5, 0.2, 0.2, 0.1], [0.4, 0.3, 0.1, 0.2]]];
    const tokens = { keys, hidden: { keys: 3, maxMass: 0.01 }, p: tp, q: tq };
    const withAttention = { ...report, attention: [{ step: 4, layer: 1, members: [EVIL, "b"], heads: 2, targets, p, q, nullBaseline: nul, tokens }] };
    const html = await renderReportHtml(withAttention);
    assert.ok(!/<script/i.test(html), "still no scripts");
    const section = html.slice(html.indexOf("Attention between parallel tokens"));
    const row = (target: string) => section.split("<tr>").find((r) => r.includes(`<td class="l">${target}</td>`))!;
    // siblings: P exactly 0 (hatched cell), Q 0.2, Q − P 0.2, |P − null| 1e-7 (small, NOT drawn as a zero).
    assert.match(row("siblings"), /<td class="zero">0<\/td><td class="">0\.2<\/td><td class="">0\.2<\/td><td class="">0\.2<\/td><td class="null">1\.00e-7<\/td>/);
    assert.match(row("self"), /<td class="">0\.45<\/td><td class="">0\.25<\/td><td class="">-0\.2<\/td>/);
    // The heatmap: 3 streams x 5 targets ("other" is not drawn) x 4 cells; P's siblings and
    // the Q − P cells of the unchanged targets are exact zeros: the hatched zero cell with "0".
    const svg = section.slice(section.indexOf("<svg"), section.indexOf("</svg>"));
    const zeros = (svg.match(/<use href="#z0"/g) ?? []).length;
    assert.equal(zeros, 4 * (1 + 3) + 1, "exact zeros (plus the legend's swatch)");
    assert.match(svg, /<title>Q siblings m0 h1: 0\.200<\/title>/);
    assert.ok(svg.includes("exactly 0 (not a small value)"));
    assert.ok(html.includes("&lt;script&gt;") && !section.includes("<script>"));
    // The head grid: one radio chip per head, toggled by CSS alone; each head's matrix has
    // the keys as escaped column labels, P's zeros as hatched "0" cells, Q's 1e-9 shaded.
    assert.equal((section.match(/<input type="radio" name="tv-4-1"/g) ?? []).length, 2);
    assert.match(html, /\.tv>input:nth-of-type\(2\):checked~div:nth-of-type\(2\)\{display:block\}/);
    const matrix = section.slice(section.indexOf('<table class="tm">'), section.indexOf("</table>", section.indexOf('<table class="tm">')));
    assert.ok(matrix.includes("&lt;b&gt;") && !matrix.includes("<b>"));
    assert.equal((matrix.match(/<th class="k own"/g) ?? []).length, 2, "the set's own keys marked");
    assert.equal((matrix.match(/<td class="z"[^>]*>0<\/td>/g) ?? []).length, 2, "head 0: P's two sibling weights are exact zeros, nothing else is");
    assert.match(matrix, /<td class="b1" title="1\.00e-9">/);
    assert.ok(section.includes("3 earlier prompt keys not shown"));
    const md = renderReportMarkdown(withAttention);
    const mdRow = md.split("\n").find((l) => l.startsWith("| 4 | 1 |") && l.includes("| siblings |"))!;
    assert.ok(mdRow.includes("| 0 (exact) | 0.2 | 0.2 | 0.2 | 1.00e-7 |"), mdRow);
  });

  it("writes the three files atomically and never overwrites them", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "report-"));
    try {
      const files = await writeReport(dir, report);
      assert.deepEqual(fs.readdirSync(dir).sort(), ["report.html", "report.json", "report.md"]);
      assert.equal(JSON.parse(fs.readFileSync(files.json, "utf8")).steps[0].js, report.steps[0].js);
      await assert.rejects(writeReport(dir, report), /EEXIST/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { DivergenceCollector } from "../../src/engine/analysis/collector.js";
import { StepAnalyser } from "../../src/engine/analysis/step-analysis.js";
import { compareLogits } from "../../src/engine/analysis/divergence.js";

describe("DivergenceCollector", () => {
  it("collects per-step metrics (analysed from raw logits) and builds the report", () => {
    const rnd = lcg(8);
    const c = new DivergenceCollector({ p: { mode: "isolated" }, q: { mode: "visible" }, nullBaseline: { mode: "isolated", layouts: ["alone", "with extra row"] } });
    const analyser = new StepAnalyser(c.analysisOptions);
    const expected: number[] = [], expectedNull: number[] = [];
    for (let i = 0; i < 6; i++) {
      const p = syntheticLogits(500, rnd);
      const q = p.map((v) => v + (rnd() - 0.5));
      const alt = Float64Array.from(p, (v) => v + (rnd() - 0.5) * 1e-6);
      expected.push(compareLogits(p, q).js);
      expectedNull.push(compareLogits(p, alt).js);
      c.add(analyser.analyse({ step: { index: i, text: `t${i}`, setTokens: [1, 2] }, input: "logits", p, q, nullAlt: alt }));
    }
    const r = c.build();
    assert.deepEqual(r.steps.map((s) => s.js), expected);
    assert.deepEqual(r.nullBaseline.steps.map((s) => s.js), expectedNull);
    assert.equal(r.steps[2].text, "t2");
    assert.ok(r.steps[0].massP! > 0);
    assert.throws(() => new DivergenceCollector({ p: { mode: "isolated" }, q: { mode: "visible" }, nullBaseline: { mode: "causal", layouts: ["a", "b"] } }), /neither P's/);
  });
});
