// Judging an in-host test run by the JSON report test/vscode/index.ts writes (VS Code's host
// exits 0 whether tests pass or fail), for both harnesses: code-server (test/vscode/run.ts)
// and desktop VS Code (test/vscode/run-desktop.ts).
import type { TestReport } from "../../test/vscode/index.js";

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
