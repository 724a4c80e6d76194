/**
 * The child side of the CLI's engine process (the supervisor is src/cli/supervisor.ts). The
 * supervisor reads fd 2 for what native code says when it aborts, so the child's own messages
 * and progress bar go to the user's stderr passed in on USER_STDERR_FD; what the child is doing
 * (which model it loads) goes to the supervisor over IPC, for the one line if llama.cpp aborts.
 */
import { writeSync } from "node:fs";
import { isatty, WriteStream } from "node:tty";
import { Writable } from "node:stream";

/** Set (to "1") in the child's environment by the supervisor. */
export const ENGINE_CHILD_ENV = "TEMPO_ENGINE_CHILD";
/** The child's fd that is the user's stderr: stdio slot 4, after stdin, stdout, the native pipe and IPC. */
export const USER_STDERR_FD = 4;

/** What the child tells the supervisor: the model it is loading, then that it loaded. */
export interface PhaseMessage { phase: "loading" | "running"; model: string }

export function isEngineChild(): boolean {
  return process.env[ENGINE_CHILD_ENV] === "1";
}

/**
 * Before anything writes to stderr: process.stderr becomes the user's stderr (a terminal stays a
 * terminal, so progress keeps its redrawn bar). Writes are synchronous, as Node's own stderr is
 * on Linux, so a message written just before process.exit is not lost. A parent that goes away
 * (killed) is treated as SIGTERM: the command stops and keeps its partial work.
 */
export function becomeEngineChild(): void {
  delete process.env[ENGINE_CHILD_ENV]; // not inherited by the programs an eval runs
  const stream = isatty(USER_STDERR_FD) ? new WriteStream(USER_STDERR_FD) : syncFdStream(USER_STDERR_FD);
  Object.defineProperty(process, "stderr", { value: stream, configurable: true, writable: true });
  process.channel?.unref(); // the IPC channel alone does not keep the command running
  process.on("disconnect", () => process.kill(process.pid, "SIGTERM"));
  process.stdout.on("error", readerGone);
}

/**
 * stdout's reader went away (`tempo … | head`): later output is dropped, and a running command
 * stops as on SIGTERM, keeping its partial work; before one runs (help, --version) the process
 * just ends. Other write errors stay errors.
 */
function readerGone(e: NodeJS.ErrnoException): void {
  if (e.code !== "EPIPE") throw e;
  if (process.stdout.destroyed === false) process.stdout.destroy();
  process.stdout.write = () => true;
  if (process.listenerCount("SIGTERM") === 0) process.exit(0);
  process.kill(process.pid, "SIGTERM");
  process.stdout.off("error", readerGone);
  process.stdout.on("error", () => undefined); // writes queued before the first error
}

export function reportPhase(message: PhaseMessage): void {
  if (process.connected) process.send?.(message);
}

/**
 * A Writable whose writes reach `fd` before write() returns; a non-blocking pipe (EAGAIN) is
 * retried, and a reader that went away (EPIPE) ends the output, not the command.
 */
function syncFdStream(fd: number): Writable {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      let offset = 0;
      try {
        while (offset < chunk.length) {
          try {
            offset += writeSync(fd, chunk, offset);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
            Atomics.wait(pause, 0, 0, 1);
          }
        }
        done();
      } catch (e) {
        done((e as NodeJS.ErrnoException).code === "EPIPE" ? null : (e as Error));
      }
    },
  });
}
