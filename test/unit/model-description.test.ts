import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describeModel } from "../../src/engine/model.js";

describe("what the model and the tool say they are", () => {
  it("the model description carries the parameter count, and says plainly what llama.cpp guessed", () => {
    assert.equal(describeModel("llama ?B (guessed) F16", 4_261_120), "llama 4.26M parameters F16 (file type guessed from its tensors)");
    assert.equal(describeModel("qwen2 1.5B Q4_K_M - Medium", 1_543_714_304), "qwen2 1.5B (1.54B parameters) Q4_K_M - Medium");
    assert.equal(describeModel("gemma2 ?B Q8_0", 912), "gemma2 912 parameters Q8_0");
  });

  it("tempo --version names tempo's and node-llama-cpp's versions", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "--version"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const own = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    assert.match(r.stdout.trim(), new RegExp(`^tempo-playground ${own.version.replace(/\./g, "\\.")} \\(node-llama-cpp \\d+\\.\\d+\\.\\d+\\)$`));
  });
});
