// `npm run test:vscode`: runs test/vscode/*.test.ts with mocha INSIDE a real VS Code 1.100
// extension host (code-server), opened by headless Chromium through the workbench URL's
// payload (extensionDevelopmentPath + extensionTestsPath). Passes only on a report with no
// failures; a missing report is a failure with the logs saved to test-output/vscode/.
//   TEMPO_VSCODE_TEST_GREP=<pattern>        run only the matching tests
//   TEMPO_VSCODE_TEST_TIMEOUT_MS=<ms>       how long to wait for the report (default 240000)
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import {
  ROOT,
  cleanupAll,
  ensureInstalled,
  launchChromium,
  log,
  remoteUri,
  saveLogs,
  sleep,
  startCodeServer,
  tempDir,
  workbenchUrl,
  type CodeServer,
} from "../../scripts/vscode/harness.js";
import { prepareInHostRun, printTestReport } from "../../scripts/vscode/in-host-suite.js";
import type { TestReport } from "./index.js";

const SUITE = "vscode";
const REPORT_TIMEOUT_MS = Number(process.env.TEMPO_VSCODE_TEST_TIMEOUT_MS ?? 240_000);

async function main(): Promise<number> {
  const t0 = Date.now();
  ensureInstalled();
  const { out, workspace, reportFile } = prepareInHostRun(SUITE);

  let server: CodeServer | undefined;
  let page: Page | undefined;
  try {
    server = await startCodeServer({
      folder: workspace,
      logFile: join(tempDir("cs-log"), "code-server.log"),
      // The extension host inherits this environment: the runner writes its report here.
      env: { TEMPO_VSCODE_TEST_REPORT: reportFile },
    });
    const browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const browserLog: string[] = [];
    page.on("console", (m) => browserLog.push(`[${m.type()}] ${m.text()}`));
    page.on("pageerror", (e) => browserLog.push(`[pageerror] ${e.message}`));

    const url = workbenchUrl(server, workspace, [
      ["extensionDevelopmentPath", remoteUri(server, ROOT)],
      ["extensionTestsPath", remoteUri(server, join(ROOT, "out/test/vscode/index.cjs"))],
    ]);
    log(SUITE, `opening ${url}`);
    await page.goto(url, { waitUntil: "domcontentloaded", timeout: 60_000 });

    const deadline = Date.now() + REPORT_TIMEOUT_MS;
    while (!existsSync(reportFile)) {
      if (Date.now() > deadline) {
        writeFileSync(join(out, "browser-console.log"), browserLog.join("\n"));
        throw new Error(
          `no test report after ${REPORT_TIMEOUT_MS / 1000} s: the extension host did not run the tests ` +
            `(the browser console and VS Code logs are in ${out})`,
        );
      }
      if (server.process.exitCode !== null) throw new Error(`code-server exited (${server.process.exitCode}) during the tests`);
      await sleep(500);
    }
    writeFileSync(join(out, "browser-console.log"), browserLog.join("\n"));

    const report = JSON.parse(readFileSync(reportFile, "utf8")) as TestReport;
    const ok = printTestReport(report, Date.now() - t0);
    if (!ok) {
      await page.screenshot({ path: join(out, "failure.png") }).catch(() => {});
      log(SUITE, `logs saved to ${saveLogs(SUITE, server)}`);
    }
    return ok ? 0 : 1;
  } catch (e) {
    console.error(`\n${SUITE} tests FAILED: ${(e as Error).message}`);
    await page?.screenshot({ path: join(out, "failure.png") }).catch(() => {});
    log(SUITE, `logs saved to ${saveLogs(SUITE, server)}`);
    console.log("0 passed, 1 failed");
    return 1;
  }
}

const code = await main().catch((e: unknown) => {
  console.error(e);
  return 1;
});
await cleanupAll();
process.exit(code);
