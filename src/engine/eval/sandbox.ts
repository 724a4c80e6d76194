/**
 * Runs generated code: one fresh process per program, from an empty temp dir, with a clean
 * environment, a wall-clock limit (SIGKILL), a memory limit and no way out.
 *
 * JavaScript: Node's permission model (`--experimental-permission` on Node 20, `--permission`
 * from 22) denies file-system reads and writes, child processes, workers, native addons, WASI
 * and the inspector; the program arrives on stdin so it needs no read grant. Node 20's
 * permission model has no network permission, so sockets are closed twice: the process runs
 * in an empty network namespace (`unshare --net`) where the kernel allows it, and a prelude
 * replaces every socket entry point before the program runs (`process.binding` is already
 * denied by the permission model, so the raw handles are out of reach).
 *
 * Python: no permission model; the same process isolation (temp cwd, clean environment,
 * network namespace, wall-clock and resident-memory kill) plus, set before the program runs,
 * rlimits on address space and file size and an audit hook (which cannot be removed) that
 * denies writes, process creation, sockets and ctypes. Audit hooks are not a security
 * boundary (Python's documentation says so): the rlimits, namespace and kill hold regardless.
 *
 * Both: every program runs in its own process group and, where the kernel allows, its own PID
 * namespace (`unshare --pid --fork --kill-child`), so it cannot signal the runner or any other
 * process of the user, and the whole group is killed when the program exits or times out: no
 * grandchild outlives it or stretches the time limit by holding its output open.
 *
 * A program passes only when it exits 0 AND prints a per-run random token after its check
 * returns, so an early `process.exit(0)` in a completion is a failure. The token arrives in an
 * environment variable the harness reads and deletes before the program runs, so it is not in
 * any source or function text a completion could read. docs/eval.md says what holds and what
 * does not.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { TaskLanguage } from "./tasks.js";

export type ExecStatus = "pass" | "fail" | "timeout" | "memory" | "skipped";

export interface ExecOptions {
  /** Wall-clock limit per program (ms). */
  timeoutMs: number;
  /** Heap limit (Node --max-old-space-size, MiB); resident memory may exceed it by RSS_SLACK_MB. */
  memoryMb: number;
  /** Interpreter for Python tasks (a command on PATH or a path; default python3); null: Python tasks are skipped. */
  python?: string | null;
}

export const DEFAULT_PYTHON = "python3";
export const DEFAULT_EXEC: ExecOptions = { timeoutMs: 5000, memoryMb: 256 };
/** Node's own resident memory on top of the heap limit before the watchdog kills. */
export const RSS_SLACK_MB = 96;
const OUTPUT_LIMIT = 16 * 1024;

export interface ExecResult {
  status: ExecStatus;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** stdout and stderr, cut to 16 KiB, without the pass token. */
  output: string;
}

export interface SandboxInfo {
  node: string;
  permissionFlag: string;
  networkNamespace: boolean;
  /** Programs run in their own PID namespace: they see and can signal only themselves. */
  pidNamespace: boolean;
  /** The Python interpreter's full path; null when Python tasks cannot run (see pythonMissing). */
  python: string | null;
}

let cachedBase: Omit<SandboxInfo, "python"> | undefined;
const pythonProbes = new Map<string, string | null>();

/** Full path of a working interpreter behind `command`, or null; probed once per command. */
function probePython(command: string): string | null {
  if (!pythonProbes.has(command)) {
    const py = spawnSync(command, ["-c", "import sys; print(sys.executable)"], { encoding: "utf8", timeout: 5000 });
    pythonProbes.set(command, py.status === 0 && py.stdout.trim() ? py.stdout.trim() : null);
  }
  return pythonProbes.get(command)!;
}

/** What this machine's sandbox can do with `python` as the Python interpreter (null: none); probed once. */
export function sandboxInfo(python: string | null | undefined = DEFAULT_PYTHON): SandboxInfo {
  if (!cachedBase) {
    const major = Number(process.versions.node.split(".")[0]);
    const works = (args: string[]) => spawnSync("unshare", [...args, "--map-root-user", "true"], { stdio: "ignore", timeout: 5000 }).status === 0;
    const networkNamespace = works(["--net"]);
    cachedBase = {
      node: process.execPath,
      permissionFlag: major >= 22 ? "--permission" : "--experimental-permission",
      networkNamespace,
      pidNamespace: networkNamespace && works(["--net", ...PID_NAMESPACE]),
    };
  }
  return { ...cachedBase, python: python === null ? null : probePython(python) };
}

/** Why Python tasks cannot run with these options, or null when they can. */
export function pythonMissing(options: Pick<ExecOptions, "python">): string | null {
  const command = options.python === undefined ? DEFAULT_PYTHON : options.python;
  if (command === null) return "Python tasks are turned off (--no-python)";
  return probePython(command) ? null : `no Python interpreter: ${command} was not found or does not run`;
}

