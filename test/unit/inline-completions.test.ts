// The pure parts of live inline completions: alternatives from a run's paths, the prompt cut
// to fit the context, the log's records and appends; and one real run on the demo model.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { distinctAlternatives, generateCompletionPaths, truncatedPaths } from "../../src/engine/eval/completion-paths.js";
import { truncateCompletion, type Truncation } from "../../src/engine/eval/completion.js";
import { fitPrefix, inlineTruncationTarget } from "../../src/engine/eval/inline-prompt.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoSession } from "../../src/engine/session.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import type { StepEvent } from "../../src/engine/types.js";
import { JsonlAppender, acceptanceSchema, acceptedRecord, offeredRecord, type Offer } from "../../src/extension/inlineLog.js";

/** A step whose members are `pieces` (token i of the fake vocabulary is pieces' global index). */
function fakeRun(sets: { text: string; prob: number }[][]): { steps: StepEvent[]; pathText: (t: number[]) => string } {
  const vocab: string[] = [];
  const steps = sets.map((set) => ({
    candidates: set.map((m, rank) => {
      vocab.push(m.text);
      return { token: vocab.length - 1, text: m.text, prob: m.prob, logprob: Math.log(m.prob), rank, cell: 0 };
    }),
  })) as unknown as StepEvent[];
  return { steps, pathText: (t) => t.map((i) => vocab[i]).join("") };
}

const JS_PREFIX = "/** Doubles x. */\nfunction double(x) {\n";

describe("inline completions: alternatives from a run", () => {
  it("gives each distinct truncated text once, in path order, the primary path's first", () => {
    const { steps, pathText } = fakeRun([
      [{ text: "  return x * 2;", prob: 0.6 }, { text: "  return x + x;", prob: 0.4 }],
      // Both members close the function: the text after the brace must not make two alternatives.
      [{ text: "\n}", prob: 0.7 }, { text: "\n}\nconsole.log(1);", prob: 0.3 }],
    ]);
    const paths = truncatedPaths(steps, inlineTruncationTarget(JS_PREFIX, "javascript"), 16, pathText);
    assert.equal(paths.length, 4);
    const alts = distinctAlternatives(paths, 5);
    assert.deepEqual(alts.map((a) => [a.text, a.closed, a.path]), [
      ["  return x * 2;\n}", true, 0],
      ["  return x + x;\n}", true, 1],
    ]);
    assert.ok(Math.abs(alts[0].logprob - (Math.log(0.6) + Math.log(0.7))) < 1e-12);
    assert.deepEqual(distinctAlternatives(paths, 1).map((a) => a.text), ["  return x * 2;\n}"]);
    assert.throws(() => distinctAlternatives(paths, 0), RangeError);
  });

  it("leaves out blank completions and keeps unclosed ones whole", () => {
    const { steps, pathText } = fakeRun([[{ text: "  \n", prob: 0.5 }, { text: "const y = 1;", prob: 0.3 }]]);
    const alts = distinctAlternatives(truncatedPaths(steps, inlineTruncationTarget("let a = 0;\n", "javascript"), 8, pathText), 5);
    assert.deepEqual(alts.map((a) => [a.text, a.closed, a.path]), [["const y = 1;", false, 1]]);
  });

  it("ends a completion where the block around the cursor closes", () => {
    const prefix = "function f(x) {\n  if (x) {\n    ";
    const t = truncateCompletion(inlineTruncationTarget(prefix, "javascript"), "return 1;\n  }\n  return 2;\n}\n");
    assert.equal(t.text, "return 1;\n  }\n");
    assert.equal(t.closed, true);
  });

  it("Python completions end at the indentation of the last def before the cursor", () => {
    const prefix = "def a():\n    pass\n\nclass C:\n    def b(self):\n        ";
    const target = inlineTruncationTarget(prefix, "python");
    assert.equal(target.entryPoint, "b");
    assert.equal(truncateCompletion(target, "return 1\n\n    def c(self):\n        pass\n").text, "return 1\n");
    assert.equal(inlineTruncationTarget("x = 1\n", "python").entryPoint, "");
  });
});

describe("inline completions: the prompt fits the context", () => {
  // One "token" per 4 characters, rounded up: grows with the text, as a tokenizer's count does.
  const count = (s: string): number => Math.ceil(s.length / 4);

  it("keeps a prompt that fits as it is", () => {
    assert.equal(fitPrefix("abc\ndef\n", 10, count), "abc\ndef\n");
  });

  it("drops whole leading lines, keeping the longest tail that fits", () => {
    const lines = Array.from({ length: 40 }, (_, i) => `line ${String(i).padStart(2, "0")}\n`);
    const prefix = lines.join("") + "  ret";
    const kept = fitPrefix(prefix, 30, count);
    assert.ok(prefix.endsWith(kept));
    assert.ok(count(kept) <= 30);
    const start = prefix.length - kept.length;
    assert.ok(start === 0 || prefix[start - 1] === "\n", "starts on a line");
    const previousLine = prefix.lastIndexOf("\n", start - 2) + 1;
    assert.ok(count(prefix.slice(previousLine)) > 30, "one more line would not fit");
  });

  it("cuts inside the last line only when that line alone is too long", () => {
    const prefix = "short\n" + "x".repeat(100);
    const kept = fitPrefix(prefix, 5, count);
    assert.equal(kept, "x".repeat(20));
    assert.throws(() => fitPrefix(prefix, 0, count), RangeError);
  });
});

