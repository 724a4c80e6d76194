/**
 * Shards of a suite and `tempo merge` (docs/scale.md): each suite command run as three
 * `--shard i/3` CLI processes, merged, and the merged folder compared file by file with the
 * unsharded run of the same suite; then merge's refusals and bad --shard values.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededModelPath, TINY_SHAPE } from "../fixtures/seeded-model.js";
import { assertSameFolder, TIMING, type VolatileFields } from "../support/same-folder.js";
import { EXPERIMENT_FILE_NAME, parseExperiment } from "../../src/protocol/experiment-file.js";
import { MAX_SHARDS, parseShardText, shardMembers } from "../../src/protocol/shard.js";
import { PAIRED_FILE } from "../../src/engine/analysis/paired-file.js";
import { EVAL_FILES } from "../../src/engine/eval/report.js";
import { PARTIAL_RESULTS } from "../../src/engine/capture/out-dir.js";
import { tempo } from "../support/tempo-cli.js";

/** A refusal: exit 2 and one `tempo:` line matching `pattern`. */
function assertRefused(r: ReturnType<typeof tempo>, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^tempo: [^\n]*\n$/, "one tempo: line");
  assert.match(r.stderr, pattern);
}

const SHARDS = 3;
const shardArgs = (i: number) => ["--shard", `${i}/${SHARDS}`];
const json = (file: string) => JSON.parse(readFileSync(file, "utf8"));

