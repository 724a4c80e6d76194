// Shared pieces for running a real VS Code (code-server) and Chromium offline: used by
// `npm run vscode:serve`, the in-host integration tests and the end-to-end tests.
// Every process started here is registered for cleanup, so no code-server or Chromium
// outlives the script, whether it ends normally, fails, times out or is interrupted.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CODE_SERVER_VERSION = "4.100.3";
export const CODE_SERVER_DIR = process.env.TEMPO_CODE_SERVER_CACHE
  ? join(process.env.TEMPO_CODE_SERVER_CACHE, CODE_SERVER_VERSION)
  : join(ROOT, ".cache/code-server", CODE_SERVER_VERSION);
export const CODE_SERVER_ENTRY = join(CODE_SERVER_DIR, "out/node/entry.js");
export const CHROMIUM = process.env.TEMPO_CHROMIUM ?? "/usr/bin/chromium";
export const TEST_OUTPUT = join(ROOT, "test-output");

export function log(scope: string, message: string): void {
  process.stderr.write(`[${scope}] ${message}\n`);
}

// ---------------------------------------------------------------- cleanup
type Cleanup = { name: string; async: () => Promise<void>; sync: () => void };
const cleanups: Cleanup[] = [];
let cleaning: Promise<void> | undefined;

/** True once a signal asked the script to stop (processes ending then are no surprise). */
export function isStopping(): boolean {
  return cleaning !== undefined;
}

/** Registers a cleanup; the async form runs on normal shutdown, the sync form on a hard exit. */
export function onCleanup(name: string, async: () => Promise<void>, sync: () => void = () => {}): void {
  cleanups.push({ name, async, sync });
}

export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await withTimeout(c.async(), 15_000, `cleanup of ${c.name}`);
      } catch (e) {
        log("cleanup", `${c.name}: ${(e as Error).message}; forcing`);
        c.sync();
      }
    }
  })();
  return cleaning;
}

