import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function tempo(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("tempo eval", function () {
  this.timeout(600_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), "tempo-eval-cli-")); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("smoke run on the demo model (--limit 3) writes the four files", () => {
    const out = join(dir, "smoke");
    const r = tempo("eval", "--limit", "3", "--arms", "standard,isolated", "--max-steps", "32", "--path-cap", "8", "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "", "progress and summary go to stderr");
    assert.match(r.stderr, /3\/6|6\/6/, "progress counts task × arm units");
    for (const f of ["results.jsonl", "summary.json", "report.md", "report.html"]) assert.ok(existsSync(join(out, f)), f);
    const lines = readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 6);
    for (const item of lines) {
      assert.ok(["standard", "isolated"].includes(item.arm));
      assert.ok(item.forwardPasses > 0);
      assert.ok(item.paths.n >= 1 && item.paths.n <= 8);
      assert.ok(["pass", "fail", "timeout", "memory"].includes(item.completions[item.primary.completion].status));
    }
    const { summary, meta } = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    assert.equal(meta.model.fileName, "tempo-demo-code.gguf");
    assert.match(meta.model.sha256, /^[0-9a-f]{64}$/);
    assert.equal(summary.tasks, 3);
    assert.equal(summary.primaryMetric, "pass@1 (primary path)");
    assert.deepEqual(summary.arms.map((a: { arm: string }) => a.arm), ["standard", "isolated"]);
    for (const a of summary.arms) assert.ok(a.pass1.wilson.lo >= 0 && a.pass1.wilson.hi <= 1 && a.pass1.n === 3);
    assert.equal(summary.comparisons.length, 4);
    const md = readFileSync(join(out, "report.md"), "utf8");
    for (const h of ["## Quality per arm", "## Paired comparisons against standard", "## Cost per task"]) assert.ok(md.includes(h), h);
  });

  it("refuses a non-empty --out, a malformed task file and bad arms with one line and exit 2", () => {
    const full = join(dir, "full");
    mkdirSync(full);
    writeFileSync(join(full, "keep.txt"), "mine");
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"task_id": "x"}\n');
    for (const [args, pattern] of [
      [["--out", full], /not empty/],
      [["--out", join(dir, "o1"), "--tasks", bad], /bad\.jsonl:1: missing or empty string field/],
      [["--out", join(dir, "o2"), "--arms", "standard,fast"], /arms must be/],
      [["--out", join(dir, "o3"), "--limit", "0"], /--limit must be a positive integer/],
      [["--out", join(dir, "o4"), "--threshold", "2"], /threshold must be in/],
    ] as const) {
      const r = tempo("eval", ...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
    assert.equal(readFileSync(join(full, "keep.txt"), "utf8"), "mine");
  });
});
