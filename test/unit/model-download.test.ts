// The download behind "TEMPO: Download Model…", end to end through node-llama-cpp's downloader,
// against a local HTTP server (these machines have no internet): progress, where the file
// lands, cancel without a partial file, and clear errors for a 404 and for a non-GGUF answer.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { downloadModelFile } from "../../src/host/model-download.js";
import { seededModelPath, TINY_SHAPE } from "../fixtures/seeded-model.js";

describe("model download (local server)", function () {
  let server: http.Server;
  let base: string;
  let model: Buffer;
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
  });

  after(() => {
    server.close();
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
});
