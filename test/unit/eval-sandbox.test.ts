import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executeProgram, mapLimit, sandboxInfo, type ExecOptions } from "../../src/engine/eval/sandbox.js";

const LIMITS: ExecOptions = { timeoutMs: 3000, memoryMb: 64 };

/** A JS program whose check calls `body` inside the function under test. */
function js(body: string): string {
  return `function f() {\n${body}\n}\nconst assert = require("node:assert/strict");\nfunction check(candidate) { assert.equal(candidate(), 42); }\n`;
}

describe("eval sandbox (Node)", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), "tempo-sandbox-test-")); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("passes a correct program and fails a wrong one", async () => {
    const [ok, wrong, thrown] = await mapLimit([js("return 42;"), js("return 41;"), js("throw new Error('boom');")], 2, (p) => executeProgram(p, "f", "javascript", LIMITS));
    assert.equal(ok.status, "pass", ok.output);
    assert.equal(wrong.status, "fail");
    assert.match(wrong.output, /41/);
    assert.equal(thrown.status, "fail");
    assert.match(thrown.output, /boom/);
  });

  it("denies child processes: the command never runs", async () => {
    const marker = join(dir, "pwned-child");
    const r = await executeProgram(js(`require("child_process").execSync("touch ${marker}"); return 42;`), "f", "javascript", LIMITS);
    assert.equal(r.status, "fail");
    assert.match(r.output, /ERR_ACCESS_DENIED|restricted/);
    assert.equal(existsSync(marker), false);
  });

  it("denies file writes and reads", async () => {
    const target = join(dir, "pwned-write");
    const w = await executeProgram(js(`require("fs").writeFileSync(${JSON.stringify(target)}, "x"); return 42;`), "f", "javascript", LIMITS);
    assert.equal(w.status, "fail");
    assert.equal(existsSync(target), false);
    const secret = join(dir, "secret.txt");
    writeFileSync(secret, "42");
    const r = await executeProgram(js(`return Number(require("fs").readFileSync(${JSON.stringify(secret)}, "utf8"));`), "f", "javascript", LIMITS);
    assert.equal(r.status, "fail", "a read of a file the program could use to pass is denied");
  });

  it("denies workers", async () => {
    const r = await executeProgram(js(`new (require("worker_threads").Worker)("1", { eval: true }); return 42;`), "f", "javascript", LIMITS);
    assert.equal(r.status, "fail");
  });

  it("no connection reaches a local server", async () => {
    let connections = 0;
    const server = createServer((s) => { connections++; s.end("42"); });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    try {
      const net = await executeProgram(js(`require("net").connect(${port}, "127.0.0.1"); return 42;`), "f", "javascript", LIMITS);
      assert.equal(net.status, "fail", net.output);
      const fetched = await executeProgram(
        `async function f() { return Number(await (await fetch("http://127.0.0.1:${port}/")).text()); }\nconst assert = require("node:assert/strict");\nasync function check(c) { assert.equal(await c(), 42); }\n`,
        "f", "javascript", LIMITS);
      assert.equal(fetched.status, "fail", fetched.output);
      // Without the prelude's help: a raw socket (process.binding is denied by the permission model).
      const raw = await executeProgram(js(`process.binding("tcp_wrap"); return 42;`), "f", "javascript", LIMITS);
      assert.equal(raw.status, "fail");
      // The prelude alone (a kernel without unprivileged network namespaces): still nothing gets out.
      const info = sandboxInfo() as { networkNamespace: boolean };
      const saved = info.networkNamespace;
      info.networkNamespace = false;
      try {
        for (const call of [`require("net").connect(${port}, "127.0.0.1")`, `new (require("net").Socket)().connect(${port}, "127.0.0.1")`, `require("http").get("http://127.0.0.1:${port}/")`]) {
          const r = await executeProgram(js(`${call}; return 42;`), "f", "javascript", LIMITS);
          assert.equal(r.status, "fail", call);
          assert.match(r.output, /network access is denied in the eval sandbox/);
        }
      } finally {
        info.networkNamespace = saved;
      }
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(connections, 0);
    } finally {
      server.close();
    }
  });

  it("kills an infinite loop at the time limit", async () => {
    const r = await executeProgram(js("for (;;) {}"), "f", "javascript", { timeoutMs: 1000, memoryMb: 64 });
    assert.equal(r.status, "timeout");
    assert.equal(r.signal, "SIGKILL");
  });

  it("stops a memory-hungry program (heap and off-heap)", async () => {
    const heap = await executeProgram(js("const a = []; for (;;) a.push(new Array(1e5).fill(Math.random())); "), "f", "javascript", { timeoutMs: 20_000, memoryMb: 64 });
    assert.equal(heap.status, "memory", heap.output.slice(0, 300));
    const offHeap = await executeProgram(js("const a = []; for (;;) a.push(Buffer.alloc(16 << 20, 1)); "), "f", "javascript", { timeoutMs: 20_000, memoryMb: 64 });
    assert.ok(offHeap.status === "memory" || offHeap.status === "fail", `${offHeap.status}: ${offHeap.output.slice(0, 300)}`);
    assert.notEqual(offHeap.status, "timeout");
  });

  it("an early process.exit(0) is not a pass", async () => {
    const r = await executeProgram(js("process.exit(0);"), "f", "javascript", LIMITS);
    assert.equal(r.exitCode, 0);
    assert.equal(r.status, "fail");
  });

  it("a program cannot signal the runner: kill(ppid) and kill(0) reach only the sandbox", async function () {
    if (!sandboxInfo().pidNamespace) this.skip(); // the kernel allows no PID namespace here: docs/eval.md
    for (const target of ["process.ppid", "0", "-process.ppid"]) {
      const r = await executeProgram(js(`try { process.kill(${target}, "SIGTERM"); } catch {}\nreturn 42;`), "f", "javascript", LIMITS);
      assert.notEqual(r.status, "timeout", target);
    }
    assert.ok(process.kill(process.pid, 0), "the runner is alive");
  });

  it("a completion cannot rewrite the assertions, the check or the harness's promise", async () => {
    const attacks = [
      `require("node:assert/strict").equal = () => {};`,
      `require("node:assert").strict.equal = () => {};`,
      `check = () => {};`,
      `Promise.prototype.then = function (ok) { ok(); };`,
      `process.stdout.write = () => true;`,
    ];
    for (const attack of attacks) {
      // A wrong answer with the attack at the program's top level, before the test code.
      const program = `function f() { return 41; }\ntry { ${attack} } catch {}\nconst assert = require("node:assert/strict");\nfunction check(candidate) { assert.equal(candidate(), 42); }\n`;
      const r = await executeProgram(program, "f", "javascript", LIMITS);
      assert.equal(r.status, "fail", attack);
    }
  });

  it("awaits an async check", async () => {
    const prog = (v: number) => `async function g() { await new Promise((r) => setTimeout(r, 20)); return ${v}; }\nconst assert = require("node:assert/strict");\nasync function check(c) { assert.equal(await c(), 42); }\n`;
    assert.equal((await executeProgram(prog(42), "g", "javascript", LIMITS)).status, "pass");
    assert.equal((await executeProgram(prog(1), "g", "javascript", LIMITS)).status, "fail");
  });
});

