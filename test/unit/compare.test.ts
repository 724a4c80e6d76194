import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededModelPath, TINY_SHAPE } from "../fixtures/seeded-model.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoSession } from "../../src/engine/session.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { compareModes, REPORT_TOKEN_SETS, SEATED_NULL_LAYOUTS, type CompareResult, type ReplayedStep } from "../../src/engine/analysis/compare-run.js";
import { visibleToken } from "../../src/protocol/token-display.js";
import { writeReport } from "../../src/engine/analysis/report-write.js";
import { readCapture, streamRow } from "../../src/engine/capture/reader.js";
import { SEATS_PER_COMPARISON, seatRunner, SessionGroup } from "../../src/engine/session-group.js";
import { compare as divergence } from "../../src/engine/analysis/divergence.js";
import { fromLogProbs } from "../../src/engine/math/distribution.js";
import { teacherForcedPerplexity } from "../../src/engine/tempo/perplexity.js";
import { softmax } from "../../src/engine/tempo/distribution.js";
import { runGeneration } from "../../src/engine/tempo/generate.js";
import { EFFECT_FACTOR, EQUALITY_FACTOR, FLOAT32_EPSILON, maxAbsDiff } from "../../src/engine/tempo/selfcheck.js";
import { ATTENTION_TARGETS, attentionBreakdown, UNKNOWN_KEY_STEP } from "../../src/engine/capture/attention.js";
import { TempoInputError } from "../../src/engine/errors.js";
import { tempo } from "../support/tempo-cli.js";

