// The real engine host (src/host/engine-host.ts, forked through tsx) against faults the fake host
// cannot show: a GGUF whose chat template loops holds the host's event loop, a request id sent
// twice while the first is in flight, and a host killed in the middle of an experiment.
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PARTIAL_RESULTS } from "../../src/engine/capture/out-dir.js";
import { fileURLToPath } from "node:url";
import { EngineClient, EngineUnresponsiveError } from "../../src/host/client.js";
import { GgufValueType } from "../../src/gguf/writer.js";
import type { EngineOptions, HostEvent, HostRequest } from "../../src/protocol/engine.js";
import { seededModelPath, TINY_SHAPE, writeSeededModel } from "../fixtures/seeded-model.js";

const HOST = fileURLToPath(new URL("../fixtures/engine-host.mjs", import.meta.url));
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const engineFor = (modelPath: string): EngineOptions => ({ modelPath, gpu: "cpu", contextSize: 256, flashAttention: "off", threads: 1 });
/** 10^10 empty iterations: @huggingface/jinja runs them on the host's one thread, for hours. */
const LOOPING_TEMPLATE = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}{{ messages[0]['content'] }}";

describe("engine host faults", function () {
  this.timeout(180_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), "tempo-host-faults-")); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a chat template that loops fails its request within the deadline, naming the template; the host restarts and the next request runs", async () => {
    const looping = join(dir, "looping-template.gguf");
    writeSeededModel(looping, TINY_SHAPE, undefined, { "tokenizer.chat_template": { type: GgufValueType.STRING, value: LOOPING_TEMPLATE } });
    const client = new EngineClient(HOST, quiet);
    try {
      const engine = engineFor(looping);
      await client.request("loadModel", { engine }).result; // the load is not what the deadline measures
      const firstPid = client.pid;
      const started = Date.now();
      const chat = client.request("generate", { engine, prompt: "hello", promptFormat: "chat", settings: { maxSteps: 2 } });
      setTimeout(() => chat.cancel(), 1_000); // unanswered: the loop holds the host
      await assert.rejects(chat.result, (e: unknown) => e instanceof EngineUnresponsiveError && /while rendering the chat template of looping-template\.gguf/.test(e.message));
      const seconds = (Date.now() - started) / 1000;
      // The deadline is 15 s; the rest is slack for a loaded test machine.
      assert.ok(seconds >= 14 && seconds < 45, `failed after ${seconds} s`);
      const raw = await client.request("generate", { engine, prompt: "hello", settings: { maxSteps: 2 } }).result;
      assert.equal(raw.run.steps, 2);
      assert.equal(client.starts, 2);
      assert.notEqual(client.pid, firstPid);
    } finally {
      client.dispose();
    }
  });

  it("a request whose id is in flight is refused with an error naming the id; the first run goes on alone", async () => {
    const child = fork(HOST, [], { execArgv: [], stdio: ["ignore", "ignore", "ignore", "ipc"] });
    try {
      const events: HostEvent[] = [];
      const done = new Promise<void>((resolve) => child.on("message", (e: HostEvent) => {
        events.push(e);
        if (e.type === "done") resolve();
      }));
      const request = (r: HostRequest) => child.send(r);
      const engine = engineFor(seededModelPath(TINY_SHAPE));
      request({ type: "generate", id: 7, engine, prompt: "the cat sat", settings: { maxSteps: 12 } });
      request({ type: "generate", id: 7, engine, prompt: "another run", settings: { maxSteps: 3 } });
      await done;
      await new Promise((r) => setTimeout(r, 300)); // anything the second run would have sent
      const errors = events.filter((e) => e.type === "error");
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.match((errors[0] as { message: string }).message, /request id 7 is already in flight/);
      const finals = events.filter((e) => e.type === "done");
      assert.equal(finals.length, 1, "one run under id 7");
      const steps = events.flatMap((e) => (e.type === "steps" ? e.steps.map((s) => s.index) : []));
      assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i), "one run's steps, in order, none twice");
      assert.equal(events.filter((e) => e.type === "promptRendered").length, 1);
    } finally {
      child.kill();
    }
  });

  it("a host killed during an experiment leaves the units it finished in the experiment's folder", async () => {
    const child = fork(HOST, [], { execArgv: [], stdio: ["ignore", "ignore", "ignore", "ipc"] });
    const outRoot = join(dir, "experiments");
    const progressed = new Promise<void>((resolve) => child.on("message", (e: HostEvent) => { if (e.type === "experimentProgress") resolve(); }));
    const killed = new Promise((resolve) => child.on("exit", resolve));
    child.send({ type: "experiment", id: 1, engine: engineFor(seededModelPath(TINY_SHAPE)), spec: { arms: ["standard", "isolated"], limit: 4 }, outRoot } satisfies HostRequest);
    await progressed;
    child.kill("SIGKILL");
    await killed;
    const [folder, ...others] = readdirSync(outRoot);
    assert.equal(others.length, 0, "one experiment folder");
    assert.ok(!readdirSync(join(outRoot, folder)).includes("summary.json"), "not finished, so no summary");
    const units = readFileSync(join(outRoot, folder, PARTIAL_RESULTS), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { taskId: string; arm: string });
    assert.ok(units.length >= 1 && units.length < 8, `${units.length} units kept`);
  });
});
