// EngineClient against a fake engine host (test/fixtures/fake-engine-host.mjs): each request
// settles on its own final event, streams only the events the protocol allows it, and is
// rejected on an error event or the child's death.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { EngineClient, EngineCrashedError, EngineRequestError, EngineUnresponsiveError } from "../../src/host/client.js";
import type { EngineOptions, HostEvent } from "../../src/protocol/engine.js";

const FAKE_HOST = fileURLToPath(new URL("../fixtures/fake-engine-host.mjs", import.meta.url));
const engine: EngineOptions = { modelPath: "/m.gguf", gpu: "cpu", contextSize: 0, flashAttention: "off", threads: 1 };

describe("engine client: one typed request() per protocol request", function () {
  this.timeout(30_000);
  const logged: string[] = [];
  let client: EngineClient;
  const log = { info: () => {}, warn: (m: string) => logged.push(`warn ${m}`), error: (m: string) => logged.push(`error ${m}`) };
  beforeEach(() => {
    logged.length = 0;
    client = new EngineClient(FAKE_HOST, log);
  });
  afterEach(() => client.dispose());

  const generate = (prompt: string, seen: HostEvent["type"][] = []) =>
    client.request("generate", { engine, prompt, settings: {} }, (e) => seen.push(e.type));

  it("a generate resolves with its done event; what it streams reaches the caller in order", async () => {
    const seen: HostEvent["type"][] = [];
    const done = await generate("ok", seen).result;
    assert.equal(done.type, "done");
    assert.equal(done.run.stopReason, "max-steps");
    assert.deepEqual(seen, ["modelLoaded", "promptRendered", "steps"]);
  });
  it("a loadModel resolves with the loaded model", async () => {
    const { model } = await client.request("loadModel", { engine }).result;
    assert.equal(model.fileName, "m.gguf");
  });
  it("an error event rejects the request with the engine's message and kind", async () => {
    await assert.rejects(generate("error").result, (e: unknown) => e instanceof EngineRequestError && e.kind === "input" && e.message === "threshold must be in (0, 1]");
  });
  it("an event the protocol does not allow the request is logged and dropped, and the request goes on", async () => {
    const seen: HostEvent["type"][] = [];
    const done = await generate("stray", seen).result;
    assert.equal(done.type, "done");
    assert.deepEqual(seen, ["modelLoaded", "promptRendered", "steps"]);
    assert.ok(logged.some((l) => /"downloaded" for a generate request/.test(l)), logged.join("\n"));
  });
  it("cancel: the request still ends with its own final event", async () => {
    const seen: HostEvent["type"][] = [];
    const handle = generate("wait", seen);
    while (!seen.includes("modelLoaded")) await new Promise((r) => setTimeout(r, 5));
    handle.cancel();
    assert.equal((await handle.result).run.stopReason, "aborted");
  });
  it("the child's death rejects what is in flight, and the next request starts a new child", async () => {
    await assert.rejects(generate("crash").result, (e: unknown) => e instanceof EngineCrashedError && /exit code 3/.test(e.message));
    assert.equal((await generate("ok").result).type, "done");
    assert.equal(client.starts, 2);
  });
  it("a native abort rejects what is in flight with llama.cpp's assert, read from the host's stderr", async () => {
    await assert.rejects(generate("abort").result, (e: unknown) => e instanceof EngineCrashedError && /llama\.cpp aborted: GGML_ASSERT\(n_tokens <= n_batch\) failed \(ggml\.c:1234\)/.test(e.message));
  });
  it("a host silent past the deadline it announced is killed; the request fails saying what it was doing, and the next one gets a new host", async () => {
    await client.request("loadModel", { engine }).result;
    const pid = client.pid;
    const started = Date.now();
    await assert.rejects(generate("hang").result, (e: unknown) =>
      e instanceof EngineUnresponsiveError && /stopped answering for 0\.3 s while rendering the chat template of m\.gguf/.test(e.message));
    assert.ok(Date.now() - started < 5_000, "failed at the deadline, not at the test's timeout");
    const done = generate("ok");
    assert.equal((await done.result).type, "done");
    assert.notEqual(client.pid, pid);
    assert.equal(client.starts, 2);
  });
  it("ids are never reused, across a restart too", async () => {
    const first = generate("ok");
    await first.result;
    await assert.rejects(generate("crash").result);
    const after = generate("ok");
    await after.result;
    assert.ok(after.id > first.id + 1, `${first.id} then ${after.id}`);
  });
});