describe("inline completions: the log", () => {
  const offer: Offer = {
    requestId: "r-1", language: "typescript", model: { path: "/m/model.gguf", sha256: "ab".repeat(32) }, arm: "visible",
    settings: { mode: "visible", threshold: 0.1, maxWidth: 8, maxSteps: 48 }, alternatives: 3, lengths: [10, 7, 12],
  };
  const run = { promptChars: 120, steps: 9, forwardPasses: 10, generateMs: 85.5, totalPaths: 6, stopReason: "function-end" };
  const now = new Date("2026-01-02T03:04:05.000Z");

  it("offered and accepted records carry arm, model, settings, count, index and length", () => {
    assert.deepEqual(offeredRecord(offer, run, now), { v: 1, time: "2026-01-02T03:04:05.000Z", event: "offered", ...offer, ...run });
    const acceptance = acceptanceSchema.parse({ offer, index: 2, closed: true });
    const accepted = acceptedRecord(acceptance, now);
    assert.equal(accepted.event, "accepted");
    assert.equal(accepted.arm, "visible");
    assert.equal(accepted.model.sha256, "ab".repeat(32));
    assert.equal(accepted.alternatives, 3);
    assert.equal(accepted.index, 2);
    assert.equal(accepted.length, 12);
    assert.equal(accepted.requestId, "r-1");
    assert.deepEqual(accepted.settings, offer.settings);
  });

  it("the accept command's argument is validated", () => {
    for (const bad of [
      { offer, index: 3, closed: true },
      { offer: { ...offer, lengths: [1] }, index: 0, closed: true },
      { offer: { ...offer, model: { path: "x", sha256: "nothex" } }, index: 0, closed: true },
      { offer: { ...offer, arm: "other" }, index: 0, closed: true },
      { offer, index: 0, closed: true, extra: 1 },
      undefined,
      "accepted",
    ]) assert.equal(acceptanceSchema.safeParse(bad).success, false, JSON.stringify(bad));
  });

  it("appends lines in call order, creates the folder and never loses earlier lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tempo-inline-"));
    const file = join(dir, ".tempo", "inline-completions.jsonl");
    const first = new JsonlAppender(file);
    await first.append({ n: -1 });
    // A second writer (another window) appends to the same file: both survive.
    writeFileSync(file, readFileSync(file, "utf8") + '{"n":-2}\n');
    const log = new JsonlAppender(file);
    await Promise.all(Array.from({ length: 50 }, (_, n) => log.append({ n })));
    const lines = readFileSync(file, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as { n: number });
    assert.deepEqual(lines.map((l) => l.n), [-1, -2, ...Array.from({ length: 50 }, (_, n) => n)]);
  });

  it("a failed write rejects that append only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tempo-inline-"));
    writeFileSync(join(dir, "file"), "");
    const bad = new JsonlAppender(join(dir, "file", "log.jsonl"));
    await assert.rejects(bad.append({ n: 1 }));
    await assert.rejects(bad.append({ n: 2 }), "still rejects, and does not hang");
  });
});

describe("inline completions on the demo model", function () {
  this.timeout(300_000);
  let model: TempoModel;
  let session: TempoSession;

  before(async () => {
    model = await TempoModel.open(join(process.cwd(), "models/tempo-demo-code.gguf"));
    session = new TempoSession(model, { lanes: 4, threads: 1 });
  });
  after(async () => {
    session?.dispose();
    await model?.dispose();
  });

  it("offers the distinct truncated paths of one run, the primary path's first, and stops when aborted", async () => {
    const config = resolveConfig({ mode: "isolated", threshold: 0.1, maxWidth: 4, maxSteps: 40 });
    const prefix = fitPrefix("/** Returns the sum of an array of numbers. */\nfunction sum(xs) {\n  ", Math.floor(session.contextSize / 2), (t) => model.promptTokens(t).length);
    const target = inlineTruncationTarget(prefix, "javascript");
    const g = await generateCompletionPaths(session, target, config, 32);
    if (!g) assert.fail("a run nobody aborted returned null");
    const alts = distinctAlternatives(g.paths, 5);
    assert.ok(alts.length >= 1 && alts.length <= 5);
    assert.equal(new Set(alts.map((a) => a.text)).size, alts.length, "distinct");
    // Each alternative is its path's truncated text; the primary path's comes first unless blank.
    for (const a of alts) {
      const t: Truncation = g.paths[a.path].truncation;
      assert.equal(a.text, t.closed ? t.text.replace(/\n$/, "") : t.text);
      if (a.closed) assert.ok(a.text.endsWith("}"), a.text);
    }
    if (g.paths[0].truncation.text.trim() !== "") assert.equal(alts[0].path, 0);
    console.log(`      ${g.steps} steps, ${g.forwardPasses} forward passes, ${g.totalPaths} paths, ${alts.length} alternatives, ${g.stopReason}`);

    const controller = new AbortController();
    controller.abort();
    assert.equal(await generateCompletionPaths(session, target, config, 32, controller.signal), null);
  });
});
