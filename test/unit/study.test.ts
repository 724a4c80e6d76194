/**
 * `tempo study seed --short` on the demo model, as CI runs it (#18): every claim of the seed
 * document gets a verdict from the data, and the stored study.json reruns to the same folders.
 */
import * as assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STUDY_REPORT, type StudyReport } from "../../src/cli/study-report.js";
import { readStudyFile, STUDY_FILE_NAME, studyPath } from "../../src/cli/study.js";
import { assertSameFolder } from "../support/same-folder.js";
import { tempo } from "../support/tempo-cli.js";

describe("tempo study seed", function () {
  this.timeout(600_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), "tempo-study-")); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("--short on the demo model: a folder per part, and a report with a verdict and intervals for each of the seed's claims; study.json reruns it", () => {
    const out = join(dir, "seed");
    const r = tempo("study", "seed", "--short", "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `wrote ${join(out, STUDY_REPORT.md)}\n`);
    for (const f of ["divergence/paired.json", "wide/paired.json", "quality/summary.json", "perplexity.json", STUDY_FILE_NAME, STUDY_REPORT.md, STUDY_REPORT.json]) assert.ok(existsSync(join(out, f)), f);
    const report = JSON.parse(readFileSync(join(out, STUDY_REPORT.json), "utf8")) as StudyReport;
    assert.deepEqual(report.claims.map((c) => c.id), ["attention-identical", "logits-affected", "shared-position", "high-parallelism", "quality"]);
    const of = (id: string) => report.claims.find((c) => c.id === id)!;
    // What the engine guarantees, seen in the data: isolated members never attend to siblings, members share a position in cells of their own.
    assert.match(of("attention-identical").result[0], /isolated exactly 0 in every one; visible mean [\d.e-]+, 95% bootstrap \[/);
    assert.equal(of("shared-position").verdict, "confirmed");
    const stored = readStudyFile(join(out, STUDY_FILE_NAME));
    const shipped = readStudyFile(studyPath("seed"));
    assert.equal(stored.prompts.length, shipped.short.prompts, "--short cut the prompts, and the stored study says so");
    assert.match(of("high-parallelism").result[0], new RegExp(`widest ${shipped.wide.generation!.maxWidth}`), "the wide part reached its width");
    const md = readFileSync(join(out, STUDY_REPORT.md), "utf8");
    for (const c of report.claims) assert.ok(md.includes(`## ${c.id}: ${c.verdict}`), c.id);

    const again = join(dir, "seed-again");
    const rerun = tempo("study", join(out, STUDY_FILE_NAME), "--out", again);
    assert.equal(rerun.code, 0, rerun.stderr);
    assertSameFolder(out, again);
  });

  it("refuses a missing study, a bad one and an --out that exists, in one line, exit 2", () => {
    const missing = tempo("study", join(dir, "nope.json"), "--out", join(dir, "x"));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^tempo: cannot read the study .*nope\.json: /);
    assert.equal(missing.stderr.trim().split("\n").length, 1);
    const bad = tempo("study", join(dir, "seed", "divergence", "paired.json"), "--out", join(dir, "y"));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^tempo: .*paired\.json: version: /);
    const exists = tempo("study", "seed", "--short", "--out", join(dir, "seed"));
    assert.equal(exists.code, 2);
    assert.match(exists.stderr, /^tempo: .*seed/);
  });
});
