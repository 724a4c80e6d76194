// Test runner loaded by VS Code's extension host (extensionTestsPath). It runs the suites with
// mocha and writes a JSON report, because the host exits 0 whether tests pass or fail: the
// harness (run.ts) judges the run by this report alone.
import { readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";

export interface TestRecord {
  fullTitle: string;
  state: "passed" | "failed" | "pending";
  durationMs?: number;
  error?: string;
}

export interface TestReport {
  passed: number;
  failed: number;
  pending: number;
  durationMs: number;
  tests: TestRecord[];
  /** Set when the runner itself failed (suite did not load, mocha crashed). */
  runnerError?: string;
  vscodeVersion: string;
}

function writeReport(report: TestReport): void {
  const target = process.env.TEMPO_VSCODE_TEST_REPORT;
  if (!target) throw new Error("TEMPO_VSCODE_TEST_REPORT is not set: start the tests with npm run test:vscode");
  // Atomic: the harness polls for the file and must never read half of it.
  writeFileSync(`${target}.tmp`, JSON.stringify(report, null, 2));
  renameSync(`${target}.tmp`, target);
}

export async function run(): Promise<void> {
  const started = Date.now();
  const report: TestReport = { passed: 0, failed: 0, pending: 0, durationMs: 0, tests: [], vscodeVersion: vscode.version };
  try {
    const { default: Mocha } = await import("mocha");
    const grep = process.env.TEMPO_VSCODE_TEST_GREP;
    const mocha = new Mocha({ ui: "bdd", timeout: 60_000, color: false, ...(grep ? { grep } : {}) });
    for (const f of readdirSync(__dirname).filter((n) => n.endsWith(".test.cjs")).sort()) mocha.addFile(join(__dirname, f));
    await mocha.loadFilesAsync();
    await new Promise<void>((resolve) => {
      const runner = mocha.run(() => resolve());
      runner.on("pass", (t) => {
        report.passed++;
        report.tests.push({ fullTitle: t.fullTitle(), state: "passed", durationMs: t.duration });
      });
      runner.on("fail", (t, err: Error) => {
        report.failed++;
        report.tests.push({ fullTitle: t.fullTitle(), state: "failed", durationMs: t.duration, error: err?.stack ?? String(err) });
      });
      runner.on("pending", (t) => {
        report.pending++;
        report.tests.push({ fullTitle: t.fullTitle(), state: "pending" });
      });
    });
  } catch (e) {
    report.runnerError = (e as Error)?.stack ?? String(e);
  }
  report.durationMs = Date.now() - started;
  writeReport(report);
}