describe("compare: isolated vs visible by teacher-forced replay", () => {
  let model: TempoModel;
  before(async () => { model = await TempoModel.open(seededModelPath(TINY_SHAPE)); });
  after(async () => { await model.dispose(); });

  it("reports per-step divergence with a null baseline, and writes a capture Python can load", async () => {
    const config = resolveConfig({ threshold: 0.05, maxWidth: 4, maxSteps: 10 });
    const progress: string[] = [];
    const replayed: ReplayedStep[] = [];
    const { generation, report, recorder } = await compareModes(model, {
      prompt: "the value of", config, attentionLayers: [1], onProgress: (phase, done) => progress.push(`${phase}${done}`), onReplayed: (r) => replayed.push(r),
    });
    // Each step as it was analysed, in step order: the report's numbers, each mode's next token.
    assert.deepEqual(replayed.map((r) => [r.step, r.js, r.nullJs]), generation.steps.map((s, i) => [s, report.steps[i].js, report.nullBaseline.steps[i].js]));
    for (const r of replayed) {
      for (const e of [r.next.p, r.next.q]) assert.deepEqual({ text: e.text, special: e.special }, { special: undefined, ...model.tokenView(e.token) });
      assert.ok(r.next.p.prob > 0 && r.next.p.prob <= 1);
    }
    assert.equal(report.steps.length, generation.steps.length);
    assert.equal(report.p.mode, "isolated");
    assert.equal(report.q.mode, "visible");
    const firstSet = generation.steps.findIndex((s) => s.candidates.length > 1);
    assert.ok(firstSet >= 0);
    // Before the first set both modes decoded identical inputs: exactly no divergence.
    for (let i = 0; i < firstSet; i++) {
      assert.equal(report.steps[i].js, 0);
      assert.deepEqual(replayed[i].next.p, replayed[i].next.q);
    }
    assert.ok(report.steps[firstSet].js > 1e-6, "a visible set changes the next distribution");
    for (const s of report.steps) assert.ok(s.js >= 0 && s.js <= Math.log(2) + 1e-12);
    // The null baseline (same mode, other batch layout) stays at float noise, far below.
    const nullMax = Math.max(...report.nullBaseline.steps.map((s) => s.js));
    assert.ok(nullMax < 1e-6, `null baseline ${nullMax}`);
    assert.ok(progress.includes("generate1") && progress.includes(`replay${generation.steps.length}`));

    const dir = join(mkdtempSync(join(tmpdir(), "tempo-cmp-")), "capture");
    recorder.write(dir);
    await writeReport(dir, report);
    const capture = readCapture(dir);
    assert.equal(capture.steps.length, generation.steps.length);
    assert.deepEqual([...capture.logits.keys()].sort(), ["after-isolated", "after-visible", "members-isolated", "members-visible", "null-isolated"]);
    const members = capture.logits.get("members-visible")!;
    assert.equal(members.steps.length, generation.steps.reduce((a, s) => a + s.candidates.length, 0), "one row per member");
    // Attention of layer 1 for every step, in each of the three replays, labelled with its stream and mode.
    assert.ok(capture.attention.every((a) => a.layer === 1));
    const streams = new Map<string, string>();
    for (const a of capture.attention) streams.set(a.stream!, a.mode!);
    assert.deepEqual([...streams].sort(), [["null-isolated", "isolated"], ["replay-isolated", "isolated"], ["replay-visible", "visible"]]);
    for (const name of streams.keys()) {
      assert.deepEqual(capture.attention.filter((a) => a.stream === name).map((a) => a.step), generation.steps.map((_, i) => i), name);
    }
    assert.deepEqual(capture.manifest.files.attention?.streams?.map((s) => s.records), [generation.steps.length, generation.steps.length, generation.steps.length]);
    const json = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
    assert.equal(json.steps[firstSet].js, report.steps[firstSet].js);
    assert.ok(json.nullBaseline);
    assert.ok(existsSync(join(dir, "report.html")) && existsSync(join(dir, "report.md")));
    // The report carries each set's attention under P and Q: isolated siblings exactly 0,
    // visible siblings above 0 for every member and head.
    assert.ok(report.attention && report.attention.length > 0);
    for (const a of report.attention) {
      assert.equal(a.layer, 1);
      assert.ok(a.members.length > 1);
      const sib = a.targets.indexOf("siblings"), self = a.targets.indexOf("self");
      assert.ok(a.p[sib].flat().every((v) => v === 0), `step ${a.step}: isolated sibling mass must be exactly 0`);
      assert.ok(a.q[sib].flat().every((v) => v > 0), `step ${a.step}: every visible member attends to its siblings`);
      assert.ok(a.nullBaseline[sib].flat().every((v) => v === 0), "the null baseline is isolated too");
      assert.ok(a.p[self].flat().every((v) => v > 0) && a.q[self].flat().every((v) => v > 0));
    }
    // Token by token, for the first sets: the set's own keys, in member order and labelled by
    // the members' text; isolated members put exactly 0 on each other, visible ones more.
    const withTokens = report.attention.filter((a) => a.tokens);
    assert.ok(withTokens.length > 0 && withTokens.length <= REPORT_TOKEN_SETS);
    for (const a of withTokens) {
      const t = a.tokens!;
      const own = t.keys.flatMap((k, j) => (k.step === a.step ? [j] : []));
      const candidates = generation.steps[a.step].candidates;
      assert.deepEqual(own.map((j) => t.keys[j].text), candidates.map((c) => visibleToken(c)));
      for (let h = 0; h < a.heads; h++) for (let m = 0; m < own.length; m++) for (let o = 0; o < own.length; o++) {
        if (o === m) continue;
        assert.equal(t.p[h][m][own[o]], 0, `step ${a.step} head ${h}: isolated member ${m} on sibling ${o}`);
        assert.ok(t.q[h][m][own[o]] > 0, `step ${a.step} head ${h}: visible member ${m} on sibling ${o}`);
      }
      // Every query row's weights: the shown keys plus the hidden ones hold all of it (float32
      // softmax: within keys x 2^-23 of 1).
      for (const w of [t.p, t.q]) for (const row of w.flat()) {
        const sum = row.reduce((x, y) => x + y, 0);
        assert.ok(sum <= 1 + (t.keys.length + t.hidden.keys) * FLOAT32_EPSILON && sum >= 1 - t.hidden.maxMass - (t.keys.length + t.hidden.keys) * FLOAT32_EPSILON, `row sum ${sum}`);
      }
    }
    const html = readFileSync(join(dir, "report.html"), "utf8");
    assert.equal((html.match(/<input type="radio"/g) ?? []).length, withTokens.reduce((n, a) => n + a.heads, 0), "one head chip per head of each token view");
    assert.match(html, /Attention between parallel tokens/);
    assert.equal((html.match(/<details>/g) ?? []).length, new Set(report.attention.map((a) => a.step)).size);
  });

  it("attention of P and of the null baseline (same mode, other layout) agree to float noise; Q differs far above it", async () => {
    const config = resolveConfig({ threshold: 0.05, maxWidth: 4, maxSteps: 8 });
    const { generation, recorder } = await compareModes(model, {
      prompt: "the value of", config, attentionLayers: [0, 1], threads: 1, analysisWorkers: 0, logits: { kind: "full" },
    });
    const dir = join(mkdtempSync(join(tmpdir(), "tempo-cmp-")), "capture");
    recorder.write(dir);
    const capture = readCapture(dir);
    // The layout noise of this backend, measured: the largest |Δ log-prob| between the P replay
    // and the null replay's next-token distributions (full rows, same steps).
    const [pRows, nullRows] = ["after-isolated", "null-isolated"].map((n) => capture.logits.get(n)!);
    let floor = 0;
    for (let i = 0; i < pRows.logprobs.length; i++) floor = Math.max(floor, Math.abs(pRows.logprobs[i] - nullRows.logprobs[i]));
    const byKey = (stream: string) => new Map(capture.attention.filter((a) => a.stream === stream).map((a) => [`${a.step}:${a.layer}`, a]));
    const [P, Q, N] = ["replay-isolated", "replay-visible", "null-isolated"].map(byKey);
    const T = ATTENTION_TARGETS.length;
    let worstNull = 0;
    const visibleSiblings: { key: string; mean: number; keys: number }[] = [];
    for (const [key, p] of P) {
      const q = Q.get(key)!, n = N.get(key)!;
      // Derived bound (docs/tolerances.md): each mass is a sum over the keys the query can see
      // of float32 softmax weights, each within about an ulp of its layout's exact value, so
      // within keys x 2^-23; a score moved by d moves the weights by at most 2d in L1, and d is
      // taken as the layout noise measured above; two computations, each that far: x2.
      const keys = Math.max(...[p, n].map((r) => r.keySteps.filter((s) => s !== UNKNOWN_KEY_STEP).length));
      const bound = EQUALITY_FACTOR * Math.max(keys * FLOAT32_EPSILON, 2 * floor);
      const [bp, bq, bn] = [p, q, n].map((r) => attentionBreakdown(r, model.info.bos));
      for (let i = 0; i < bp.length; i++) {
        const d = Math.abs(bp[i] - bn[i]);
        worstNull = Math.max(worstNull, d);
        assert.ok(d <= bound, `${key} target ${ATTENTION_TARGETS[i % T]}: |P - null| ${d} > derived bound ${bound}`);
      }
      if (p.queryCells.length < 2) continue;
      // Isolated siblings are exactly 0; visible ones above 0 in every head (single heads of
      // this random model can look almost nowhere but at BOS, so only > 0 per head).
      const sib = ATTENTION_TARGETS.indexOf("siblings");
      let mean = 0;
      for (let i = sib; i < bq.length; i += T) {
        assert.equal(bp[i], 0);
        assert.ok(bq[i] > 0);
        mean += bq[i] / (bq.length / T);
      }
      visibleSiblings.push({ key, mean, keys });
    }
    // The effect against the noise of the same computation in another layout, measured on the
    // attention masses themselves (the worst |P - null| over every set, layer and target; not
    // below the float32 bound): the set's mean visible sibling mass, what the report's Q - P
    // shows, must stand EFFECT_FACTOR beyond it.
    for (const v of visibleSiblings) {
      const floorMass = Math.max(worstNull, v.keys * FLOAT32_EPSILON);
      assert.ok(v.mean > EFFECT_FACTOR * floorMass, `${v.key}: visible mean sibling mass ${v.mean} within ${EFFECT_FACTOR} x the measured attention noise ${floorMass}`);
    }
    const sets = visibleSiblings.length;
    assert.ok(sets > 0 && generation.steps.length === P.size / 2, `sets ${sets}, worst |P - null| ${worstNull}`);
  });

  it("compare --from <capture> --attention-layers all captures every layer's attention in both modes (and the null baseline)", () => {
    const root = mkdtempSync(join(tmpdir(), "tempo-cmp-from-"));
    const common = ["--model", seededModelPath(TINY_SHAPE), "--threads", "1", "--analysis-workers", "0"];
    const first = tempo("compare", ...common, "--prompt", "the value of", "--threshold", "0.05", "--max-width", "4", "--max-steps", "6", "--out", join(root, "run"));
    assert.equal(first.code, 0, first.stderr);
    const out = join(root, "again");
    const r = tempo("compare", ...common, "--from", join(root, "run"), "--attention-layers", "all", "--out", out);
    assert.equal(r.code, 0, r.stderr);
    const capture = readCapture(out);
    const steps = capture.steps.length;
    for (const [stream, mode] of [["replay-isolated", "isolated"], ["replay-visible", "visible"], ["null-isolated", "isolated"]]) {
      const recs = capture.attention.filter((a) => a.stream === stream);
      assert.equal(recs.length, TINY_SHAPE.nLayer * steps, `${stream}: one record per step and layer`);
      assert.deepEqual([...new Set(recs.map((a) => a.layer))].sort(), Array.from({ length: TINY_SHAPE.nLayer }, (_, l) => l), `${stream}: every layer`);
      assert.ok(recs.every((a) => a.mode === mode));
    }
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    assert.ok(report.attention.length > 0 && report.attention.every((a: { p: unknown; q: unknown; nullBaseline: unknown }) => a.p && a.q && a.nullBaseline));
  });

  it("compares a run that stopped because the context was full (the null layout gets its scratch cells)", async () => {
    const config = resolveConfig({ threshold: 0.02, maxWidth: 8, maxSteps: 1000 });
    const { generation, report, recorder } = await compareModes(model, { prompt: "the value", config, contextSize: 256, threads: 1 });
    assert.equal(generation.stopReason, "context-full");
    assert.equal(report.steps.length, generation.steps.length);
    assert.equal(report.nullBaseline.steps.length, generation.steps.length);
    const dir = join(mkdtempSync(join(tmpdir(), "tempo-cmp-")), "capture");
    const manifest = recorder.write(dir);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    assert.equal(manifest.versions.tempo, pkg.version);
  });

  it("gets the same report and capture rows with the divergence work on worker threads as inline", async () => {
    const config = resolveConfig({ threshold: 0.05, maxWidth: 4, maxSteps: 12 });
    const run = (analysisWorkers: number) => compareModes(model, { prompt: "the value of", config, threads: 1, analysisWorkers });
    const [inline, pooled] = [await run(0), await run(2)];
    assert.ok(inline.generation.steps.some((s) => s.candidates.length > 1));
    const metrics = (r: typeof inline) => [r.report.steps, r.report.nullBaseline.steps, r.report.summary];
    assert.deepEqual(metrics(pooled), metrics(inline));
    const rows = (r: typeof inline) => {
      const dir = join(mkdtempSync(join(tmpdir(), "tempo-cmp-")), "capture");
      r.recorder.write(dir);
      return [...readCapture(dir).logits.entries()];
    };
    assert.deepEqual(rows(pooled), rows(inline));
  });

  it("cancelled during the replays, it keeps the comparison of the steps replayed: steps, rows and attention cut there, stopped \"aborted\"", async () => {
    const config = resolveConfig({ threshold: 0.05, maxWidth: 4, maxSteps: 16 });
    const cancel = new AbortController();
    const result = await compareModes(model, {
      prompt: "the value of", config, threads: 1, attentionLayers: [1], signal: cancel.signal,
      onProgress: (phase, done) => { if (phase === "replay" && done === 5) cancel.abort(); },
    });
    assert.equal(result.generation.steps.length, 16, "the generation was done");
    assert.equal(result.complete, false);
    assert.equal(result.report.steps.length, 5);
    assert.equal(result.report.nullBaseline.steps.length, 5);
    const dir = join(mkdtempSync(join(tmpdir(), "tempo-cmp-")), "capture");
    result.recorder.write(dir);
    const capture = readCapture(dir);
    assert.equal(capture.manifest.stopReason, "aborted");
    assert.equal(capture.steps.length, 5);
    for (const [name, stream] of capture.logits) assert.ok(stream.steps.every((s) => s < 5) && stream.steps.includes(4), name);
    assert.ok(capture.attention.length > 0 && capture.attention.every((r) => r.step < 5));
    assert.deepEqual([...new Set(capture.attention.map((r) => r.step))].sort((a, b) => a - b), [0, 1, 2, 3, 4]);
  });

  it("cancelled before any step is replayed, it keeps nothing and says so", async () => {
    const cancel = new AbortController();
    await assert.rejects(compareModes(model, {
      prompt: "the value of", config: resolveConfig({ threshold: 0.05, maxWidth: 4, maxSteps: 16 }), threads: 1, signal: cancel.signal,
      onProgress: (phase, done) => { if (phase === "generate" && done === 3) cancel.abort(); },
    }), /comparison cancelled/);
  });

  it("on seats of one group (compare --prompts in batches): each prompt's sets, and the batch layout's rounding under a tenth of the P-Q effect at every step", async () => {
    const config = resolveConfig({ threshold: 0.05, maxWidth: 3, maxSteps: 8 });
    const prompts = ["the value of", "function return", "const x ="];
    const request = (prompt: string) => ({ prompt, config, threads: 1, analysisWorkers: 0, logits: { kind: "full" as const } });
    const alone: CompareResult[] = [];
    for (const prompt of prompts) alone.push(await compareModes(model, request(prompt)));
    const group = new SessionGroup(model, SEATS_PER_COMPARISON * prompts.length, { lanes: config.maxWidth, threads: 1, flashAttention: "off", scratchCells: config.maxSteps });
    let seated: CompareResult[];
    try {
      seated = await Promise.all(prompts.map((prompt) => compareModes(model, { ...request(prompt), seats: seatRunner(group).onSeat })));
    } finally {
      group.dispose();
    }
    const rows = (r: CompareResult) => {
      const dir = join(mkdtempSync(join(tmpdir(), "tempo-cmp-")), "capture");
      r.recorder.write(dir);
      return readCapture(dir);
    };
    prompts.forEach((prompt, k) => {
      const [a, s] = [alone[k], seated[k]];
      assert.deepEqual(s.generation.steps.map((x) => x.candidates.map((c) => c.token)), a.generation.steps.map((x) => x.candidates.map((c) => c.token)), `${prompt}: the same sets`);
      assert.ok(a.generation.steps.some((x) => x.candidates.length > 1), `${prompt}: sets of more than one member`);
      const [ca, cs] = [rows(a), rows(s)];
      assert.deepEqual(s.report.nullBaseline.layouts, SEATED_NULL_LAYOUTS);
      // A seat computes what a session of its own would, in another batch layout: no row carries
      // another seat's sequences, and session-group.test.ts shows a seat's logits bit for bit the
      // same whatever the other seats hold. What is left is the layout's rounding. The JS
      // distance (sqrt JS) is a metric, so the seated comparison's sqrt JS(P, Q) lies within
      // sqrt JS(P seated, P alone) + sqrt JS(Q seated, Q alone) of the lone one's: require that
      // sum under a tenth (EFFECT_FACTOR) of the effect, so the batch cannot change what a step
      // reads. A leak of another prompt's tokens moves a distribution by about the P-Q effect itself.
      const [la, ls, qa, qs] = [ca.logits.get("after-isolated")!, cs.logits.get("after-isolated")!, ca.logits.get("after-visible")!, cs.logits.get("after-visible")!];
      assert.equal(ls.steps.length, la.steps.length);
      a.report.steps.forEach((step, i) => {
        const moved = Math.sqrt(jsOf(streamRow(la, i).logprobs, streamRow(ls, i).logprobs)) + Math.sqrt(jsOf(streamRow(qa, i).logprobs, streamRow(qs, i).logprobs));
        const effect = Math.sqrt(step.js);
        assert.ok(moved < effect / EFFECT_FACTOR, `${prompt}, step ${i}: the seats moved the distributions by ${moved} (sqrt JS), the effect is ${effect}`);
        assert.ok(Math.abs(Math.sqrt(s.report.steps[i].js) - effect) < effect / EFFECT_FACTOR, `${prompt}, step ${i}: sqrt JS(P, Q) ${Math.sqrt(s.report.steps[i].js)} seated, ${effect} alone`);
      });
    });
  });

  it("refuses batches it cannot run, in one line and before the model loads: attention capture, one prompt, more than the sequences allow", () => {
    const prompts = join(mkdtempSync(join(tmpdir(), "tempo-cmp-")), "prompts.txt");
    writeFileSync(prompts, "the value of\nfunction return\n");
    const flags = ["compare", "--model", seededModelPath(TINY_SHAPE), "--threads", "1", "--max-width", "3"];
    for (const [args, message] of [
      [["--prompts", prompts, "--attention-layers", "0", "--batch-prompts", "2"], /^tempo: attention capture needs sessions of their own: compare with attention layers one prompt per decode \(batchPrompts 1\)$/],
      [["--prompt", "the value", "--batch-prompts", "2"], /^tempo: batch prompts share decodes between the prompts of a suite \(--prompts\): one prompt, or --from, has none to share with$/],
      [["--prompts", prompts, "--batch-prompts", "99"], /^tempo: prompts per decode must be a whole number from 1 to 17 \(llama.cpp allows 256 sequences; each prompt takes 15 at width 3\), got 99$/],
    ] as const) {
      const r = tempo(...flags, ...args, "--out", join(tmpdir(), `tempo-never-${process.pid}`));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr.trim(), message);
    }
  });

  it("on seats, refuses attention capture (a tapped context is a context of its own)", async () => {
    const group = new SessionGroup(model, SEATS_PER_COMPARISON, { lanes: 3, flashAttention: "off" });
    try {
      await assert.rejects(compareModes(model, { prompt: "the value", config: resolveConfig({ maxWidth: 3, maxSteps: 2 }), attentionLayers: [0], seats: seatRunner(group).onSeat }),
        (e: unknown) => e instanceof TempoInputError && /attention capture needs sessions of their own/.test(e.message));
    } finally {
      group.dispose();
    }
  });

  it("refuses standard mode and a mode compared with itself", async () => {
    await assert.rejects(compareModes(model, { prompt: "x", config: resolveConfig({ mode: "standard" }) }), /two parallel modes/);
    await assert.rejects(compareModes(model, { prompt: "x", config: resolveConfig({}), qMode: "isolated" }), /two different modes/);
  });
});

