/** The `tempo` command as a test runs it: a child process on the sources (tsx), colour off, its exit code and output. */
import { spawnSync } from "node:child_process";

export interface CliResult { code: number | null; stdout: string; stderr: string }

export function tempo(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
