// The download behind "TEMPO: Download Model…", end to end through node-llama-cpp's downloader,
// against a local HTTP server (these machines have no internet): progress, where the file
// lands, cancel without a partial file, and clear errors for a 404 and for a non-GGUF answer.
// hf: URIs resolve and download for real through a fake Hugging Face mirror (the
// huggingFaceEndpoint option): the manifest for hf:user/repo:quant, then the file.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { downloadModelFile } from "../../src/host/model-download.js";
import { TempoInputError } from "../../src/engine/errors.js";
import { FAKE_HF_REPO, startFakeHuggingFace, type FakeHuggingFace } from "../fixtures/fake-hugging-face.js";
import { seededModelPath, TINY_SHAPE } from "../fixtures/seeded-model.js";

describe("model download (local server)", function () {
  let server: http.Server;
  let base: string;
  let model: Buffer;
  let hf: FakeHuggingFace;
  const dirs: string[] = [];
  const freshDir = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "tempo-download-"));
    dirs.push(d);
    return d;
  };

  before(async () => {
    model = fs.readFileSync(seededModelPath(TINY_SHAPE));
    server = http.createServer((req, res) => {
      if (req.url === "/model.gguf") {
        res.writeHead(200, { "content-length": model.length, "content-type": "application/octet-stream" });
        res.end(model);
      } else if (req.url === "/slow.gguf") {
        // 64 KiB every 50 ms: slow enough to cancel part-way.
        res.writeHead(200, { "content-length": model.length });
        let sent = 0;
        const timer = setInterval(() => {
          if (sent >= model.length) return void (clearInterval(timer), res.end());
          res.write(model.subarray(sent, sent + 65536));
          sent += 65536;
        }, 50);
        res.on("close", () => clearInterval(timer));
      } else if (req.url === "/login.gguf") {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html><body>Please log in</body></html>");
      } else {
        res.writeHead(404, "Not Found");
        res.end("no such file");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    hf = await startFakeHuggingFace(model);
  });

  after(async () => {
    server.close();
    await hf.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it("lands the file in the folder, byte for byte, reporting progress up to the total", async () => {
    const dir = freshDir();
    const progress: [number, number][] = [];
    const file = await downloadModelFile(`${base}/model.gguf`, dir, { onProgress: (done, total) => progress.push([done, total]) });
    assert.equal(file, path.join(dir, "model.gguf"));
    assert.ok(fs.readFileSync(file).equals(model));
    assert.deepEqual(fs.readdirSync(dir), ["model.gguf"]);
    assert.ok(progress.length >= 2, `progress events: ${progress.length}`);
    assert.deepEqual(progress.at(-1), [model.length, model.length]);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i][0] >= progress[i - 1][0], "progress never goes back");
  });

  it("cancel part-way rejects and leaves no file, partial or whole", async () => {
    const dir = freshDir();
    const controller = new AbortController();
    let seen = 0;
    const done = downloadModelFile(`${base}/slow.gguf`, dir, {
      signal: controller.signal,
      onProgress: (bytes) => {
        seen = bytes;
        if (bytes > 0 && bytes < model.length) controller.abort();
      },
    });
    await assert.rejects(done, /cancelled/);
    assert.ok(seen > 0 && seen < model.length, `cancelled after ${seen} of ${model.length} bytes`);
    // Give the downloader's clean-up a moment, then nothing may be left.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it("a 404 gives the status in words and no file", async () => {
    const dir = freshDir();
    await assert.rejects(downloadModelFile(`${base}/missing.gguf`, dir), /missing\.gguf: the server answered 404 Not Found/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it("an answer that is not a GGUF (an HTML page) is refused and removed", async () => {
    const dir = freshDir();
    await assert.rejects(downloadModelFile(`${base}/login.gguf`, dir), /login\.gguf is not a GGUF model file \(it starts with "<htm"/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  describe("hf: URIs through a Hugging Face mirror", () => {
    beforeEach(() => void hf.requests.splice(0));

    it("hf:user/repo:quant asks the mirror for the quant's file, then downloads it with progress", async () => {
      const dir = freshDir();
      const progress: [number, number][] = [];
      const file = await downloadModelFile(`hf:${FAKE_HF_REPO}:Q8_0`, dir, {
        huggingFaceEndpoint: hf.endpoint,
        onProgress: (done, total) => progress.push([done, total]),
      });
      assert.equal(hf.requests[0], `GET v2/${FAKE_HF_REPO}/manifests/Q8_0`);
      assert.ok(hf.requests.includes(`GET ${FAKE_HF_REPO}/resolve/main/Tiny-Q8_0.gguf`), hf.requests.join("\n"));
      assert.equal(path.dirname(file), dir);
      assert.deepEqual(fs.readdirSync(dir), [path.basename(file)]);
      assert.match(path.basename(file), /Tiny.*Q8_0\.gguf$/);
      assert.ok(fs.readFileSync(file).equals(model));
      assert.deepEqual(progress.at(-1), [model.length, model.length]);
    });

    it("hf:user/repo/file.gguf downloads the file without a manifest", async () => {
      const file = await downloadModelFile(`hf:${FAKE_HF_REPO}/Tiny-Q4_K_M.gguf`, freshDir(), { huggingFaceEndpoint: hf.endpoint });
      assert.ok(!hf.requests.some((r) => r.includes("manifests")), hf.requests.join("\n"));
      assert.ok(fs.readFileSync(file).equals(model));
    });

    it("a repo the mirror does not have gives a clear error and no file", async () => {
      const dir = freshDir();
      const o = { huggingFaceEndpoint: hf.endpoint };
      // TempoInputError: the user's input, not an internal error (the notification says which).
      const userError = (pattern: RegExp) => (e: unknown) => e instanceof TempoInputError && pattern.test(e.message);
      await assert.rejects(downloadModelFile("hf:tempo-test/Missing-GGUF:Q8_0", dir, o), userError(/Cannot get quantization "Q8_0" for model "hf:tempo-test\/Missing-GGUF" or it does not exist/));
      await assert.rejects(downloadModelFile("hf:tempo-test/Missing-GGUF/m.gguf", dir, o), userError(/hf:tempo-test\/Missing-GGUF\/m\.gguf: the server answered 404 Not Found/));
      assert.ok(hf.requests.length >= 2, "both asked the mirror");
      assert.deepEqual(fs.readdirSync(dir), []);
    });

    it("an endpoint that is not an http(s) URL is refused (node-llama-cpp would use huggingface.co)", async () => {
      await assert.rejects(
        downloadModelFile(`hf:${FAKE_HF_REPO}:Q8_0`, freshDir(), { huggingFaceEndpoint: "mirror.example/hf" }),
        /the Hugging Face endpoint "mirror\.example\/hf" is not an http\(s\) URL/,
      );
      assert.deepEqual(hf.requests, []);
    });
  });
});