describe("teacher-forced perplexity", () => {
  let model: TempoModel;
  let session: TempoSession;
  before(async () => {
    model = await TempoModel.open(seededModelPath(TINY_SHAPE));
    session = new TempoSession(model, { contextSize: 512, lanes: 4 });
  });
  after(async () => { session.dispose(); await model.dispose(); });

  it("standard mode equals exp(mean NLL) computed prefix by prefix", async () => {
    const text = "the value of function return";
    const config = resolveConfig({ mode: "standard" });
    const result = await teacherForcedPerplexity(session, text, config);
    const tokens = model.promptTokens(text);
    // The same logits in perplexity's layout (one token a step on a growing cache)...
    session.reset();
    const stepLogits: Float32Array[] = [Float32Array.from(session.decodeSequence(tokens.slice(0, 1)))];
    await runGeneration(session, {
      promptTokens: tokens.slice(0, 1), config: { ...config, maxSteps: tokens.length - 2 }, teacherTokens: tokens.slice(1, -1),
      onDistributions: (_, logits) => { stepLogits.push(Float32Array.from(logits[0])); },
    });
    // ...and in the reference's: each prefix decoded whole, in one batch.
    let nll = 0, layoutNoise = 0;
    for (let k = 1; k < tokens.length; k++) {
      session.reset();
      const logits = session.decodeSequence(tokens.slice(0, k));
      nll -= Math.log(softmax(logits, 1)[tokens[k]]);
      layoutNoise += maxAbsDiff(logits, stepLogits[k - 1]);
    }
    const n = tokens.length - 1;
    assert.equal(result.tokens, n);
    // Derived bound: log-softmax moves by at most 2‖Δz‖∞ when the logits move by Δz, so the
    // two layouts' mean NLLs differ by at most 2 × the mean max |Δlogit| measured between them
    // (float32 rounding of the batch shapes); 1e-12 covers the float64 sums.
    const bound = (2 * layoutNoise) / n + 1e-12;
    const gap = Math.abs(Math.log(result.perplexity) - nll / n);
    assert.ok(gap <= bound, `|Δ ln ppl| ${gap} > derived bound ${bound}`);
    assert.ok(layoutNoise > 0 || gap === 0, "bit-identical layouts must give the same perplexity");
    assert.equal(result.meanSetSize, 1);
  });

  it("TEMPO modes add siblings around the reference token and score it under the policy", async () => {
    const text = "the value of function return";
    const iso = await teacherForcedPerplexity(session, text, resolveConfig({ mode: "isolated", threshold: 0.05, maxWidth: 4 }));
    const std = await teacherForcedPerplexity(session, text, resolveConfig({ mode: "standard" }));
    assert.equal(iso.tokens, std.tokens);
    assert.ok(iso.meanSetSize > 1);
    assert.ok(iso.cells > std.cells);
    assert.notEqual(iso.perplexity, std.perplexity);
  });

  it("scores a text longer than the context in sliding windows, each token once, as the window rule says", async () => {
    const small = new TempoSession(model, { contextSize: 32, lanes: 4 });
    try {
      const text = "the value of function return index array string number ".repeat(6);
      const tokens = model.promptTokens(text);
      const config = resolveConfig({ mode: "standard" });
      const result = await teacherForcedPerplexity(small, text, config, { window: 24, stride: 10 });
      const W = 24, S = 10, N = tokens.length;
      assert.ok(N > 2 * W, `a text of ${N} tokens`);
      assert.equal(result.tokens, N - 1, "every token after BOS scored once");
      assert.deepEqual(result.windows, { size: W, stride: S, count: 1 + Math.ceil((N - W) / S) });
      // The reference, from the rule as stated: window 0 scores tokens 1..W-1 after BOS; window
      // k scores [W + (k-1)S, W + kS), after BOS and the tokens before it that fill W in all.
      // Decoded the way the run decodes (one token a step on a growing cache), so the same
      // float32 operations: only the float64 sum may round differently (1e-12 relative).
      let nll = 0;
      const scoreWindow = (context: number[], scored: number[]) => {
        small.reset();
        let logits = small.decodeSequence(context);
        for (const t of scored) {
          nll -= Math.log(softmax(logits, 1)[t]);
          logits = small.decodeSequence([t]);
        }
      };
      scoreWindow(tokens.slice(0, 1), tokens.slice(1, W));
      for (let start = W; start < N; start += S) {
        const end = Math.min(start + S, N);
        scoreWindow([tokens[0], ...tokens.slice(Math.max(1, end - W + 1), start)], tokens.slice(start, end));
      }
      assert.ok(Math.abs(result.meanNll - nll / (N - 1)) <= 1e-12 * Math.abs(result.meanNll), `${result.meanNll} vs ${nll / (N - 1)}`);
      assert.ok(result.cells <= W);

      // TEMPO mode: the default window leaves room for sets as wide as max width.
      const C = small.contextSize; // llama.cpp may round the context up (here 32 -> 256)
      const long = text.repeat(Math.ceil((2 * C) / N));
      const iso = await teacherForcedPerplexity(small, long, resolveConfig({ mode: "isolated", threshold: 0.05, maxWidth: 3 }));
      assert.equal(iso.tokens, model.promptTokens(long).length - 1);
      assert.equal(iso.windows.size, Math.floor((C - 1) / 3) + 1);
      assert.ok(iso.windows.count > 1 && iso.cells <= C && iso.meanSetSize > 1, JSON.stringify(iso));
    } finally { small.dispose(); }
  });

  it("refuses a window the context cannot hold, a bad stride, and a text too short to score", async () => {
    const config = resolveConfig({ mode: "standard" });
    await assert.rejects(teacherForcedPerplexity(session, "the value", config, { window: 513 }), /window must be .* 3 to the context's 512/);
    await assert.rejects(teacherForcedPerplexity(session, "the value", config, { window: 16, stride: 15 }), /stride must be .* 1 to the window minus 2 \(14\)/);
    await assert.rejects(teacherForcedPerplexity(session, "", config), /empty/);
  });
});

/** Jensen-Shannon divergence (nats) between two stored log-probability rows. */
function jsOf(a: Float32Array, b: Float32Array): number {
  return divergence(fromLogProbs(a), fromLogProbs(b)).js;
}
