/**
 * Hostile inputs against the CLI: every case ends with exit 2 and one `tempo:` line, or runs,
 * never rc 134, never a stack. The engine runs in a child of the command (src/cli/supervisor.ts),
 * so what still kills llama.cpp (a model truncated while mapped) ends as one line with exit 1.
 * All files are generated here.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededModelPath, TINY_SHAPE, writeSeededModel } from "../fixtures/seeded-model.js";
import { SpmVocabulary, TOKEN_TYPE, writeLlamaGguf } from "../../src/gguf/llama-model.js";
import { GgufValue, GgufValueType } from "../../src/gguf/writer.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoInputError } from "../../src/engine/errors.js";
import { CaptureError, readCapture } from "../../src/engine/capture/reader.js";
import { sha256File } from "../../src/engine/hash.js";
import { DEFAULT_CONFIG } from "../../src/engine/tempo/config.js";
import { reportError } from "../../src/cli/exit.js";

const CLI = ["--import", "tsx", "src/cli/main.ts"];
const dir = mkdtempSync(join(tmpdir(), "tempo-hostile-"));
const model = seededModelPath(TINY_SHAPE);

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function tempo(...args: string[]): Run {
  const r = spawnSync(process.execPath, [...CLI, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Starts `generate` on a fresh copy of a model on which greedy generation never ends (the
 * end-of-generation token's output row is zero, so it never wins); resolves once text has come.
 */
async function startEndlessGenerate(name: string): Promise<{ model: string; child: ChildProcessWithoutNullStreams; ended: Promise<Run> }> {
  const endless = join(dir, `${name}.gguf`);
  writeSeededModel(endless, TINY_SHAPE, (w) => { w.output!.fill(0, 2 * TINY_SHAPE.nEmbd, 3 * TINY_SHAPE.nEmbd); });
  const child = spawn(process.execPath, [...CLI, "generate", "--model", endless, "--prompt", "the value", "--threshold", "1", "--max-steps", "1000000", "--context-size", "65536"], { env: { ...process.env, NO_COLOR: "1" } });
  let stdout = "", stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const ended = new Promise<Run>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  await new Promise<void>((resolve) => child.stdout.on("data", (d) => { stdout += d; if (stdout.length > 40) resolve(); }));
  return { model: endless, child, ended };
}

/** No native abort, no stack trace, no llama.cpp assert text. */
function assertNoCrash(r: Run, what: string): void {
  assert.notEqual(r.code, 134, `${what}: native abort\n${r.stderr}`);
  assert.equal(r.signal, null, `${what}: killed by ${r.signal}`);
  assert.doesNotMatch(r.stderr, /GGML_ASSERT|terminate called|^\s+at /m, `${what}: ${r.stderr}`);
}

/** A user error: exit 2, stderr exactly one `tempo:` (or commander `error:`) line matching `message`. */
function assertRefused(r: Run, message: RegExp, what: string): void {
  assertNoCrash(r, what);
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `${what}: one line, got\n${r.stderr}`);
  assert.match(lines[0], /^(tempo|error): /, what);
  assert.match(lines[0], message, what);
}