describe("shards and tempo merge", function () {
  this.timeout(600_000);
  const model = seededModelPath(TINY_SHAPE);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), "tempo-shard-")); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("the assignment deals every item to exactly one shard, in suite order", () => {
    for (const total of [1, 5, 12]) {
      for (const count of [1, 2, 3, total]) {
        const parts = Array.from({ length: count }, (_, k) => shardMembers(total, { index: k + 1, count }));
        assert.deepEqual(parts.flat().sort((a, b) => a - b), Array.from({ length: total }, (_, k) => k), `${total} items in ${count} shards`);
        for (const p of parts) assert.deepEqual(p, [...p].sort((a, b) => a - b));
        const sizes = parts.map((p) => p.length);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, "shards differ by at most one item");
      }
    }
    assert.deepEqual(parseShardText("2/3"), { index: 2, count: 3 });
    for (const bad of ["0/3", "4/3", "3", "a/3", "1/0", "1.5/3", "-1/3", `1/${MAX_SHARDS + 1}`]) assert.equal(parseShardText(bad), null, bad);
  });

  it("bad --shard values, more shards than items and a shard of no suite: one tempo: line, exit 2, before the model loads", () => {
    for (const bad of ["0/3", "4/3", "3", "a/3", "1/0", "1.5/3", `1/${MAX_SHARDS + 1}`]) {
      assertRefused(tempo("eval", "--model", model, "--shard", bad, "--out", join(dir, "never")), new RegExp(`--shard must be i/N with whole numbers 1 <= i <= N <= ${MAX_SHARDS}, got "${bad.replace(".", "\\.")}"`));
    }
    assertRefused(tempo("eval", "--model", model, "--limit", "2", "--shard", "3/3", "--out", join(dir, "never")), /shard 3\/3: the suite has 2 tasks, so at most 2 shards/);
    assertRefused(tempo("compare", "--model", model, "--prompt", "x", "--shard", "1/2", "--out", join(dir, "never")), /--shard cuts a suite of prompts/);
    assert.ok(!existsSync(join(dir, "never")));
    const file = { version: 1, command: "compare", prompt: "x", shard: { index: 1, count: 2 } };
    assert.deepEqual(parseExperiment(file), { ok: false, message: "shard: a shard is part of a suite of prompts: give prompts or promptsFile, not prompt" });
    const outOfRange = parseExperiment({ ...file, prompt: undefined, prompts: ["a", "b"], shard: { index: 3, count: 2 } });
    assert.ok(!outOfRange.ok && /shard index must be at most the shard count/.test(outOfRange.message));
  });

  describe("compare --prompts", () => {
    // Five prompts in three shards: 1, 4 | 2, 5 | 3 (unequal shards, one of a single prompt).
    const prompts = ["the value of", "function return", "const x =", "if (a) {", "let y"];
    // One prompt per decode: shards batch other prompts together than the whole run does, and
    // a batch's layout moves the last bits (docs/scale.md).
    const flags = () => ["compare", "--model", model, "--threads", "1", "--prompts", join(dir, "prompts.txt"), "--threshold", "0.05", "--max-width", "3", "--max-steps", "4", "--batch-prompts", "1"];
    const shard = (i: number) => join(dir, `compare-${i}`);
    let unshardedLine: string;
    before(() => {
      writeFileSync(join(dir, "prompts.txt"), prompts.join("\n") + "\n");
      const whole = tempo(...flags(), "--out", join(dir, "compare"));
      assert.equal(whole.code, 0, whole.stderr);
      unshardedLine = whole.stdout;
      for (let i = 1; i <= SHARDS; i++) {
        const r = tempo(...flags(), ...shardArgs(i), "--out", shard(i));
        assert.equal(r.code, 0, r.stderr);
      }
    });

    it("each shard records which it is, of which suite, and keeps the suite's prompt numbers", () => {
      const records = [1, 2, 3].map((i) => json(join(shard(i), PAIRED_FILE)).shard);
      records.forEach((r, k) => assert.deepEqual({ index: r.index, count: r.count, total: r.total }, { index: k + 1, count: SHARDS, total: prompts.length }));
      assert.match(records[0].suite, /^[0-9a-f]{64}$/);
      assert.ok(records.every((r) => r.suite === records[0].suite), "one suite");
      assert.deepEqual(json(join(shard(2), PAIRED_FILE)).items.map((i: { id: string }) => i.id), ["2", "5"]);
      assert.ok(existsSync(join(shard(2), "005")) && !existsSync(join(shard(2), "001")));
      assert.deepEqual(json(join(shard(2), EXPERIMENT_FILE_NAME)).shard, { index: 2, count: SHARDS });
      assert.equal(json(join(shard(2), "005", EXPERIMENT_FILE_NAME)).shard, undefined, "a prompt's own folder reruns that prompt, no shard");
    });

    it("a speed-only setting (--threads) leaves the suite identity as it is; another shard count is refused", () => {
      const faster = join(dir, "compare-1-threads");
      assert.equal(tempo(...flags(), "--threads", "2", ...shardArgs(1), "--out", faster).code, 0);
      assert.equal(json(join(faster, PAIRED_FILE)).shard.suite, json(join(shard(1), PAIRED_FILE)).shard.suite);
      assert.equal(tempo("merge", join(dir, "compare-merged-threads"), faster, shard(2), shard(3)).code, 0);
      const halves = join(dir, "compare-1-of-2");
      assert.equal(tempo(...flags(), "--shard", "1/2", "--out", halves).code, 0);
      assertRefused(tempo("merge", join(dir, "compare-refused"), halves, shard(2), shard(3)), /compare-2 \(shard 2\/3\) and .*compare-1-of-2 \(shard 1\/2\) cannot be shards of one run: the shard counts differ/);
    });

    it("merged (shards given in any order) is the unsharded run, every file equal but for timings", () => {
      const out = join(dir, "compare-merged");
      const r = tempo("merge", out, shard(3), shard(1), shard(2));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${unshardedLine.split("\n")[0]}\nmerged ${SHARDS} shards of ${prompts.length} prompts into ${out}\n`, "the suite's primary-metric line, as the unsharded run prints it");
      // Each prompt is compared in sessions of its own, so its folder does not depend on the
      // prompts run before it: paired.json and experiment.json are byte-identical, the rest
      // identical but for the dates and durations TIMING names.
      assertSameFolder(join(dir, "compare"), out);
      assert.equal(readFileSync(join(out, PAIRED_FILE), "utf8"), readFileSync(join(dir, "compare", PAIRED_FILE), "utf8"));
    });

    it("a shard's experiment.json reruns that shard", () => {
      const again = join(dir, "compare-2-again");
      const r = tempo("run", join(shard(2), EXPERIMENT_FILE_NAME), "--out", again);
      assert.equal(r.code, 0, r.stderr);
      assertSameFolder(shard(2), again);
    });

    it("refuses missing, duplicated, partial and foreign shards, other settings and an existing out, writing nothing", () => {
      const out = join(dir, "compare-refused");
      assertRefused(tempo("merge", out, shard(1), shard(2)), /shard 3\/3 missing: tempo merge needs the folders of all 3 shards/);
      assertRefused(tempo("merge", out, shard(1), shard(2), shard(2), shard(3)), /shard 2\/3 is given twice/);
      assertRefused(tempo("merge", out, join(dir, "compare"), shard(2), shard(3)), /compare is not a shard folder: its experiment\.json names no shard/);
      const other = join(dir, "compare-1-other");
      assert.equal(tempo(...flags(), "--max-steps", "5", ...shardArgs(1), "--out", other).code, 0);
      assertRefused(tempo("merge", out, shard(1), shard(2), other), /compare-1-other \(shard 1\/3\) is not of the same suite as .*compare-1 \(shard 1\/3\) \(generation\.maxSteps: 4 there, 5 now\)/);
      // What a cancelled shard leaves ("complete": false), and a killed one (no paired.json yet).
      const cancelled = join(dir, "compare-2-cancelled");
      cpSync(shard(2), cancelled, { recursive: true });
      writeFileSync(join(cancelled, PAIRED_FILE), JSON.stringify({ ...json(join(shard(2), PAIRED_FILE)), complete: false }));
      assertRefused(tempo("merge", out, shard(1), cancelled, shard(3)), /compare-2-cancelled \(shard 2\/3\) is partial: cancelled after 2 prompts; run it again with tempo run/);
      rmSync(join(cancelled, PAIRED_FILE));
      assertRefused(tempo("merge", out, shard(1), cancelled, shard(3)), /is partial: it has no paired\.json/);
      assert.ok(!existsSync(out), "nothing written");
      assertRefused(tempo("merge", shard(1), shard(1), shard(2), shard(3)), /compare-1 already exists/);
    });
  });

  describe("eval", () => {
    const limit = 5;
    // One unit per decode: a shard's rounds hold other units than the unsharded run's, so batched shards merge to it within layout noise only (docs/scale.md).
    const flags = ["eval", "--model", model, "--threads", "1", "--limit", String(limit), "--arms", "standard,isolated", "--max-steps", "16", "--path-cap", "4", "--batch-prompts", "1"];
    const shard = (i: number) => join(dir, `eval-${i}`);
    before(() => {
      const whole = tempo(...flags, "--out", join(dir, "eval"));
      assert.equal(whole.code, 0, whole.stderr);
      for (let i = 1; i <= SHARDS; i++) {
        const r = tempo(...flags, ...shardArgs(i), "--out", shard(i));
        assert.equal(r.code, 0, r.stderr);
      }
    });

    it("merged is the unsharded run: every unit, the summary and the reports equal but for timings and the prefill count", () => {
      const taskIds = (d: string) => [...new Set(readFileSync(join(d, EVAL_FILES.results), "utf8").trim().split("\n").map((l) => JSON.parse(l).taskId as string))];
      const all = taskIds(join(dir, "eval"));
      [1, 2, 3].forEach((i) => assert.deepEqual(taskIds(shard(i)), shardMembers(limit, { index: i, count: SHARDS }).map((k) => all[k])));
      const out = join(dir, "eval-merged");
      const r = tempo("merge", out, shard(1), shard(2), shard(3));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `merged ${SHARDS} shards of ${limit} tasks into ${out}\n`);
      /**
       * Beyond TIMING, a unit's evaluatedTokens (and the mean of it, the cost table's tokens
       * evaluated column) may differ: llama.cpp's counter depends on what the session evaluated
       * before the unit, and a shard's first task has a fresh session where the unsharded run's
       * has the task before it (as a resumed run's, test/unit/eval-cli.test.ts). Completions,
       * outcomes, forward passes and every statistic must match exactly.
       */
      const volatile: VolatileFields = { keys: [...TIMING.keys, "evaluatedTokens", "evaluatedTokensPerTask"], costColumns: [2, ...TIMING.costColumns] };
      assertSameFolder(join(dir, "eval"), out, volatile);
      assert.deepEqual(json(join(out, EVAL_FILES.summary)).summary.comparisons, json(join(dir, "eval", EVAL_FILES.summary)).summary.comparisons);
    });

    it("refuses a partial shard (killed: results.partial.jsonl) and a non-empty out", () => {
      const killed = join(dir, "eval-3-killed");
      cpSync(shard(3), killed, { recursive: true });
      // What a run killed before its end leaves: its finished units in results.partial.jsonl, no summary.
      for (const f of [EVAL_FILES.summary, EVAL_FILES.md, EVAL_FILES.html]) rmSync(join(killed, f));
      renameSync(join(killed, EVAL_FILES.results), join(killed, PARTIAL_RESULTS));
      assertRefused(tempo("merge", join(dir, "eval-refused"), shard(1), shard(2), killed), /eval-3-killed \(shard 3\/3\) is partial \(killed, 2 finished units\): finish it with tempo run .* --resume/);
      assertRefused(tempo("merge", shard(1), shard(1), shard(2), shard(3)), /--out .*eval-1 is not empty/);
      assert.ok(!existsSync(join(dir, "eval-refused")));
    });
  });
});
