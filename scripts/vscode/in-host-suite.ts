// What both harnesses of the in-host suite share, code-server (test/vscode/run.ts) and desktop
// VS Code (test/vscode/run-desktop.ts): building the suite, its workspace, and judging the run
// by the JSON report test/vscode/index.ts writes (VS Code's host exits 0 whether tests pass or fail).
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestReport } from "../../test/vscode/index.js";
import { ROOT, TEST_OUTPUT, run, tempDir } from "./harness.js";

/** Builds out/test/vscode, empties test-output/<suite>, makes a workspace; where the report will be. */
export function prepareInHostRun(suite: string): { out: string; workspace: string; reportFile: string } {
  run(process.execPath, [join(ROOT, "scripts/build.mjs"), "--tests"]);
  // A suite the build leaves out would vanish from the report without a failure.
  const unbuilt = readdirSync(join(ROOT, "test/vscode"))
    .filter((f) => f.endsWith(".test.ts"))
    .filter((f) => !existsSync(join(ROOT, "out/test/vscode", f.replace(/\.ts$/, ".cjs"))));
  if (unbuilt.length > 0) throw new Error(`the build left out ${unbuilt.join(", ")}`);
  const out = join(TEST_OUTPUT, suite);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const workspace = tempDir("ws");
  writeFileSync(join(workspace, "README.md"), "TEMPO integration test workspace\n");
  return { out, workspace, reportFile: join(out, "report.json") };
}

/** Prints one line per test and the totals; true when the run passed (tests ran, none failed). */
export function printTestReport(report: TestReport, wholeRunMs: number): boolean {
  for (const t of report.tests) {
    const mark = t.state === "passed" ? "ok  " : t.state === "failed" ? "FAIL" : "skip";
    console.log(`  ${mark} ${t.fullTitle}${t.durationMs !== undefined ? ` (${t.durationMs} ms)` : ""}`);
    if (t.error) console.log(t.error.replace(/^/gm, "       "));
  }
  if (report.runnerError) console.log(`runner error:\n${report.runnerError}`);
  const total = report.passed + report.failed;
  console.log(`\nVS Code ${report.vscodeVersion}, in-host tests ${report.durationMs} ms, whole run ${Math.round(wholeRunMs / 1000)} s`);
  console.log(`${report.passed} passed, ${report.failed} failed${report.pending ? `, ${report.pending} skipped` : ""}`);
  const ok = !report.runnerError && report.failed === 0 && total > 0;
  if (!ok && total === 0 && !report.runnerError) console.log("no test ran: counted as a failure");
  return ok;
}