describe("hostile inputs: one line, never an abort", function () {
  this.timeout(300_000);

  describe("context size and batch (llama.cpp lowers n_batch to the context)", () => {
    it("--context-size 16 with a prompt longer than 16 tokens runs (decodes chunked by the real n_batch)", () => {
      const prompt = "the cat sat on the mat the dog ".repeat(6);
      for (const args of [["--prompt", "the cat sat on the mat the dog"], ["--prompt", prompt]]) {
        const r = tempo("generate", "--model", model, "--context-size", "16", ...args, "--max-steps", "3", "--json");
        assertNoCrash(r, args[1]);
        assert.equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout);
        assert.ok(out.promptTokens.length > 16, `${out.promptTokens.length} prompt tokens`);
        assert.equal(out.steps.length, 3);
      }
    });

    it("a set wider than one decode of a small context is refused before llama.cpp sees it", () => {
      // 15 lanes + main + scratch = 17 sequences, but a context of 16 decodes 16 tokens at once.
      const r = tempo("generate", "--model", model, "--context-size", "16", "--max-width", "15", "--prompt", "the cat", "--max-steps", "2");
      assertRefused(r, /15 lanes need a context of at least 17/, "wide set");
      const ok = tempo("generate", "--model", model, "--context-size", "16", "--max-width", "14", "--threshold", "0.001", "--prompt", "the cat", "--max-steps", "2");
      assert.equal(ok.code, 0, ok.stderr);
    });

    it("compare with a small context runs: its replay sessions decode in the same chunks", () => {
      const out = join(dir, "small-ctx-capture");
      const r = tempo("compare", "--model", model, "--context-size", "32", "--prompt", "the cat sat on the mat the dog the cat sat on the mat", "--max-steps", "3", "--out", out);
      assertNoCrash(r, "compare");
      assert.equal(r.code, 0, r.stderr);
      const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
      assert.equal(manifest.context.nBatch, 32, "the n_batch llama.cpp used, read back");
    });

    for (const [value, message] of [
      ["4294967296", /context size must be a whole number from 16 to 16777216/],
      ["4294967312", /context size must be a whole number from 16 to 16777216/],
      ["2147483648", /context size must be a whole number from 16 to 16777216/],
      ["65537", /context size must be an integer in \[16, 65536\] \(16 x the model's training context 4096/],
      ["15", /context size must be a whole number from 16/],
    ] as const) {
      it(`--context-size ${value} is refused with one line`, () => {
        assertRefused(tempo("generate", "--model", model, "--context-size", value, "--prompt", "x"), message, value);
      });
    }
  });

  describe("numeric options", () => {
    const gen = ["generate", "--model", model, "--prompt", "x", "--max-steps", "2"];
    const cases: Array<[string[], RegExp]> = [
      [["--threads", "0"], /threads must be a whole number from 1 to 512/],
      [["--threads", "1e10"], /threads must be a whole number from 1 to 512/],
      [["--threads", "2.5"], /threads must be a whole number/],
      [["--max-width", "1e300"], /max width must be at most 254/],
      [["--max-width", "0"], /max width must be at least 1/],
      [["--max-steps", "1e300"], /max steps must be at most 1000000/],
      [["--max-steps", "-3"], /max steps must be at least 1/],
      [["--temperature", "1e300"], /temperature must be at most 100/],
      [["--temperature", "0"], /temperature must be > 0/],
      [["--threshold", "NaN"], /threshold must be a number/],
      [["--threshold", "5"], /threshold must be in \(0, 1\]/],
      [["--threshold-end", "-1"], /threshold end must be in \(0, 1\]/],
      [["--alpha", "2"], /relative alpha must be in \[0, 1\]/],
    ];
    for (const [args, message] of cases) {
      it(`generate ${args.join(" ")}`, () => assertRefused(tempo(...gen, ...args), message, args.join(" ")));
    }
    for (const [args, message] of [
      [["--timeout", "1e300"], /execution time limit must be from 100 to 2147483647 ms/],
      [["--memory", "1e12"], /memory limit must be an integer from 16 to 1048576 MiB/],
      [["--path-cap", "1e9"], /path cap must be an integer in \[1, 4096\]/],
      [["--limit", "0"], /--limit must be a positive integer/],
    ] as Array<[string[], RegExp]>) {
      it(`eval ${args.join(" ")} is refused and leaves no --out folder`, () => {
        const out = join(dir, `eval-${args[0].slice(2)}`);
        assertRefused(tempo("eval", "--model", model, "--out", out, ...args), message, args.join(" "));
        assert.ok(!existsSync(out), "nothing written");
      });
    }
  });

  describe("compare --from a hostile capture", () => {
    let sha: string;
    before(async () => { sha = await sha256File(model); });

    /** A capture folder by hand: the manifest, and steps.jsonl with these set members. */
    const capture = (name: string, sets: number[][], edit: (m: Record<string, unknown>) => void = () => {}) => {
      const d = join(dir, name);
      mkdirSync(d);
      const steps = sets.map((tokens, index) => JSON.stringify({
        index, position: 6 + index, mode: "isolated", policy: "mixture", threshold: 0.1,
        candidates: tokens.map((token, rank) => ({ token, text: "a", prob: 0.5, logprob: Math.log(0.5), rank, cell: 6 + index })),
      }));
      writeFileSync(join(d, "steps.jsonl"), steps.map((s) => s + "\n").join(""));
      const manifest: Record<string, unknown> = {
        format: "tempo-capture", schemaVersion: 1, createdAt: "2026-01-01T00:00:00Z", timings: {},
        config: DEFAULT_CONFIG, model: { fileName: "m.gguf", sha256: sha }, prompt: { text: "the value", tokens: [1, 356, 459] },
        files: { steps: { path: "steps.jsonl", count: sets.length } }, stopReason: "max-steps",
        versions: { tempo: "test" }, backend: { name: "CPU" }, context: { nCtx: 256, nBatch: 256, nUbatch: 256, lanes: 8, kvUnified: true, flashAttention: false },
      };
      edit(manifest);
      writeFileSync(join(d, "manifest.json"), JSON.stringify(manifest));
      return d;
    };
    const compareFrom = (from: string) => {
      const out = join(dir, `${from.split("/").pop()}-out`);
      const r = tempo("compare", "--model", model, "--from", from, "--out", out);
      assert.ok(!existsSync(out), "a refused replay writes nothing");
      return r;
    };

    it("a well-formed hand-made capture replays (control for the cases below)", () => {
      const r = tempo("compare", "--model", model, "--from", capture("good", [[453, 112], [300]]), "--out", join(dir, "good-out"));
      assert.equal(r.code, 0, r.stderr);
    });
    for (const [name, sets, message] of [
      ["token-99999", [[453], [99999]], /step 1 has token 99999, outside the vocabulary \[0, 512\)/],
      ["token-minus-5", [[-5, 453]], /step 0 has token -5, outside the vocabulary/],
      ["token-fraction", [[4.5]], /step 0 has token 4\.5, outside/],
      ["token-string", [["12" as unknown as number]], /step 0 has token "12", outside/],
    ] as Array<[string, number[][], RegExp]>) {
      it(`steps.jsonl with ${name} is refused before any decode`, () => assertRefused(compareFrom(capture(name, sets)), message, name));
    }
    it("a prompt token outside the vocabulary is refused", () => {
      const d = capture("prompt-token", [[453]], (m) => { m.prompt = { text: "x", tokens: [1, 70000] }; });
      assertRefused(compareFrom(d), /prompt token 2 is 70000, outside the vocabulary/, "prompt token");
    });
    it("a manifest config out of range is refused like a typed option", () => {
      const d = capture("bad-config", [[453]], (m) => { m.config = { ...DEFAULT_CONFIG, maxWidth: 100000 }; });
      assertRefused(compareFrom(d), /max width must be at most 254/, "config");
    });
    it("manifest file paths are not followed outside the capture folder", () => {
      const outsideFile = join(dir, "outside-steps.jsonl");
      writeFileSync(outsideFile, readFileSync(join(capture("source", [[453]]), "steps.jsonl")));
      for (const path of ["../outside-steps.jsonl", outsideFile]) {
        const d = capture(`escape-${path.length}`, [[453]], (m) => { m.files = { steps: { path, count: 1 } }; });
        assertRefused(compareFrom(d), /outside the capture folder/, path);
      }
      const linked = capture("symlink", [[453]], (m) => { m.files = { steps: { path: "link.jsonl", count: 1 } }; });
      symlinkSync(outsideFile, join(linked, "link.jsonl"));
      assert.throws(() => readCapture(linked), (e: Error) => e instanceof CaptureError && /links outside the capture folder/.test(e.message));
    });
  });

  describe("GGUF hyper-parameters llama.cpp would abort on", () => {
    const hp = { name: "hostile", nLayer: 1, nEmbd: 8, nHead: 2, nHeadKv: 2, nFf: 16, nCtxTrain: 256 };
    const u32 = (value: number): GgufValue => ({ type: GgufValueType.UINT32, value });
    const vocab = (byteTokens: boolean): SpmVocabulary => {
      const tokens = ["<unk>", "<s>", "</s>"], types: number[] = [TOKEN_TYPE.UNKNOWN, TOKEN_TYPE.CONTROL, TOKEN_TYPE.CONTROL];
      if (byteTokens) for (let b = 0; b < 256; b++) { tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`); types.push(TOKEN_TYPE.BYTE); }
      for (const c of "abcdefghij") { tokens.push(c); types.push(TOKEN_TYPE.NORMAL); }
      return { tokens, scores: tokens.map((_, i) => -i), types, bosId: 1, eosId: 2, unkId: 0, addBos: true };
    };
    /** A one-layer model with the given vocabulary and extra (overriding) metadata. */
    const write = (name: string, v: SpmVocabulary, metadata: Record<string, GgufValue> = {}) => {
      const e = hp.nEmbd, f = hp.nFf, n = v.tokens.length;
      const w = (k: number) => Float32Array.from({ length: k }, (_, i) => Math.sin(i) * 0.1);
      const ones = () => new Float32Array(e).fill(1);
      const path = join(dir, `${name}.gguf`);
      writeLlamaGguf(path, hp, v, {
        tokenEmbd: w(e * n), outputNorm: ones(),
        layers: [{ attnNorm: ones(), attnQ: w(e * e), attnK: w(e * e), attnV: w(e * e), attnOutput: w(e * e), ffnNorm: ones(), ffnGate: w(e * f), ffnUp: w(e * f), ffnDown: w(f * e) }],
      }, undefined, metadata);
      return path;
    };
    const empty: SpmVocabulary = { tokens: [], scores: [], types: [], bosId: 1, eosId: 2, unkId: 0, addBos: true };
    const cases: Array<[string, () => string, RegExp]> = [
      ["expert_count = 1000", () => write("experts", vocab(true), { "llama.expert_count": u32(1000), "llama.expert_used_count": u32(2) }), /llama\.expert_count is 1000; llama\.cpp supports at most 512 experts/],
      ["expert_used_count = 2 without experts", () => write("used", vocab(true), { "llama.expert_used_count": u32(2) }), /llama\.expert_used_count is 2 but the model has no experts/],
      ["block_count = 2^31-1", () => write("blocks", vocab(true), { "llama.block_count": u32(2 ** 31 - 1) }), /llama\.block_count is 2147483647; llama\.cpp supports 1 to 512 layers/],
      ["an SPM vocabulary without byte tokens", () => write("nobytes", vocab(false)), /the SPM vocabulary has no byte token <0x00>/],
      ["an empty vocabulary with zero-size tensors", () => write("empty", empty), /the model has no vocabulary/],
    ];

    it("the same generator without a hostile value loads (control)", async () => {
      const m = await TempoModel.open(write("control", vocab(true)));
      assert.equal(m.info.nLayer, 1);
      await m.dispose();
    });
    for (const [what, make, message] of cases) {
      it(`${what}: refused before llama.cpp loads it`, async () => {
        const path = make();
        await assert.rejects(TempoModel.open(path), (e: Error) => e instanceof TempoInputError && message.test(e.message));
        const r = tempo("generate", "--model", path, "--prompt", "abc", "--max-steps", "2");
        assertRefused(r, message, what);
        assert.match(r.stderr, new RegExp(`^tempo: ${path.split("/").pop()!.replace(".", "\\.")}: `), "names the file");
      });
    }
    it("a GGUF whose counts run past the end of the file is refused as truncated", async () => {
      const path = join(dir, "huge-count.gguf");
      const header = Buffer.alloc(24);
      header.write("GGUF", 0, "latin1");
      header.writeUInt32LE(3, 4);
      header.writeBigUInt64LE(0n, 8);
      header.writeBigUInt64LE(2n ** 40n, 16); // 2^40 metadata entries in a 24-byte file
      writeFileSync(path, Buffer.concat([header, Buffer.alloc(64)]));
      await assert.rejects(TempoModel.open(path), (e: Error) => e instanceof TempoInputError && /truncated GGUF header/.test(e.message));
    });
  });

  describe("one error vocabulary", () => {
    it("usage errors exit 2 (commander's and the engine's alike); help exits 0", () => {
      assertRefused(tempo("generate", "--model", model, "--prompt", "x", "--bogus"), /unknown option '--bogus'/, "unknown option");
      assertRefused(tempo("generate", "--model", model), /give --prompt or --prompt-file/, "no prompt");
      assertRefused(tempo("nosuchcommand"), /unknown command/, "unknown command");
      assert.equal(tempo("--help").code, 0);
    });

    it("--prompt-file gives the same run as --prompt; a missing, empty or doubled one is refused", () => {
      const file = join(dir, "prompt.txt");
      writeFileSync(file, "the value");
      const args = ["generate", "--model", model, "--max-steps", "3", "--json"];
      const a = tempo(...args, "--prompt", "the value"), b = tempo(...args, "--prompt-file", file);
      assert.equal(b.code, 0, b.stderr);
      assert.deepEqual(JSON.parse(b.stdout).steps.map((s: { candidates: unknown }) => s.candidates), JSON.parse(a.stdout).steps.map((s: { candidates: unknown }) => s.candidates));
      assertRefused(tempo(...args, "--prompt-file", join(dir, "none.txt")), /cannot read prompt file .*none\.txt: not found/, "missing");
      writeFileSync(join(dir, "empty.txt"), "");
      assertRefused(tempo(...args, "--prompt-file", join(dir, "empty.txt")), /prompt file .* is empty/, "empty");
      assertRefused(tempo(...args, "--prompt-file", dir), /cannot read prompt file .*: EISDIR/, "a directory");
      assertRefused(tempo(...args, "--prompt", "x", "--prompt-file", file), /cannot be used with option '--prompt/, "both");
    });

    it("a prompt over 128 KiB goes through --prompt-file (and is judged against the context, not argv)", () => {
      const file = join(dir, "long.txt");
      writeFileSync(file, "the value ".repeat(20_000));
      assertRefused(tempo("generate", "--model", model, "--prompt-file", file), /the prompt is \d+ tokens; the context holds 4096 cells/, "long prompt");
    });

    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      it(`${signal} during generate stops it with the steps so far, [aborted], exit 130`, async () => {
        const run = await startEndlessGenerate(`endless-${signal}`);
        run.child.kill(signal);
        const r = await run.ended;
        assert.deepEqual([r.code, r.signal], [130, null], r.stderr);
        assert.match(r.stderr, /^\[aborted\] \d+ steps/m);
        assertNoCrash(r, signal);
      });
    }

    it("a model file truncated while generate runs on it (SIGBUS in llama.cpp) ends in one line, exit 1", async () => {
      const run = await startEndlessGenerate("truncated-while-mapped");
      truncateSync(run.model, 0); // the mapped pages are gone: llama.cpp's next read of a weight faults
      const unfaulted = setTimeout(() => run.child.kill("SIGTERM"), 60_000); // a build that copied the weights would run on
      const r = await run.ended;
      clearTimeout(unfaulted);
      assert.deepEqual([r.code, r.signal], [1, null], r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /^tempo: the engine stopped while running generate on truncated-while-mapped\.gguf: SIGBUS: a memory-mapped file \(the model\) was truncated or replaced on disk while in use/);
    });

    it("SIGTERM during compare --prompts keeps the finished prompts' folders and a paired.json marked incomplete, exit 130", async () => {
      const prompts = join(dir, "three-prompts.txt"), out = join(dir, "cancelled-suite");
      writeFileSync(prompts, "the value of\nfunction return\nconst let var\n");
      // One prompt per decode, so that a prompt finishes while the next one runs.
      const child = spawn(process.execPath, [...CLI, "compare", "--model", model, "--threads", "1", "--prompts", prompts, "--max-steps", "48", "--batch-prompts", "1", "--out", out], { env: { ...process.env, NO_COLOR: "1" } });
      let stderr = "", killed = false;
      // One SIGTERM only: a second (on later progress output) is the "stop now" signal, which exits without the summary.
      child.stderr.on("data", (d) => { stderr += d; if (!killed && /prompt 1\/3 done/.test(stderr)) killed = child.kill("SIGTERM"); });
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      assert.equal(code, 130, stderr);
      assert.match(stderr, /cancelled after [12] of 3 prompts/);
      const paired = JSON.parse(readFileSync(join(out, "paired.json"), "utf8"));
      assert.equal(paired.complete, false);
      assert.ok(paired.items.length >= 1 && paired.items.length < 3, `${paired.items.length} items`);
      for (const item of paired.items) assert.ok(existsSync(join(out, item.id.padStart(3, "0"), "manifest.json")), `prompt ${item.id} kept whole`);
      // The prompt in flight keeps the steps it replayed, as a capture stopped "aborted" (or nothing, cancelled before its first).
      const inFlight = join(out, String(paired.items.length + 1).padStart(3, "0"));
      if (existsSync(inFlight)) assert.equal(JSON.parse(readFileSync(join(inFlight, "manifest.json"), "utf8")).stopReason, "aborted");
    });

    it("SIGTERM while a batch of compare --prompts replays: every prompt keeps the steps it replayed, paired.json says incomplete, exit 130", async () => {
      const prompts = join(dir, "three-prompts-batched.txt"), out = join(dir, "cancelled-batch");
      writeFileSync(prompts, "the value of\nfunction return\nconst let var\n");
      const child = spawn(process.execPath, [...CLI, "compare", "--model", model, "--threads", "1", "--prompts", prompts, "--max-steps", "48", "--out", out], { env: { ...process.env, NO_COLOR: "1" } });
      let stderr = "", killed = false;
      child.stderr.on("data", (d) => { stderr += d; if (!killed && /prompts 1, 2, 3 of 3: generated, replaying together/.test(stderr)) killed = child.kill("SIGTERM"); });
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      assert.equal(code, 130, stderr);
      assert.match(stderr, /cancelled after 0 of 3 prompts/);
      assert.equal(JSON.parse(readFileSync(join(out, "paired.json"), "utf8")).complete, false);
      // The three replayed together, so each stopped where the batch stopped: its capture cut there.
      for (const id of ["001", "002", "003"]) {
        const manifest = JSON.parse(readFileSync(join(out, id, "manifest.json"), "utf8"));
        assert.equal(manifest.stopReason, "aborted", id);
      }
    });

    it("a capture folder a killed run left without its manifest is refused as unfinished, naming the way out", () => {
      const out = join(dir, "killed-capture");
      mkdirSync(out);
      writeFileSync(join(out, "steps.jsonl"), "");
      assertRefused(tempo("compare", "--model", model, "--prompt", "x", "--out", out), /holds no manifest\.json: an unfinished capture .*; delete it or choose another --out/, "unfinished");
    });

    it("an internal error exits 1 with one line that names the log holding the stack", () => {
      const report = (e: Error) => {
        const written: string[] = [];
        const write = process.stderr.write.bind(process.stderr);
        process.stderr.write = ((s: string) => { written.push(s); return true; }) as typeof process.stderr.write;
        try { return { code: reportError(e), written }; } finally { process.stderr.write = write; }
      };
      const internal = report(new RangeError("boom\nsecond line"));
      assert.equal(internal.code, 1);
      assert.equal(internal.written.length, 1);
      const m = /^tempo: internal error: boom second line; details in (\S+)\n$/.exec(internal.written[0]);
      assert.ok(m, internal.written[0]);
      assert.match(readFileSync(m[1], "utf8"), /RangeError: boom[\s\S]*\n\s+at /);
      assert.deepEqual(report(new TempoInputError("bad value")), { code: 2, written: ["tempo: bad value\n"] });
    });
  });
});
