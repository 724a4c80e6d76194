import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededModelPath, TINY_GQA_SHAPE, TINY_SHAPE } from "../fixtures/seeded-model.js";
import { tempo } from "../support/tempo-cli.js";

describe("tempo CLI", () => {
  const model = seededModelPath(TINY_SHAPE);

  it("generate --json prints the documented object", () => {
    const r = tempo("generate", "--model", model, "--prompt", "the value", "--mode", "isolated", "--threshold", "0.05", "--max-width", "4", "--policy", "top", "--max-steps", "8", "--json");
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.config.mode, "isolated");
    assert.equal(out.config.policy, "top");
    assert.equal(out.config.threshold, 0.05);
    assert.equal(out.config.maxWidth, 4);
    assert.equal(out.promptTokens[0], 1, "BOS first");
    assert.equal(out.steps.length, 8);
    assert.equal(out.stopReason, "max-steps");
    assert.equal(typeof out.text, "string");
    for (const s of out.steps) {
      assert.deepEqual(Object.keys(s).filter((k) => ["index", "position", "candidates"].includes(k)).sort(), ["candidates", "index", "position"]);
      const probs = s.candidates.map((c: { prob: number }) => c.prob);
      assert.deepEqual(probs, [...probs].sort((a: number, b: number) => b - a));
      for (const c of s.candidates) assert.deepEqual(["prob", "text", "token"].every((k) => k in c), true);
    }
  });

  it("generate streams text with sets inline", () => {
    const r = tempo("generate", "--model", model, "--prompt", "the value", "--threshold", "0.05", "--max-steps", "8");
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith("the value"));
    assert.match(r.stdout, /⟦[^⟧]*¦[^⟧]*⟧/, "a set shown as ⟦a¦b⟧");
    assert.match(r.stderr, /\[max-steps\] 8 steps/);
  });

  it("a reader that goes away (| head) ends the output: no stack trace, help exits 0, a run stops as cancelled", () => {
    // bash -c so that stdout is a pipe whose reader exits after the first bytes, as `| head -c` does.
    const pipe = (args: string) => spawnSync("bash", ["-c", `"${process.execPath}" --import tsx src/cli/main.ts ${args} | head -c 8 > /dev/null; echo "rc=\${PIPESTATUS[0]}" >&2`], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    const help = pipe("generate --help");
    assert.doesNotMatch(help.stderr, /EPIPE|at .*\(node:/, help.stderr);
    assert.match(help.stderr, /rc=0/);
    const run = pipe(`generate --model ${model} --prompt "the value" --max-steps 200000 --context-size 512`);
    assert.doesNotMatch(run.stderr, /EPIPE|at .*\(node:/, run.stderr);
    assert.match(run.stderr, /\[aborted\]/, "the run stopped, and said so on stderr");
  });

  it("rejects unknown flags and out-of-range values with one line", () => {
    for (const args of [
      ["generate", "--model", model, "--prompt", "x", "--bogus"],
      ["generate", "--model", model, "--prompt", "x", "--threshold", "0"],
      ["generate", "--model", model, "--prompt", "x", "--threshold", "abc"],
      ["generate", "--model", model, "--prompt", "x", "--max-width", "300"],
      ["generate", "--model", model, "--prompt", "x", "--mode", "weird"],
      ["generate", "--model", model, "--prompt", ""],
      ["generate", "--model", "/nonexistent.gguf", "--prompt", "x"],
      ["compare", "--model", model, "--prompt", "x", "--f16", "--out", join(tmpdir(), "tempo-never-written")],
    ]) {
      const r = tempo(...args);
      assert.notEqual(r.code, 0, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, `one line for ${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "");
    }
  });

  it("selfcheck prints a table and exits 0 when every check passes", () => {
    const r = tempo("selfcheck", "--model", model);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /isolated member = separate prefix\+member run.*pass/);
    assert.equal((r.stdout.match(/pass$/gm) ?? []).length, 6);
  });

  it("selfcheck: an effect it cannot tell from the floor is inconclusive (exit 3), never FAIL", () => {
    // Isolation is bit-exact here, so no equality can fail; a floor above every real effect
    // leaves the effect rows undecided: "inconclusive", with the reason, and exit 3.
    const r = tempo("selfcheck", "--model", model, "--noise-floor", "1e9");
    assert.equal(r.code, 3, r.stderr);
    assert.doesNotMatch(r.stdout, /FAIL/);
    assert.match(r.stdout, /visible differs from isolated .* inconclusive +\(effect only .* the noise floor/);
    assert.match(r.stdout, /^result: inconclusive \(4 of 6 rows pass\) — M=4 visible differs from isolated: inconclusive; /m);
  });

  it("selfcheck --width 4,32 --json: one result per width, each with its measured floor", () => {
    // One decode thread: with every core decoding, a busy machine (CI) slows spinning threads ~30x.
    const r = tempo("selfcheck", "--model", model, "--width", "4,32", "--threads", "1", "--json");
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.verdict, "pass");
    assert.deepEqual(out.results.map((x: { width: number }) => x.width), [4, 32]);
    for (const x of out.results) {
      assert.equal(x.noiseFloor.source, "measured");
      assert.equal(x.rows.length, 6);
    }
    assert.notEqual(tempo("selfcheck", "--model", model, "--width", "4,1").code, 0, "a width below 2 is refused");
  });

  it("perplexity ends with the line 'perplexity <value>'", () => {
    const file = join(mkdtempSync(join(tmpdir(), "tempo-ppl-")), "ref.txt");
    writeFileSync(file, "the value of function return");
    for (const extra of [[], ["--json"]]) {
      const r = tempo("perplexity", "--model", model, "--file", file, ...extra);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.match(lines[lines.length - 1], /^perplexity \d+\.\d+$/);
    }
  });

  it("compare writes a capture with a report, refuses to overwrite, and refuses a capture from another model", () => {
    const root = mkdtempSync(join(tmpdir(), "tempo-cmp-cli-"));
    const out = join(root, "cap");
    const r = tempo("compare", "--model", model, "--prompt", "the value", "--threshold", "0.05", "--max-steps", "6", "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /JS\(isolated \|\| visible\)/);
    assert.ok(existsSync(join(out, "report.json")) && existsSync(join(out, "steps.jsonl")));
    const again = tempo("compare", "--model", model, "--prompt", "the value", "--out", out);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists/);
    const other = tempo("compare", "--model", seededModelPath(TINY_GQA_SHAPE), "--from", out, "--out", join(root, "cap2"));
    assert.equal(other.code, 2);
    assert.match(other.stderr, /cannot replay: the capture was made with/);
    assert.equal(other.stderr.trim().split("\n").length, 1);
  });

  it("compare --analysis-workers moves the divergence work to worker threads with the same report, and refuses a bad count", () => {
    const root = mkdtempSync(join(tmpdir(), "tempo-cmp-cli-"));
    const args = ["compare", "--model", model, "--prompt", "the value", "--threshold", "0.05", "--max-steps", "10"];
    const reports = ["0", "2"].map((n) => {
      const out = join(root, `cap-${n}`);
      const r = tempo(...args, "--analysis-workers", n, "--out", out);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
      return [report.steps, report.nullBaseline.steps];
    });
    assert.ok(reports[0][0].length > 0);
    assert.deepEqual(reports[1], reports[0]);
    for (const bad of ["-1", "1.5", "x"]) {
      const r = tempo(...args, "--analysis-workers", bad, "--out", join(root, "bad"));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /analysis workers must be a whole number from 0 to 64/);
    }
  });
});