/** unshare's flags for a PID namespace whose init is the program, killed when unshare dies. */
const PID_NAMESPACE = ["--pid", "--fork", "--kill-child"];
/** The environment variable that carries the pass token to the harness (deleted before the program runs). */
const TOKEN_VARIABLE = "TEMPO_EVAL_PASS_TOKEN";
/** After the program exits, how long its output may still drain before the group is killed. */
const DRAIN_MS = 200;

/** Replaces every socket entry point; runs before the program, in its own scope. */
const NODE_NETWORK_PRELUDE = `(() => {
  const deny = (what) => function () { const e = new Error("network access is denied in the eval sandbox (" + what + ")"); e.code = "ERR_ACCESS_DENIED"; throw e; };
  const net = require("node:net");
  net.Socket.prototype.connect = deny("net.Socket.connect");
  net.Server.prototype.listen = deny("net.Server.listen");
  const dgram = require("node:dgram");
  dgram.Socket.prototype.bind = deny("dgram.bind");
  dgram.Socket.prototype.send = deny("dgram.send");
  const dns = require("node:dns");
  for (const k of Object.keys(dns)) if (typeof dns[k] === "function" && k !== "Resolver") dns[k] = deny("dns." + k);
  dns.Resolver = function () { deny("dns.Resolver")(); };
  for (const k of Object.keys(dns.promises)) if (typeof dns.promises[k] === "function") dns.promises[k] = deny("dns.promises." + k);
  for (const k of ["fetch", "WebSocket", "EventSource"]) if (k in globalThis) globalThis[k] = deny(k);
})();
`;

/**
 * Before the program: takes the token out of the environment, keeps the built-ins the harness
 * needs (a completion may replace Promise.prototype.then or process.exit afterwards), freezes
 * the assert modules (a completion replacing assert.equal would pass every test), and takes
 * the test's \`check\`, which is hoisted above the program, before a completion could reassign it.
 */
function nodeHarness(program: string, entryPoint: string): string {
  return `${NODE_NETWORK_PRELUDE}const __tempoHarness = (() => {
  const token = process.env.${TOKEN_VARIABLE};
  delete process.env.${TOKEN_VARIABLE};
  const apply = Reflect.apply, then = Promise.prototype.then, exit = process.exit.bind(process);
  const write = process.stdout.write.bind(process.stdout), report = console.error.bind(console);
  for (const id of ["node:assert", "node:assert/strict"]) { const m = require(id); Object.freeze(m); if (m.strict) Object.freeze(m.strict); }
  let hoisted;
  try { hoisted = typeof check === "function" ? check : undefined; } catch { /* check declared with let/const: not hoisted */ }
  return Object.freeze((entry, late) => {
    const run = (async () => { await (hoisted ?? late)(entry); })();
    apply(then, run, [() => { write("\\n" + token + "\\n", () => exit(0)); }, (e) => { report(e && e.stack ? e.stack : e); exit(1); }]);
  });
})();
${program}
;__tempoHarness(${entryPoint}, typeof check === "function" ? check : undefined);
`;
}

function pythonHarness(program: string, entryPoint: string, memoryMb: number): string {
  // The hook is installed before any program code runs and audit hooks cannot be removed.
  return `import sys as _tempo_sys, os as _tempo_os, resource as _tempo_resource
def _tempo_sandbox():
    limit = ${memoryMb + RSS_SLACK_MB} * 1024 * 1024
    _tempo_resource.setrlimit(_tempo_resource.RLIMIT_AS, (limit, limit))
    _tempo_resource.setrlimit(_tempo_resource.RLIMIT_FSIZE, (0, 0))
    write_flags = _tempo_os.O_WRONLY | _tempo_os.O_RDWR | _tempo_os.O_CREAT | _tempo_os.O_APPEND | _tempo_os.O_TRUNC
    token = _tempo_os.environ.pop("${TOKEN_VARIABLE}", "")
    # _posixsubprocess.fork_exec starts programs without an audit event: deny the module.
    for name in ("_posixsubprocess", "_ctypes"):
        _tempo_sys.modules.pop(name, None)
    denied_modules = ("_posixsubprocess", "_ctypes", "_winapi")
    denied_prefixes = ("os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "os.forkpty", "subprocess.", "socket.", "ctypes.", "os.remove", "os.unlink", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.chmod", "os.chown", "os.truncate", "os.kill", "os.putenv", "shutil.", "pty.", "signal.pthread_kill", "winreg.")
    def hook(event, args):
        if event.startswith(denied_prefixes):
            raise PermissionError("denied in the eval sandbox: " + event)
        if event == "import" and args and args[0] in denied_modules:
            raise PermissionError("denied in the eval sandbox: import " + args[0])
        if event == "open" and isinstance(args[0], str) and args[0].startswith("/proc"):
            raise PermissionError("/proc is denied in the eval sandbox")
        if event == "open":
            mode = args[1] if len(args) > 1 else None
            flags = args[2] if len(args) > 2 else 0
            if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags & write_flags):
                raise PermissionError("file writes are denied in the eval sandbox")
    _tempo_sys.addaudithook(hook)
    return lambda: print("\\n" + token, flush=True)
_tempo_passed = _tempo_sandbox()
del _tempo_sandbox
${program}
check(${entryPoint})
_tempo_passed()
`;
}

