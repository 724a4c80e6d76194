/**
 * What a process running llama.cpp died of, in one line: read from the signal it got and the
 * text native code wrote on its fd 2. Shared by the CLI's supervisor (src/cli/supervisor.ts) and
 * the extension's engine client (src/host/client.ts), which both run the engine in a child.
 *
 * The text llama.cpp writes (ggml/src/ggml.c, ggml_abort): `<file>:<line>: <message>` (a
 * GGML_ASSERT's message is `GGML_ASSERT(<condition>) failed`), then a backtrace, then abort().
 * A C++ exception that escapes the C API ends in libstdc++'s terminate handler:
 * `terminate called after throwing an instance of '<type>'` and `  what():  <message>`.
 */
import { basename } from "node:path";

/** The start of a native failure report in fd-2 text: from here on, nothing is for the user. */
const FAILURE_START = /^(\S+\.(?:c|cc|cpp|h|hpp)):(\d+): (.*)$|^terminate called (?:after throwing an instance of '([^']+)'|without an active exception)/m;
const WHAT = /^\s*what\(\):\s*(.*)$/m;

/** The offset in `text` where a native failure report begins, or -1. */
export function failureStart(text: string): number {
  return text.search(FAILURE_START);
}

/** The failure llama.cpp reported in `text` (ggml_abort or terminate), as one phrase; undefined if none. */
export function nativeFailureText(text: string): string | undefined {
  const m = FAILURE_START.exec(text);
  if (!m) return undefined;
  if (m[1] !== undefined) return `${m[3].trim()} (${basename(m[1])}:${m[2]})`;
  const what = WHAT.exec(text.slice(m.index))?.[1]?.trim();
  const thrown = m[4] !== undefined ? `uncaught ${m[4]}` : "std::terminate without an exception";
  return what ? `${thrown}: ${what}` : thrown;
}

/** Signals a process gets from its own faulty code, not from a user or a supervisor. */
const FAULT_SIGNALS: ReadonlySet<string> = new Set(["SIGABRT", "SIGBUS", "SIGSEGV", "SIGILL", "SIGFPE", "SIGTRAP", "SIGSYS"]);

export function isFaultSignal(signal: NodeJS.Signals | null): boolean {
  return signal !== null && FAULT_SIGNALS.has(signal);
}

/**
 * One phrase for what killed the engine: the assert or exception when llama.cpp said one, what a
 * SIGBUS almost always means for a program reading a memory-mapped model, else the signal.
 */
export function nativeDeathCause(signal: NodeJS.Signals, nativeText: string): string {
  const failure = nativeFailureText(nativeText);
  if (failure) return `llama.cpp aborted: ${failure}`;
  if (signal === "SIGBUS") return "SIGBUS: a memory-mapped file (the model) was truncated or replaced on disk while in use";
  if (signal === "SIGKILL") return "killed by SIGKILL, perhaps by the system for lack of memory";
  return signal === "SIGABRT" ? "SIGABRT, with no message from llama.cpp" : signal;
}
