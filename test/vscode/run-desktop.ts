// `npm run test:vscode:desktop`: the in-host suite of `npm run test:vscode` (test/vscode/*.test.ts,
// same runner, same JSON report) in desktop VS Code (Electron) through @vscode/test-electron.
// On first use @vscode/test-electron downloads VS Code into .vscode-test/ (needs network);
// TEMPO_VSCODE_EXECUTABLE=<path to code> uses an installed VS Code instead. Needs a display:
// on a headless Linux, run it under xvfb-run.
//   TEMPO_VSCODE_VERSION=<x.y.z>   which VS Code to download (default: the code-server suite's 1.100.3)
//   TEMPO_VSCODE_TEST_GREP=<pattern>   run only the matching tests
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runTests } from "@vscode/test-electron";
import { ROOT, cleanupAll, tempDir } from "../../scripts/vscode/harness.js";
import { prepareInHostRun, printTestReport } from "../../scripts/vscode/in-host-suite.js";
import type { TestReport } from "./index.js";

const VERSION = process.env.TEMPO_VSCODE_VERSION ?? "1.100.3";

async function main(): Promise<number> {
  const t0 = Date.now();
  const { workspace, reportFile } = prepareInHostRun("vscode-desktop");
  const executable = process.env.TEMPO_VSCODE_EXECUTABLE;
  try {
    await runTests({
      ...(executable ? { vscodeExecutablePath: executable } : { version: VERSION }),
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: join(ROOT, "out/test/vscode/index.cjs"),
      extensionTestsEnv: { TEMPO_VSCODE_TEST_REPORT: reportFile, ...(process.env.TEMPO_VSCODE_TEST_GREP ? { TEMPO_VSCODE_TEST_GREP: process.env.TEMPO_VSCODE_TEST_GREP } : {}) },
      launchArgs: [workspace, "--disable-extensions", "--disable-workspace-trust", "--user-data-dir", tempDir("vscode-data"), "--skip-welcome", "--skip-release-notes"],
    });
  } catch (e) {
    // The host exits 0 whether tests pass or fail, so an exception here is a launch or download failure.
    if (!existsSync(reportFile)) {
      console.error(`\ndesktop VS Code did not run the tests: ${(e as Error).message}`);
      if (!executable) console.error(`(downloading VS Code ${VERSION} needs network; set TEMPO_VSCODE_EXECUTABLE to use an installed VS Code)`);
      console.log("0 passed, 1 failed");
      return 1;
    }
  }
  if (!existsSync(reportFile)) {
    console.error("\ndesktop VS Code exited without a test report: the extension host did not run the suite");
    console.log("0 passed, 1 failed");
    return 1;
  }
  return printTestReport(JSON.parse(readFileSync(reportFile, "utf8")) as TestReport, Date.now() - t0) ? 0 : 1;
}

const code = await main().catch((e: unknown) => {
  console.error(e);
  return 1;
});
await cleanupAll();
process.exit(code);
