import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { seededModelPath, TINY_SHAPE } from "../fixtures/seeded-model.js";
import { PARTIAL_RESULTS } from "../../src/engine/capture/out-dir.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertSameFolder } from "../support/same-folder.js";
import { tempo } from "../support/tempo-cli.js";

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

  it("--out that cannot be written is refused before the run, for eval and compare alike", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "not a folder");
    for (const out of ["/proc/tempo-out", join(file, "out")]) {
      for (const args of [["eval", "--limit", "1"], ["compare", "--prompt", "x", "--max-steps", "2"]]) {
        const started = Date.now();
        const r = tempo(...args, "--model", seededModelPath(TINY_SHAPE), "--threads", "1", "--out", out);
        assert.equal(r.code, 2, `${args[0]} --out ${out}: ${r.stderr}`);
        assert.match(r.stderr, /^tempo: --out .*: cannot write there/);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        assert.ok(Date.now() - started < 60_000, "refused at once, not after a run");
      }
    }
  });

  /** The eval the tests below interrupt: the tiny model, one thread, one arm (`extra` adds flags). */
  const smallEval = (out: string, ...extra: string[]) => ["eval", "--model", seededModelPath(TINY_SHAPE), "--threads", "1", "--arms", "standard", "--max-steps", "24", ...extra, "--out", out];

  /** Starts smallEval (every built-in task unless `extra` limits it); resolves once `n` results are on disk. */
  async function evalUntil(out: string, n: number, ...extra: string[]) {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...smallEval(out, ...extra)], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => { stderr += d; });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
    const partial = join(out, PARTIAL_RESULTS);
    for (let waited = 0; ; waited += 20) {
      if (existsSync(partial) && readFileSync(partial, "utf8").split("\n").filter(Boolean).length >= n) break;
      if (child.exitCode !== null || waited > 240_000) throw new Error(`no ${n} results before the end: ${stderr}`);
      await sleep(20);
    }
    return { child, exited, stderr: () => stderr };
  }

  it("a killed eval keeps what finished in a visibly partial folder, which a rerun will not mix into", async () => {
    const out = join(dir, "killed");
    const run = await evalUntil(out, 2);
    // The process running the engine, as the system kills it for lack of memory: the command's
    // own process (the supervisor, src/cli/supervisor.ts) outlives it and says so in one line.
    const [engine] = readFileSync(`/proc/${run.child.pid}/task/${run.child.pid}/children`, "utf8").trim().split(" ").map(Number);
    process.kill(engine, "SIGKILL");
    const ended = await run.exited;
    assert.equal(ended.code, 1, run.stderr());
    assert.match(run.stderr(), /^tempo: the engine stopped while running eval on .*\.gguf: killed by SIGKILL, perhaps by the system for lack of memory$/m);
    const lines = readFileSync(join(out, PARTIAL_RESULTS), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { taskId: string; arm: string });
    assert.ok(lines.length >= 2 && lines.every((l) => l.arm === "standard" && l.taskId), "finished units are on disk, one JSON line each");
    assert.ok(!existsSync(join(out, "summary.json")), "no summary: the folder is not complete");
    const again = tempo("eval", "--model", seededModelPath(TINY_SHAPE), "--out", out);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /^tempo: --out .* holds a partial run \(killed, \d+ finished units?\): rerun with --resume to finish it, or --replace to delete it and start again\n$/);
  });

  it("SIGTERM, like Ctrl-C, ends the run with its finished units written and marked aborted (exit 130)", async () => {
    const out = join(dir, "terminated");
    const run = await evalUntil(out, 1);
    run.child.kill("SIGTERM");
    const { code } = await run.exited;
    assert.equal(code, 130, run.stderr());
    assert.deepEqual(readdirSync(out).sort(), ["experiment.json", "report.html", "report.md", "results.jsonl", "summary.json"], "the partial-results file gives way to the full set, and the experiment is stored");
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as { summary: { aborted: boolean } };
    assert.equal(summary.summary.aborted, true);
    assert.ok(readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n").length >= 1);
  });

  /**
   * summary.json's summary and results.jsonl's units without what measures time, nor the
   * prefill count (evaluatedTokens): it depends on how much prompt prefix the session's cache
   * shares with the task before, which a resumed run (starting cold) does not have. The
   * completions, outcomes and forward passes must match.
   */
  function outcome(out: string) {
    const timing = /Ms$|MsPerTask$|PerSecond$|^evaluatedTokens/;
    const strip = (v: unknown): unknown => Array.isArray(v) ? v.map(strip)
      : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).filter(([k]) => !timing.test(k)).map(([k, x]) => [k, strip(x)])) : v;
    const summary = (JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as { summary: unknown }).summary;
    const items = readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as unknown);
    return { summary: strip(summary), items: strip(items) };
  }

  it("--resume finishes a cancelled eval: the same summary and units as an uninterrupted run, timing aside; other settings are refused", async () => {
    // One unit per decode: a resumed batched run puts its units in other rounds than the
    // uninterrupted run did, so they match within layout noise only (docs/eval.md).
    const sixInTurn = ["--limit", "6", "--batch-prompts", "1"];
    const whole = join(dir, "whole");
    const full = tempo(...smallEval(whole, ...sixInTurn));
    assert.equal(full.code, 0, full.stderr);
    const out = join(dir, "resumed");
    const run = await evalUntil(out, 1, ...sixInTurn);
    run.child.kill("SIGINT");
    assert.equal((await run.exited).code, 130, run.stderr());
    const cut = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as { summary: { aborted: boolean; arms: { items: number }[] } };
    assert.equal(cut.summary.aborted, true, "interrupted before the end");
    const refused = tempo(...smallEval(out, ...sixInTurn));
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /holds a partial run \(cancelled, \d+ finished units?\): rerun with --resume .* or --replace/);
    const other = tempo(...smallEval(out, ...sixInTurn, "--max-steps", "20", "--resume"));
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /^tempo: --resume: --out .* was started with other settings \(eval\.maxSteps: 24 there, 20 now\); .*--replace\n$/);
    const resumed = tempo(...smallEval(out, ...sixInTurn, "--resume"));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(readdirSync(out).sort(), ["experiment.json", "report.html", "report.md", "results.jsonl", "summary.json"]);
    assert.deepEqual(outcome(out), outcome(whole));
    assert.equal(readFileSync(join(out, "experiment.json"), "utf8"), readFileSync(join(whole, "experiment.json"), "utf8"));
    const again = tempo(...smallEval(out, ...sixInTurn, "--resume"));
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /holds a finished run, which is never changed/);
  });

  it("--replace empties a killed eval's folder and runs anew; a folder that is not a tempo partial run is left as it is", async () => {
    const out = join(dir, "replaced");
    const run = await evalUntil(out, 1, "--limit", "3");
    run.child.kill("SIGKILL");
    await run.exited;
    assert.ok(existsSync(join(out, "experiment.json")), "stored before the first unit, so a killed run can be resumed");
    const replaced = tempo(...smallEval(out, "--limit", "3", "--replace"));
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.deepEqual(readdirSync(out).sort(), ["experiment.json", "report.html", "report.md", "results.jsonl", "summary.json"]);
    assert.equal(readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n").length, 3);
    const mine = join(dir, "mine");
    mkdirSync(mine);
    writeFileSync(join(mine, "results.partial.jsonl"), "");
    writeFileSync(join(mine, "notes.txt"), "keep");
    for (const flag of ["--replace", "--resume"]) {
      const r = tempo(...smallEval(mine, "--limit", "1", flag));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^tempo: ${flag}: --out .* is not a tempo eval's partial folder \\(it holds notes\\.txt, which a tempo eval does not write\\); nothing was changed\n$`));
    }
    assert.deepEqual(readdirSync(mine).sort(), ["notes.txt", "results.partial.jsonl"]);
  });

  it("--baselines sample,beam: matched to a TEMPO arm's rows per task, side by side in the report, and a rerun of experiment.json (YAML too) is the same", () => {
    const out = join(dir, "baselines");
    const flags = ["eval", "--model", seededModelPath(TINY_SHAPE), "--threads", "1", "--limit", "2", "--arms", "standard,isolated", "--max-steps", "16", "--path-cap", "4",
      "--baselines", "sample,beam", "--match", "isolated", "--temperature", "0.7", "--top-p", "0.9", "--seed", "11", "--beam-width", "2"];
    const r = tempo(...flags, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^sample +pass@1 \d+\/2 .* rows\/task [\d.]+ .* budget rows\/task [\d.]+$/m);
    const x = JSON.parse(readFileSync(join(out, "experiment.json"), "utf8"));
    assert.deepEqual(x.eval.baselines, { arms: ["sample", "beam"], match: "isolated", temperature: 0.7, topP: 0.9, seed: 11, beamWidth: 2 });
    const items = readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(items.map((i) => i.arm), ["standard", "isolated", "sample", "beam", "standard", "isolated", "sample", "beam"]);
    for (const i of items.filter((i) => i.budget)) {
      const matched = items.find((m) => m.taskId === i.taskId && m.arm === "isolated");
      assert.equal(i.budget.rows, matched.evaluatedTokens);
      assert.ok(i.evaluatedTokens <= i.budget.rows, `${i.arm} spent ${i.evaluatedTokens} of ${i.budget.rows}`);
    }
    const md = readFileSync(join(out, "report.md"), "utf8");
    assert.match(md, /## Matched compute: baselines at the rows of isolated/);
    assert.match(md, /\| beam \| [\d.]+ \| [\d.]+ \| 2 \| /);
    // Seeded: rerunning the stored experiment gives the same folder, timing aside; so does its YAML form.
    const again = join(dir, "baselines-again");
    const rerun = tempo("run", join(out, "experiment.json"), "--out", again);
    assert.equal(rerun.code, 0, rerun.stderr);
    assertSameFolder(out, again);
    const yaml = join(dir, "baselines.yaml");
    assert.equal(tempo(...flags, "--dump-experiment", yaml).code, 0);
    assert.ok(readFileSync(yaml, "utf8").includes("\n  baselines:\n    arms:\n      - sample\n      - beam\n    match: isolated\n"), "the baselines, as YAML");
    const fromYaml = join(dir, "baselines-yaml");
    assert.equal(tempo("run", yaml, "--out", fromYaml).code, 0);
    assertSameFolder(out, fromYaml);
  });

  it("refuses bad baseline flags with one line and exit 2, before the model loads", () => {
    const base = ["eval", "--model", seededModelPath(TINY_SHAPE), "--arms", "standard,isolated"];
    for (const [args, pattern] of [
      [["--baselines", "sample,greedy"], /^tempo: --baselines must be a comma-separated list of sample, beam; got "sample,greedy"$/],
      [["--baselines", "beam,beam"], /^tempo: --baselines names a baseline twice: "beam,beam"$/],
      [["--baselines", "sample", "--match", "standard"], /^tempo: --match must be a TEMPO arm \(isolated, visible, causal\); got "standard"$/],
      [["--baselines", "sample", "--match", "visible"], /^tempo: the baselines' budget must be matched to a TEMPO arm of this run \(isolated\), not visible$/],
      [["--baselines", "sample", "--top-p", "0"], /^tempo: top-p must be in \(0, 1\], got 0$/],
      [["--baselines", "sample", "--top-p", "1.5"], /^tempo: top-p must be in \(0, 1\], got 1\.5$/],
      [["--baselines", "sample", "--temperature", "0"], /^tempo: the sampling temperature must be in \(0, 100\], got 0$/],
      [["--baselines", "sample", "--temperature", "hot"], /temperature must be a number, got "hot"/],
      [["--baselines", "sample", "--seed", "0"], /^tempo: the seed must be an integer in \[1, 2147483648\], got 0$/],
      [["--baselines", "sample", "--seed", "1.5"], /^tempo: the seed must be an integer in \[1, 2147483648\], got 1\.5$/],
      [["--baselines", "beam", "--beam-width", "0"], /^tempo: the beam width must be an integer in \[1, 256\], got 0$/],
      [["--top-p", "0.9"], /^tempo: --top-p is a setting of the sample baseline: give --baselines sample$/],
      [["--baselines", "sample", "--beam-width", "2"], /^tempo: --beam-width is a setting of the beam baseline: give --baselines beam$/],
      [["--match", "isolated"], /^tempo: --match names the arm the baselines are matched to: give --baselines$/],
      [["--arms", "standard", "--baselines", "beam"], /^tempo: the baselines get the rows a TEMPO arm decoded: add isolated, visible or causal to the arms$/],
    ] as const) {
      const out = join(dir, "never-baselines");
      const r = tempo(...base, ...args, "--out", out);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr.trim(), pattern);
      assert.ok(!existsSync(out), "nothing written");
    }
  });
});
