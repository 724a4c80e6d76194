/**
 * One error vocabulary for every command: a user error (bad option, bad file, bad input) exits 2
 * with one `tempo:` line; cancellation (SIGINT or SIGTERM) exits 130; anything else is an
 * internal error: exit 1, one line, and the stack in a log file the line names.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TempoInputError } from "../engine/errors.js";
import { ContextFullError } from "../engine/errors.js";
import { LibraryMismatchError } from "../engine/llama/c-api.js";
import { CaptureError, ModelMismatchError } from "../engine/capture/reader.js";
import { SafetensorsError } from "../engine/capture/safetensors.js";
import { EXIT } from "./exit-codes.js";

const USER_ERRORS = [TempoInputError, LibraryMismatchError, ModelMismatchError, CaptureError, SafetensorsError, ContextFullError];

let cancelled = false;
let claimed = false;
const controller = new AbortController();

/**
 * The signal a command stops on, its partial work kept. A command that never asks for it
 * exits 130 at the first SIGINT/SIGTERM; one that does, at the second.
 */
export function cancelSignal(): AbortSignal {
  claimed = true;
  return controller.signal;
}

export function wasCancelled(): boolean { return cancelled; }

export function installSignalHandlers(): void {
  const stop = () => {
    if (!claimed || cancelled) {
      process.stderr.write("tempo: cancelled\n");
      process.exit(EXIT.cancelled);
    }
    cancelled = true;
    controller.abort();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

/** Prints the one line for `e` and returns the exit code. */
export function reportError(e: unknown): number {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: string }).code;
  if (code?.startsWith("commander.")) {
    // commander already printed its one line; help and version are not errors.
    const exitCode = (err as { exitCode?: number }).exitCode ?? EXIT.usage;
    return exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (cancelled) {
    process.stderr.write("tempo: cancelled\n");
    return EXIT.cancelled;
  }
  if (USER_ERRORS.some((t) => err instanceof t)) {
    process.stderr.write(`tempo: ${oneLine(err.message)}\n`);
    return EXIT.usage;
  }
  const log = join(tmpdir(), `tempo-internal-error-${process.pid}.log`);
  let where = `; details in ${log}`;
  try { writeFileSync(log, `${new Date().toISOString()} tempo ${process.argv.slice(2).join(" ")}\n${err.stack ?? err.message}\n`); } catch { where = ""; }
  process.stderr.write(`tempo: internal error: ${oneLine(err.message)}${where}\n`);
  return EXIT.internal;
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, " ").trim();