process.on("exit", () => {
  for (const c of cleanups.splice(0).reverse()) c.sync();
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    log("harness", `${sig}: stopping`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- utilities
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(ms / 1000)} s: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolvePort(addr.port) : reject(new Error("no port"))));
    });
  });
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tempo-${prefix}-`));
  onCleanup(`temp dir ${dir}`, async () => rmSync(dir, { recursive: true, force: true }), () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a command to completion with inherited output; throws with its exit status. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
}

/** Installs code-server and Chromium when missing (the script is a no-op when they are there). */
export function ensureInstalled(): void {
  if (existsSync(join(CODE_SERVER_DIR, ".tempo-install-complete")) && existsSync(CHROMIUM)) return;
  log("harness", "code-server or Chromium missing: running scripts/vscode/install.sh");
  run("bash", [join(ROOT, "scripts/vscode/install.sh")]);
}

// ---------------------------------------------------------------- code-server
export interface CodeServer {
  port: number;
  url: string;
  userDataDir: string;
  extensionsDir: string;
  logFile: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  /** Fixed port; when absent a free one is picked (and retried if another process takes it). */
  port?: number;
  folder: string;
  /** Where code-server's own stdout/stderr go. */
  logFile: string;
  extensionsDir?: string;
  userDataDir?: string;
  /** .vsix files (or extension ids already in the extensions dir) to install before start. */
  installExtensions?: string[];
  env?: NodeJS.ProcessEnv;
  /** User settings added to the offline defaults of a fresh profile. */
  settings?: Record<string, unknown>;
}

function writeConfig(dir: string, port: number): string {
  const cfg = join(dir, "config.yaml");
  // auth none on loopback only: the tests and a local user reach it, nobody else.
  writeFileSync(cfg, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  return cfg;
}

// Offline: no telemetry, update checks or extension gallery; no trust prompt in tests.
const OFFLINE_FLAGS = ["--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override"];
// An empty gallery switches the marketplace off instead of letting it fail DNS look-ups.
const OFFLINE_ENV = { EXTENSIONS_GALLERY: "{}" };
// User settings for a fresh profile: nothing phones home, no welcome page competing for focus.
const OFFLINE_SETTINGS = {
  "telemetry.telemetryLevel": "off",
  "workbench.startupEditor": "none",
  "workbench.enableExperiments": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "npm.fetchOnlinePackageInfo": false,
  "git.autofetch": false,
};

function writeDefaultSettings(userDataDir: string, extra: Record<string, unknown> = {}): void {
  const file = join(userDataDir, "User", "settings.json");
  if (existsSync(file)) return; // a kept profile (vscode:serve --data) keeps the user's choices
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...OFFLINE_SETTINGS, ...extra }, null, 2));
}

export async function installExtension(vsix: string, extensionsDir: string, userDataDir: string, logFile: string): Promise<void> {
  const cfgDir = tempDir("cs-install");
  const cfg = writeConfig(cfgDir, 0);
  const fd = openSync(logFile, "a");
  try {
    const r = spawnSync(
      process.execPath,
      [CODE_SERVER_ENTRY, "--config", cfg, "--user-data-dir", userDataDir, "--extensions-dir", extensionsDir, "--install-extension", vsix],
      { stdio: ["ignore", fd, fd], timeout: 120_000, env: { ...process.env, ...OFFLINE_ENV } },
    );
    if (r.status !== 0) {
      throw new Error(`code-server --install-extension ${vsix} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}); see ${logFile}`);
    }
  } finally {
    closeSync(fd);
  }
}

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  if (!existsSync(CODE_SERVER_ENTRY)) throw new Error(`code-server is not installed at ${CODE_SERVER_DIR}: run npm run vscode:install`);
  const userDataDir = opts.userDataDir ?? tempDir("cs-data");
  const extensionsDir = opts.extensionsDir ?? tempDir("cs-ext");
  mkdirSync(dirname(opts.logFile), { recursive: true });
  writeDefaultSettings(userDataDir, opts.settings);
  for (const vsix of opts.installExtensions ?? []) await installExtension(vsix, extensionsDir, userDataDir, opts.logFile);

  const attempts = opts.port ? 1 : 3;
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      return await launchCodeServer(port, opts, userDataDir, extensionsDir);
    } catch (e) {
      lastError = e as Error;
      log("code-server", `start on port ${port} failed: ${lastError.message}`);
    }
  }
  throw lastError ?? new Error("code-server did not start");
}

async function launchCodeServer(port: number, opts: CodeServerOptions, userDataDir: string, extensionsDir: string): Promise<CodeServer> {
  const cfg = writeConfig(tempDir("cs-config"), port);
  const fd = openSync(opts.logFile, "a");
  // detached: its own process group, so stop() reaches the extension host, pty host and
  // file watcher it forks, not just the server.
  const child = spawn(
    process.execPath,
    [CODE_SERVER_ENTRY, "--config", cfg, "--user-data-dir", userDataDir, "--extensions-dir", extensionsDir, ...OFFLINE_FLAGS, opts.folder],
    { stdio: ["ignore", fd, fd], detached: true, env: { ...process.env, ...OFFLINE_ENV, ...opts.env } },
  );
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error("spawn failed");
  let exited: string | undefined;
  const exitPromise = new Promise<void>((r) =>
    child.once("exit", (code, signal) => {
      exited = `exited (${code ?? signal})`;
      r();
    }),
  );
  const killGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  // If this script is killed outright (SIGKILL, OOM) no handler runs: a tiny watchdog process
  // outside both groups ends code-server's group once this process is gone.
  const watchdog = spawn(
    process.execPath,
    [
      "-e",
      `const [parent, group] = process.argv.slice(1).map(Number);
       setInterval(() => {
         try { process.kill(parent, 0); } catch { try { process.kill(-group, "SIGKILL"); } catch {} process.exit(0); }
       }, 1000);`,
      String(process.pid),
      String(pid),
    ],
    { detached: true, stdio: "ignore" },
  );
  watchdog.unref();
  const stop = async (): Promise<void> => {
    watchdog.kill("SIGKILL");
    killGroup("SIGTERM");
    const done = await Promise.race([exitPromise.then(() => true), sleep(5_000).then(() => false)]);
    // The server may exit before its children: always sweep the whole group.
    killGroup("SIGKILL");
    if (!done) await exitPromise;
  };
  onCleanup(`code-server pid ${pid}`, stop, () => {
    watchdog.kill("SIGKILL");
    killGroup("SIGKILL");
  });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited) {
      const tail = readFileSync(opts.logFile, "utf8").split("\n").slice(-15).join("\n");
      throw new Error(`code-server ${exited} before it answered on ${url}:\n${tail}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) {
        log("code-server", `ready on ${url} (pid ${pid})`);
        return { port, url, userDataDir, extensionsDir, logFile: opts.logFile, process: child, stop };
      }
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  await stop();
  throw new Error(`code-server did not answer on ${url}/healthz within 60 s; see ${opts.logFile}`);
}

// ---------------------------------------------------------------- Chromium
// Flags that keep Debian's Chromium quiet on a machine with no network (see docs/design/vscode-facts.md).
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run npm run vscode:install`);
  const { chromium } = await import("playwright-core");
  // playwright gives each launch a fresh temporary profile.
  const browser = await withTimeout(
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 }),
    90_000,
    "launching Chromium",
  );
  onCleanup("chromium", () => browser.close());
  return browser;
}

// ---------------------------------------------------------------- logs
/** Copies code-server's log and VS Code's logs (server, extension host) into test-output/. */
export function saveLogs(suite: string, server: Pick<CodeServer, "logFile" | "userDataDir"> | undefined): string {
  const dest = join(TEST_OUTPUT, suite, "logs");
  mkdirSync(dest, { recursive: true });
  if (server) {
    if (existsSync(server.logFile)) cpSync(server.logFile, join(dest, "code-server.log"));
    const vsLogs = join(server.userDataDir, "logs");
    if (existsSync(vsLogs)) cpSync(vsLogs, join(dest, "vscode"), { recursive: true });
  }
  return dest;
}

/** The workbench URL for a folder, optionally with a payload (extension development / tests). */
export function workbenchUrl(server: Pick<CodeServer, "url" | "port">, folder: string, payload?: Array<[string, string]>): string {
  const u = new URL(server.url + "/");
  u.searchParams.set("folder", folder);
  if (payload) u.searchParams.set("payload", JSON.stringify(payload));
  return u.toString();
}

/** A vscode-remote URI for a path on this machine, as the payload expects. */
export function remoteUri(server: Pick<CodeServer, "port">, absPath: string): string {
  return `vscode-remote://127.0.0.1:${server.port}${absPath}`;
}
