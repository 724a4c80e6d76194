/**
 * `tempo` runs each command in a child process, as the extension runs its engine host, so that a
 * native abort inside llama.cpp (GGML_ASSERT, an uncaught C++ exception, SIGBUS on a model file
 * truncated while mapped) becomes one `tempo:` line instead of a core dump and a backtrace, and
 * whatever the command had already written (an eval's finished units) stays on disk, marked
 * partial. This parent loads no engine code; it only starts the child, forwards signals and reads
 * what native code writes on the child's fd 2.
 *
 * The child gets its own process group, so a terminal's Ctrl-C reaches it once, through the
 * parent, and keeps the CLI's meaning: the first SIGINT/SIGTERM stops the command with its
 * partial results, the second stops it at once; KILL_GRACE_MS after that the parent kills it.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { failureStart, isFaultSignal, nativeDeathCause } from "../engine/llama/native-failure.js";
import { ENGINE_CHILD_ENV, type PhaseMessage } from "./engine-child.js";
import { EXIT } from "./exit-codes.js";

/** How long a child that was signalled twice may take before it is killed. */
export const KILL_GRACE_MS = 3000;
/** Native output kept for the log (its tail): a backtrace is a few KiB, llama.cpp's log far less. */
const NATIVE_KEEP_BYTES = 256 * 1024;
const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Runs `entry` (this CLI) with this process's arguments in a supervised child; resolves to the exit code. */
export function superviseEngineChild(entry: string): Promise<number> {
  const args = process.argv.slice(2);
  const command = args[0] !== undefined && !args[0].startsWith("-") ? args[0] : "tempo";
  const child = spawn(process.execPath, [...process.execArgv, entry, ...args], {
    // A terminal stays with this process: a child in its own group that read it would be stopped (SIGTTIN).
    stdio: [process.stdin.isTTY ? "ignore" : "inherit", "inherit", "pipe", "ipc", 2],
    detached: true,
    // GGML_NO_BACKTRACE: ggml would otherwise attach gdb to print a backtrace before aborting.
    env: { ...process.env, [ENGINE_CHILD_ENV]: "1", GGML_NO_BACKTRACE: process.env.GGML_NO_BACKTRACE ?? "1" },
  });

  let phase = `starting ${command}`;
  child.on("message", (m: PhaseMessage) => {
    phase = m.phase === "loading" ? `loading ${m.model}` : `running ${command} on ${basename(m.model)}`;
  });

  // Native text is shown as it comes until it turns into a failure report; from there it is held
  // for the one line and the log.
  let native = "";
  let failing = false;
  let partialLine = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => {
    native = (native + text).slice(-NATIVE_KEEP_BYTES);
    if (failing) return;
    const lines = (partialLine + text).split(/(?<=\n)/);
    partialLine = lines.at(-1)!.endsWith("\n") ? "" : lines.pop()!;
    for (const line of lines) {
      if (failureStart(line) >= 0) { failing = true; return; }
      process.stderr.write(line);
    }
  });

  let signalled = 0;
  let killedHere = false;
  const forward = (signal: NodeJS.Signals) => {
    signalled++;
    try { child.kill(signal); } catch { /* already gone */ }
    if (signalled === 2) {
      setTimeout(() => {
        killedHere = true;
        try { process.kill(-child.pid!, "SIGKILL"); } catch { /* already gone */ }
      }, KILL_GRACE_MS).unref();
    }
  };
  for (const s of FORWARDED) process.on(s, forward);

  return new Promise((resolve) => {
    child.on("error", (e) => {
      process.stderr.write(`tempo: internal error: cannot start the engine process: ${e.message}\n`);
      resolve(EXIT.internal);
    });
    child.on("close", (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward);
      if (signal === null) {
        if (failing) process.stderr.write(partialLine + native.slice(Math.max(failureStart(native), 0)));
        resolve(code ?? EXIT.internal);
      } else if (killedHere || FORWARDED.includes(signal)) {
        process.stderr.write(killedHere ? `tempo: cancelled; the command did not stop within ${KILL_GRACE_MS / 1000} s of the second signal and was killed\n` : "tempo: cancelled\n");
        resolve(EXIT.cancelled);
      } else {
        const cause = nativeDeathCause(signal, native);
        process.stderr.write(`tempo: the engine stopped while ${phase}: ${cause}${nativeLog(native, signal)}\n`);
        resolve(isFaultSignal(signal) || signal === "SIGKILL" ? EXIT.internal : EXIT.cancelled);
      }
    });
  });
}

/** "; native output in <file>" when there was native output and it could be written down. */
function nativeLog(native: string, signal: NodeJS.Signals): string {
  if (native.trim() === "") return "";
  const log = join(tmpdir(), `tempo-native-${process.pid}.log`);
  try {
    writeFileSync(log, `${new Date().toISOString()} tempo ${process.argv.slice(2).join(" ")}\nengine died of ${signal}; its native output:\n${native}`);
    return `; native output in ${log}`;
  } catch {
    return "";
  }
}