/**
 * Runs one program (prompt + completion + test) and its check on the entry point. Aborting
 * `abort` kills the program at once and rejects with the signal's reason.
 */
export function executeProgram(program: string, entryPoint: string, language: TaskLanguage, options: ExecOptions = DEFAULT_EXEC, abort?: AbortSignal): Promise<ExecResult> {
  if (abort?.aborted) return Promise.reject(abort.reason);
  const info = sandboxInfo(options.python);
  const token = `TEMPO-EVAL-PASS-${randomBytes(12).toString("hex")}`;
  let command: string;
  let args: string[];
  let source: string;
  if (language === "python") {
    if (!info.python) return Promise.resolve({ status: "skipped", exitCode: null, signal: null, durationMs: 0, output: pythonMissing(options) ?? "no Python interpreter" });
    command = info.python;
    args = ["-I", "-"];
    source = pythonHarness(program, entryPoint, options.memoryMb);
  } else {
    command = info.node;
    args = [info.permissionFlag, "--disable-warning=ExperimentalWarning", `--max-old-space-size=${options.memoryMb}`, "--max-semi-space-size=16", "-"];
    source = nodeHarness(program, entryPoint);
  }
  if (info.networkNamespace) {
    args = ["--net", ...(info.pidNamespace ? PID_NAMESPACE : []), "--map-root-user", command, ...args];
    command = "unshare";
  }
  const cwd = mkdtempSync(join(tmpdir(), "tempo-eval-"));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // detached: a process group of its own, so a signal to "its group" (kill 0) reaches only
    // the sandbox, and the whole group can be killed at the end.
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", [TOKEN_VARIABLE]: token };
    const child = spawn(command, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    let output = "";
    let killedFor: "timeout" | "memory" | "aborted" | null = null;
    const collect = (chunk: Buffer) => { if (output.length < OUTPUT_LIMIT * 2) output += chunk.toString("utf8"); };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.stdin.on("error", () => { /* the child may die before reading everything */ });
    child.stdin.end(source);
    const killGroup = () => {
      try { if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL"); } catch { /* already gone */ }
    };
    const kill = (why: "timeout" | "memory" | "aborted") => { if (killedFor === null) { killedFor = why; killGroup(); } };
    const onAbort = () => kill("aborted");
    abort?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => kill("timeout"), options.timeoutMs);
    // Resident memory: V8's heap limit misses Buffers and other off-heap allocations.
    const rssLimitKb = (options.memoryMb + RSS_SLACK_MB) * 1024;
    const watchdog = setInterval(() => {
      if (child.pid !== undefined && residentKb(child.pid) > rssLimitKb) kill("memory");
    }, 50);
    let finished = false;
    let drain: NodeJS.Timeout | undefined;
    const finish = (exitCode: number | null, signal: string | null, spawnError?: Error) => {
      if (finished) return;
      finished = true;
      killGroup(); // whatever the program left behind
      clearTimeout(drain);
      clearTimeout(timer);
      clearInterval(watchdog);
      abort?.removeEventListener("abort", onAbort);
      rmSync(cwd, { recursive: true, force: true });
      if (killedFor === "aborted") {
        reject(abort?.reason);
        return;
      }
      const passed = exitCode === 0 && output.includes(token);
      const oom = /heap out of memory|MemoryError|Allocation failed/.test(output);
      const status: ExecStatus = killedFor ?? (passed ? "pass" : oom ? "memory" : "fail");
      // The run's temporary folder (in Node's messages for ES module code) is named as <tmp>, so
      // a rerun's output is the same text (docs/experiments.md).
      const shown = (spawnError ? `cannot start ${command}: ${spawnError.message}\n` : "") + output.split(token).join("").split(cwd).join("<tmp>").slice(0, OUTPUT_LIMIT);
      resolve({ status, exitCode, signal, durationMs: performance.now() - started, output: shown.trim() });
    };
    child.on("error", (e) => finish(null, null, e));
    // Finish when the program exits; its output may drain a moment longer, but a grandchild
    // holding the pipes open cannot keep the run waiting.
    child.on("exit", (code, signal) => { drain = setTimeout(() => finish(code, signal), DRAIN_MS); });
    child.on("close", (code, signal) => finish(code, signal));
  });
}

/** Resident memory of a process and all its descendants (unshare's child is the program). */
function residentKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean).map(Number);
    return (m ? Number(m[1]) : 0) + children.reduce((sum, c) => sum + residentKb(c), 0);
  } catch {
    return 0; // not Linux, or the process is gone
  }
}

/** Runs `work` over items with at most `limit` in flight, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
