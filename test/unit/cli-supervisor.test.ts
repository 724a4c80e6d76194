/**
 * The CLI's supervisor (src/cli/supervisor.ts) and the parser of what native code writes before
 * it aborts (src/engine/llama/native-failure.ts). The supervisor runs a stand-in child here
 * (test/fixtures/supervised-fault.mts) that fails as llama.cpp does; the real faults through the
 * real CLI are in hostile-inputs.test.ts.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { failureStart, nativeDeathCause, nativeFailureText } from "../../src/engine/llama/native-failure.js";
import { KILL_GRACE_MS } from "../../src/cli/supervisor.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/supervised-fault.mts", import.meta.url));

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs the stand-in with `how`; `whenReady` runs once its child has written to stdout. */
function supervise(how: string, whenReady?: (parent: ReturnType<typeof spawn>) => void): Promise<Run> {
  const parent = spawn(process.execPath, ["--import", "tsx", FIXTURE, how]);
  let stdout = "", stderr = "";
  parent.stdout.on("data", (d) => { stdout += d; if (whenReady && stdout.includes("ready")) { whenReady(parent); whenReady = undefined; } });
  parent.stderr.on("data", (d) => { stderr += d; });
  return new Promise((resolve) => parent.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
}

describe("native failures: one phrase from what llama.cpp wrote", () => {
  const assertText = "llama_decode: a log line\n/build/ggml/src/ggml.c:1519: GGML_ASSERT(n_tokens_all <= cparams.n_batch) failed\n#0 0x7f ggml_abort\n";
  it("ggml_abort's `file:line: message` becomes the message and the file's name and line", () => {
    assert.equal(nativeFailureText(assertText), "GGML_ASSERT(n_tokens_all <= cparams.n_batch) failed (ggml.c:1519)");
    assert.equal(failureStart(assertText), assertText.indexOf("/build"));
  });
  it("libstdc++'s terminate handler becomes the exception's type and what()", () => {
    assert.equal(nativeFailureText("terminate called after throwing an instance of 'std::length_error'\n  what():  vector::_M_default_append\n"), "uncaught std::length_error: vector::_M_default_append");
    assert.equal(nativeFailureText("terminate called without an active exception\n"), "std::terminate without an exception");
  });
  it("ordinary log text is not a failure", () => {
    const log = "llama_model_loader: loaded meta data with 24 key-value pairs\nprint_info: file type = F16\n";
    assert.equal(nativeFailureText(log), undefined);
    assert.equal(failureStart(log), -1);
  });
  it("the cause of death: the assert when there is one, else what the signal means here", () => {
    assert.equal(nativeDeathCause("SIGABRT", assertText), "llama.cpp aborted: GGML_ASSERT(n_tokens_all <= cparams.n_batch) failed (ggml.c:1519)");
    assert.match(nativeDeathCause("SIGBUS", ""), /^SIGBUS: a memory-mapped file \(the model\) was truncated/);
    assert.match(nativeDeathCause("SIGKILL", ""), /lack of memory/);
    assert.equal(nativeDeathCause("SIGABRT", "x\n"), "SIGABRT, with no message from llama.cpp");
    assert.equal(nativeDeathCause("SIGSEGV", ""), "SIGSEGV");
  });
});

describe("CLI supervisor: the engine child's faults as one line", function () {
  this.timeout(60_000);

  for (const [how, cause] of [
    ["assert", "llama.cpp aborted: GGML_ASSERT(x) failed (ggml.c:123)"],
    ["terminate", "llama.cpp aborted: uncaught std::bad_alloc: std::bad_alloc"],
  ] as const) {
    it(`${how}: exit 1, the child's own messages, then one line naming the phase and the cause; the native text goes to a log`, async () => {
      const r = await supervise(how);
      assert.deepEqual([r.code, r.signal], [1, null], r.stderr);
      const lines = r.stderr.trimEnd().split("\n");
      assert.deepEqual(lines.slice(0, -1).sort(), ["a message for the user", "llama_model_load: a line of llama.cpp's log"]);
      const m = /^tempo: the engine stopped while loading \/models\/m\.gguf: (.*); native output in (\S+)$/.exec(lines.at(-1)!);
      assert.ok(m, lines.at(-1));
      assert.equal(m[1], cause);
      assert.ok(existsSync(m[2]), m[2]);
      assert.match(readFileSync(m[2], "utf8"), how === "assert" ? /ggml\.c:123: GGML_ASSERT\(x\) failed/ : /what\(\): {2}std::bad_alloc/);
    });
  }

  it("a child's exit code is the command's", async () => {
    const r = await supervise("exit");
    assert.equal(r.code, 7, r.stderr);
    assert.doesNotMatch(r.stderr, /^tempo:/m);
  });

  it("a child that ignores both signals is killed KILL_GRACE_MS after the second; exit 130", async () => {
    const started = Date.now();
    let secondAt = 0;
    const r = await supervise("ignore-signals", (parent) => {
      parent.kill("SIGTERM");
      setTimeout(() => { parent.kill("SIGINT"); secondAt = Date.now(); }, 200);
    });
    assert.deepEqual([r.code, r.signal], [130, null], r.stderr);
    assert.match(r.stderr, new RegExp(`^tempo: cancelled; the command did not stop within ${KILL_GRACE_MS / 1000} s of the second signal and was killed$`, "m"));
    assert.ok(Date.now() - secondAt >= KILL_GRACE_MS - 50, `${Date.now() - started} ms in all`);
  });
});
