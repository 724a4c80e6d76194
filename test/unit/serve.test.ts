import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, existsSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TempoModel } from "../../src/engine/model.js";
import { TempoSession } from "../../src/engine/session.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { runGeneration } from "../../src/engine/tempo/generate.js";
import { defaultModelPath } from "../../src/engine/default-model.js";
import { startServer, type RunningServer } from "../../src/server/serve.js";

interface Answer { status: number; body: Record<string, unknown> & { error?: { message: string } } }

describe("tempo serve (localhost API)", function () {
  this.timeout(120_000);
  let model: TempoModel;
  let server: RunningServer;
  let tokenFile: string;
  const call = (method: string, path: string, body?: unknown, token: string | null = server.token): Promise<Answer> => new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      let text = "";
      res.on("data", (c) => { text += c; });
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body));
  });

  before(async () => {
    model = await TempoModel.open(defaultModelPath());
    tokenFile = join(mkdtempSync(join(tmpdir(), "tempo-serve-")), "sub", "token");
    server = await startServer({ model, path: defaultModelPath(), gpu: "auto", port: 0, tokenFile, session: { contextSize: 256, threads: 1 } });
  });
  after(async () => { await server.close(); await model.dispose(); });

  it("binds 127.0.0.1 and writes the token to a file only the user can read", () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
  });

  it("refuses a missing or wrong token, an unknown path, bad JSON and bad settings with a message", async () => {
    assert.equal((await call("GET", "/v1/models", undefined, null)).status, 401);
    assert.equal((await call("GET", "/v1/models", undefined, "x".repeat(server.token.length))).status, 401);
    assert.equal((await call("POST", "/nope", {})).status, 404);
    assert.equal((await call("GET", "/tempo/generate")).status, 405);
    const badJson = await call("POST", "/tempo/generate", "{not json");
    assert.equal(badJson.status, 400);
    assert.match(badJson.body.error!.message, /not JSON/);
    const badSetting = await call("POST", "/tempo/generate", { prompt: "x", settings: { threshold: 2 } });
    assert.equal(badSetting.status, 400);
    assert.match(badSetting.body.error!.message, /threshold must be in \(0, 1\]/);
    const badCompletion = await call("POST", "/v1/completions", { prompt: "x", n: 2 });
    assert.equal(badCompletion.status, 400);
    assert.match(badCompletion.body.error!.message, /n: only n = 1/);
  });

  it("/v1/completions: OpenAI's object, the engine's greedy tokens and their logprobs", async () => {
    const r = await call("POST", "/v1/completions", { prompt: "function add(a, b) {", max_tokens: 6, logprobs: 2 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const choice = (r.body.choices as { text: string; finish_reason: string; logprobs: { tokens: string[]; token_logprobs: number[]; top_logprobs: Record<string, number>[]; text_offset: number[] } }[])[0];
    const session = new TempoSession(model, { contextSize: 256, lanes: 1, threads: 1 });
    try {
      const local = await runGeneration(session, { promptTokens: model.promptTokens("function add(a, b) {"), config: resolveConfig({ mode: "standard", maxSteps: 6 }) });
      assert.equal(choice.text, local.text);
      assert.deepEqual(choice.logprobs.token_logprobs, local.steps.map((s) => s.candidates[0].logprob));
    } finally { session.dispose(); }
    assert.equal(choice.finish_reason, "length");
    assert.equal(choice.logprobs.top_logprobs[0] && Object.keys(choice.logprobs.top_logprobs[0]).length, 2);
    assert.equal(choice.logprobs.text_offset[0], "function add(a, b) {".length);
    assert.deepEqual(r.body.usage, { prompt_tokens: model.promptTokens("function add(a, b) {").length, completion_tokens: 6, total_tokens: model.promptTokens("function add(a, b) {").length + 6 });
  });

  it("/tempo/generate: the same JSON as tempo generate --json", async () => {
    const settings = { mode: "isolated", threshold: 0.05, maxWidth: 4, maxSteps: 8 };
    const r = await call("POST", "/tempo/generate", { prompt: "function add(a, b) {", settings });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const cli = await new Promise<string>((resolve, reject) => execFile(process.execPath, ["--import", "tsx", "src/cli/main.ts", "generate", "--prompt", "function add(a, b) {", "--mode", "isolated", "--threshold", "0.05", "--max-width", "4", "--max-steps", "8", "--context-size", "256", "--threads", "1", "--json"], { encoding: "utf8" }, (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout))));
    const expected = JSON.parse(cli);
    const strip = (x: { steps: { timings?: unknown }[] }) => ({ ...x, steps: x.steps.map((s) => ({ ...s, timings: undefined })) });
    assert.deepEqual(strip(r.body as never), strip(expected));
  });

  it("/tempo/compare: the report.json tempo compare writes for the same experiment", async () => {
    const prompt = "function add(a, b) {";
    const r = await call("POST", "/tempo/compare", { prompt, generation: { threshold: 0.05, maxWidth: 4, maxSteps: 6 }, compare: { qMode: "causal" } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const out = join(mkdtempSync(join(tmpdir(), "tempo-serve-compare-")), "cap");
    await new Promise<void>((resolve, reject) => execFile(process.execPath, ["--import", "tsx", "src/cli/main.ts", "compare", "--prompt", prompt, "--threshold", "0.05", "--max-width", "4", "--max-steps", "6", "--q-mode", "causal", "--context-size", "256", "--threads", "1", "--out", out], { encoding: "utf8" }, (error, _stdout, stderr) => (error ? reject(new Error(stderr)) : resolve())));
    const expected = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    // The one field that differs between two runs of the same experiment: when the report was made.
    const undated = (x: Record<string, unknown>) => ({ ...x, createdAt: undefined });
    assert.deepEqual(undated(r.body), undated(expected));
    assert.equal((r.body.q as { mode: string }).mode, "causal");
    assert.match(r.body.settings as string, /threshold 0\.05/);
  });

  it("/tempo/compare refuses what it cannot run, naming the field", async () => {
    const standard = await call("POST", "/tempo/compare", { prompt: "x", generation: { mode: "standard" } });
    assert.equal(standard.status, 400);
    assert.match(standard.body.error!.message, /two parallel modes/);
    const badMode = await call("POST", "/tempo/compare", { prompt: "x", compare: { qMode: "sideways" } });
    assert.equal(badMode.status, 400);
    assert.match(badMode.body.error!.message, /qMode must be visible, causal or isolated/);
    const capture = await call("POST", "/tempo/compare", { prompt: "x", compare: { logits: { kind: "full" } } });
    assert.equal(capture.status, 400);
    assert.match(capture.body.error!.message, /the API writes no capture/);
    const file = await call("POST", "/tempo/compare", { prompt: "x", from: "/etc" });
    assert.equal(file.status, 400);
    assert.match(file.body.error!.message, /from/);
  });

  it("/tempo/eval: the summary.json tempo eval writes for the same experiment, a sample baseline beside the TEMPO arm", async () => {
    const r = await call("POST", "/tempo/eval", { eval: { limit: 2, arms: ["isolated"], maxSteps: 16, pathCap: 4, baselines: { arms: ["sample"], seed: 5 } } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const out = join(mkdtempSync(join(tmpdir(), "tempo-serve-eval-")), "eval");
    await new Promise<void>((resolve, reject) => execFile(process.execPath, ["--import", "tsx", "src/cli/main.ts", "eval", "--limit", "2", "--arms", "isolated", "--max-steps", "16", "--path-cap", "4", "--baselines", "sample", "--seed", "5", "--context-size", "256", "--threads", "1", "--out", out], { encoding: "utf8" }, (error, _stdout, stderr) => (error ? reject(new Error(stderr)) : resolve())));
    const expected = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    // What differs between two runs of the same experiment: when it started and how long things took.
    const untimed = (x: unknown): unknown => Array.isArray(x) ? x.map(untimed) : x !== null && typeof x === "object"
      ? Object.fromEntries(Object.entries(x).filter(([k]) => !/^(startedAt|wallMs|generateMsPerTask|executeMsPerTask|samplesPerSecond)$/.test(k)).map(([k, v]) => [k, untimed(v)])) : x;
    assert.deepEqual(untimed(r.body), untimed(expected));
    const arms = (r.body.summary as { arms: { arm: string; cost: { budgetRowsPerTask?: number; evaluatedTokensPerTask: number } }[] }).arms;
    assert.deepEqual(arms.map((a) => a.arm), ["isolated", "sample"]);
    assert.ok(arms[1].cost.budgetRowsPerTask! > 0 && arms[1].cost.evaluatedTokensPerTask <= arms[1].cost.budgetRowsPerTask!, "the baseline spends at most the isolated arm's rows");
    assert.deepEqual((r.body.settings as { baselines: unknown }).baselines, { arms: ["sample"], match: "isolated", temperature: 0.8, topP: 0.95, seed: 5, beamWidth: 4 });
  });

  it("/tempo/eval refuses a bad experiment block, naming the field", async () => {
    const badArm = await call("POST", "/tempo/eval", { eval: { arms: ["isolated"], baselines: { arms: ["greedy"] } } });
    assert.equal(badArm.status, 400);
    assert.equal(badArm.body.error!.message, "eval.baselines.arms.0: baselines must be sample or beam");
    const unknown = await call("POST", "/tempo/eval", { eval: { arms: ["isolated"], baselines: { arms: ["sample"], topK: 5 } } });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error!.message, "unknown key eval.baselines.topK");
    const range = await call("POST", "/tempo/eval", { eval: { arms: ["isolated"], baselines: { arms: ["sample"], topP: 2 } } });
    assert.equal(range.status, 400);
    assert.equal(range.body.error!.message, "top-p must be in (0, 1], got 2");
    const noTempo = await call("POST", "/tempo/eval", { eval: { arms: ["standard"], baselines: { arms: ["beam"] } } });
    assert.equal(noTempo.status, 400);
    assert.match(noTempo.body.error!.message, /add isolated, visible or causal/);
  });

  for (const [path, body] of [
    ["/tempo/generate", { prompt: "x", settings: { maxSteps: 100000, threshold: 0.01, maxWidth: 8 } }],
    ["/tempo/eval", { eval: { arms: ["isolated", "visible"], baselines: { arms: ["sample", "beam"] } } }],
  ] as const) {
    it(`a client that disconnects cancels its request (${path}): the queue goes on at once`, async () => {
      await new Promise<void>((resolve) => {
        const req = request(`${server.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${server.token}` } });
        req.on("error", () => resolve());
        req.end(JSON.stringify(body));
        setTimeout(() => { req.destroy(); resolve(); }, 300);
      });
      const started = Date.now();
      const r = await call("POST", "/v1/completions", { prompt: "x", max_tokens: 2 });
      assert.equal(r.status, 200);
      assert.ok(Date.now() - started < 20_000, `the next request waited ${Date.now() - started} ms`);
    });
  }

  it("the Python example in docs/api.md runs against it (standard library only)", async () => {
    // Asynchronously: the server answering it runs in this process.
    const py = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      execFile("python3", ["python/tempo_api_example.py", server.url, tokenFile], { encoding: "utf8" }, (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") reject(error); // python3 missing: scripts/install-test-deps.sh installs it
        else resolve({ status: error ? (error.code as number) : 0, stdout, stderr });
      });
    });
    assert.equal(py.status, 0, py.stderr);
    assert.match(py.stdout, /^completion: '.*'$/m);
    assert.match(py.stdout, /^steps: 8 widest set: \d+ stop: max-steps$/m);
    assert.match(py.stdout, /^compare: 6 steps, mean JS \d\.\d+e[-+]\d+ nats, null baseline \d\.\d+e[-+]\d+$/m);
    assert.match(py.stdout, /^eval: isolated pass@1 \d\/2 at [\d.]+ rows\/task; sample pass@1 \d\/2 at [\d.]+ rows\/task$/m);
  });

  it("removes the token file when it stops", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tempo-serve-"));
    const other = await startServer({ model, path: defaultModelPath(), gpu: "auto", port: 0, tokenFile: join(dir, "t"), session: { contextSize: 256, threads: 1 } });
    assert.ok(existsSync(join(dir, "t")));
    await other.close();
    assert.ok(!existsSync(join(dir, "t")));
  });
});