describe("eval sandbox (Python)", function () {
  this.timeout(60_000);
  const py = (body: string) => `def f():\n${body.split("\n").map((l) => "    " + l).join("\n")}\n\ndef check(candidate):\n    assert candidate() == 42\n`;
  let dir: string;
  before(function () {
    if (!sandboxInfo().python) this.skip();
    dir = mkdtempSync(join(tmpdir(), "tempo-sandbox-py-"));
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it("passes and fails like the tests say", async () => {
    assert.equal((await executeProgram(py("return 42"), "f", "python", LIMITS)).status, "pass");
    assert.equal((await executeProgram(py("return 41"), "f", "python", LIMITS)).status, "fail");
  });

  it("denies subprocesses, file writes and sockets; kills loops", async () => {
    const marker = join(dir, "pwned-py");
    const sub = await executeProgram(py(`import subprocess\nsubprocess.run(["touch", ${JSON.stringify(marker)}])\nreturn 42`), "f", "python", LIMITS);
    assert.equal(sub.status, "fail");
    const sys = await executeProgram(py(`import os\nos.system("touch ${marker}")\nreturn 42`), "f", "python", LIMITS);
    assert.equal(sys.status, "fail");
    const write = await executeProgram(py(`open(${JSON.stringify(marker)}, "w").write("x")\nreturn 42`), "f", "python", LIMITS);
    assert.equal(write.status, "fail");
    assert.equal(existsSync(marker), false);
    const sock = await executeProgram(py(`import socket\nsocket.create_connection(("127.0.0.1", 9))\nreturn 42`), "f", "python", LIMITS);
    assert.equal(sock.status, "fail");
    assert.match(sock.output, /denied/);
    // fork_exec starts a program without an audit event: the module itself is denied.
    const forkExec = await executeProgram(py(`import _posixsubprocess, os\nr, w = os.pipe()\n_posixsubprocess.fork_exec([b"/bin/sh"], [b"/bin/sh"], True, (), None, None, -1, -1, -1, -1, -1, -1, r, w, True, False, 0, None, None, None, -1, None)\nreturn 42`), "f", "python", LIMITS);
    assert.equal(forkExec.status, "fail");
    assert.match(forkExec.output, /denied in the eval sandbox: import _posixsubprocess/);
    // The pass token is not in the environment or /proc for a completion to print.
    const forge = await executeProgram(py(`import os\nprint(os.environ.get("TEMPO_EVAL_PASS_TOKEN"))\nprint(open("/proc/self/environ").read())\nreturn 41`), "f", "python", LIMITS);
    assert.equal(forge.status, "fail");
    assert.match(forge.output, /\/proc is denied/);
    const loop = await executeProgram(py("while True:\n    pass"), "f", "python", { timeoutMs: 1000, memoryMb: 64 });
    assert.equal(loop.status, "timeout");
  });
});
