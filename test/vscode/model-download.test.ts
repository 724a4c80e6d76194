// "TEMPO: Download Model…": what it accepts before anything is fetched, its error path, and an
// hf: download through the tempo.download.huggingFaceEndpoint setting (a local fake mirror).
// The transfer's details are tested outside VS Code: test/unit/model-download.test.ts.
import * as assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import * as vscode from "vscode";
import { FAKE_HF_REPO, startFakeHuggingFace } from "../fixtures/fake-hugging-face.js";
import { parseModelUri, SUGGESTED_MODELS } from "../../src/extension/download.js";
import type { TempoExtensionApi } from "../../src/extension/extension.js";

describe("Download Model: argument handling", () => {
  it("accepts hf: URIs (with quant, or file and branch) and http(s) URLs", () => {
    for (const uri of [
      "hf:bartowski/SmolLM2-135M-Instruct-GGUF:Q8_0",
      "hf:user/repo",
      "hf:user/repo/sub/model-Q4_K_M.gguf",
      "hf:user/repo/model.gguf#main",
      "https://example.org/models/m.gguf",
      "http://127.0.0.1:8080/m.gguf",
    ]) {
      const r = parseModelUri(`  ${uri} `);
      assert.ok(r.ok, `${uri} rejected: ${r.ok ? "" : r.error}`);
    }
    for (const m of SUGGESTED_MODELS) assert.ok(parseModelUri(m.uri).ok, m.uri);
  });

  it("rejects what the downloader cannot take, with a message", () => {
    for (const [uri, message] of [
      ["", /Enter an hf: URI/],
      ["hf:", /Expected hf:/],
      ["hf:onlyuser", /Expected hf:/],
      ["hf:user/repo/notgguf.bin", /Expected hf:/],
      ["hf:user/repo with space", /spaces/],
      ["ftp://example.org/m.gguf", /Unsupported scheme ftp:/],
      ["file:///etc/passwd", /Unsupported scheme file:/],
      ["models/m.gguf", /Not an hf: URI or a URL/],
    ] as const) {
      const r = parseModelUri(uri);
      assert.ok(!r.ok, `${JSON.stringify(uri)} accepted`);
      assert.match(r.error, message);
    }
  });

  it("the command refuses an invalid URI without starting a download", async () => {
    const ext = vscode.extensions.getExtension<TempoExtensionApi>("tempo-playground.tempo-playground");
    const tempo = await ext?.activate();
    assert.ok(tempo);
    const starts = tempo.engineProcess().starts;
    const result = await vscode.commands.executeCommand("tempo.downloadModel", "ftp://example.org/m.gguf");
    assert.equal(result, undefined);
    assert.equal(tempo.engineProcess().starts, starts, "an invalid URI reached the engine");
  });
});

describe("Download Model: hf: URIs", () => {
  it("download from the mirror in tempo.download.huggingFaceEndpoint", async () => {
    const body = Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(4096, 7)]);
    const hf = await startFakeHuggingFace(body);
    const config = vscode.workspace.getConfiguration("tempo");
    await config.update("download.huggingFaceEndpoint", hf.endpoint, vscode.ConfigurationTarget.Global);
    try {
      const path = await vscode.commands.executeCommand<string | undefined>("tempo.downloadModel", `hf:${FAKE_HF_REPO}:Q8_0`);
      assert.ok(path, `no download; the mirror saw: ${hf.requests.join(", ") || "nothing"}`);
      assert.equal(hf.requests[0], `GET v2/${FAKE_HF_REPO}/manifests/Q8_0`);
      assert.ok(readFileSync(path).equals(body));
      rmSync(path);
    } finally {
      await config.update("download.huggingFaceEndpoint", undefined, vscode.ConfigurationTarget.Global);
      await hf.close();
    }
  });
});
