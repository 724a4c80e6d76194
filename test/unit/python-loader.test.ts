import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CaptureRecorder } from "../../src/engine/capture/recorder.js";
import { readCapture } from "../../src/engine/capture/reader.js";
import { readSafetensors } from "../../src/engine/capture/safetensors.js";
import { seededModelPath, TINY_SHAPE } from "../fixtures/seeded-model.js";
import { lcg, syntheticAttention, syntheticInfo, syntheticLogits, syntheticStep } from "../../src/engine/capture/synthetic.js";

// The real client of capture files: Debian's python3 with python3-numpy (scripts/apt-packages.txt).
const PYTHON = "/usr/bin/python3";
const LOADER_DIR = path.resolve("python");

/** Python side: load both captures and print every array (dtype, shape, flat values) as JSON. */
const DUMP = `
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from tempo_capture import load_capture, CaptureFormatError
out = {}
for key, d in (("topk", sys.argv[2]), ("f32", sys.argv[3]), ("f16", sys.argv[4])):
    cap = load_capture(d)
    out[key] = {
        "sha256": cap["manifest"]["model"]["sha256"],
        "steps": cap["steps"],
        "arrays": {n: {"dtype": str(a.dtype), "shape": list(a.shape), "values": [v.item() for v in a.ravel()]}
                   for n, a in {**cap["logits"], **cap["attention"]}.items()},
        "metadata": cap["logits_metadata"],
    }
# F16 written by TypeScript must equal numpy's own float32 -> float16 rounding of the F32 capture.
f32 = load_capture(sys.argv[3])["logits"]["next.logprobs"]
f16 = load_capture(sys.argv[4])["logits"]["next.logprobs"]
out["f16_matches_numpy_rounding"] = bool(np.array_equal(f32.astype(np.float16), f16))
# A truncated file must raise the loader's clear error.
try:
    load_capture(sys.argv[5])
    out["truncated"] = "no error"
except CaptureFormatError as e:
    out["truncated"] = str(e)
# Attention records with their streams (a capture with three streams, and one without any).
from tempo_capture import attention_records
out["streams"] = [[r["stream"], r["mode"], r["step"], r["layer"], list(r["weights"].shape)] for r in attention_records(load_capture(sys.argv[6]))]
out["no_streams"] = [[r["stream"], r["mode"]] for r in attention_records(load_capture(sys.argv[2]))]
print(json.dumps(out))
`;

function writeCapture(dir: string, logits: ConstructorParameters<typeof CaptureRecorder>[1]): void {
  const rnd = lcg(5);
  const rec = new CaptureRecorder(syntheticInfo(), logits);
  for (let i = 0; i < 4; i++) {
    rec.addStep(syntheticStep(i, rnd));
    rec.addLogits(i, syntheticLogits(257, rnd));
    rec.addLogits(i, syntheticLogits(257, rnd), { stream: "replay-visible" });
  }
  rec.addAttention(syntheticAttention(2, 5, 3, 2, 4, rnd));
  rec.finish({ stopReason: "eog", timings: { totalMs: 1 } });
  rec.write(dir);
}

describe("python loader (python/tempo_capture.py with numpy)", function () {
  let root: string;
  before(function () {
    const probe = spawnSync(PYTHON, ["-c", "import numpy"], { encoding: "utf8" });
    if (probe.error || probe.status !== 0) {
      // Fail, not skip: this test is the check that captures load where users load them.
      throw new Error(`${PYTHON} with numpy is required (apt-get install -y python3-numpy; it is listed in scripts/apt-packages.txt): ${probe.error?.message ?? probe.stderr}`);
    }
    root = fs.mkdtempSync(path.join(os.tmpdir(), "pyload-"));
  });
  after(() => root && fs.rmSync(root, { recursive: true, force: true }));

  it("loads a fresh capture with the same shapes and values, bit for bit", () => {
    const dirs = { topk: path.join(root, "topk"), f32: path.join(root, "f32"), f16: path.join(root, "f16"), bad: path.join(root, "bad") };
    writeCapture(dirs.topk, { logits: { kind: "topk", k: 16 } });
    writeCapture(dirs.f32, { logits: { kind: "full", dtype: "F32" } });
    writeCapture(dirs.f16, { logits: { kind: "full", dtype: "F16" } });
    writeCapture(dirs.bad, {});
    const lf = path.join(dirs.bad, "logits.safetensors");
    fs.writeFileSync(lf, fs.readFileSync(lf).subarray(0, 300));

    const streamed = path.join(root, "streams");
    const rnd = lcg(9);
    const rec = new CaptureRecorder(syntheticInfo());
    rec.addStep(syntheticStep(0, rnd));
    for (const [stream, mode] of [["replay-isolated", "isolated"], ["replay-visible", "visible"], ["null-isolated", "isolated"]]) {
      rec.addAttention({ ...syntheticAttention(0, 1, 2, 3, 4, rnd, mode === "isolated"), stream, mode });
    }
    rec.write(streamed);
    const out = JSON.parse(execFileSync(PYTHON, ["-c", DUMP, LOADER_DIR, dirs.topk, dirs.f32, dirs.f16, dirs.bad, streamed], { encoding: "utf8", maxBuffer: 1 << 28 }));
    assert.deepEqual(out.streams, [["replay-isolated", "isolated", 0, 1, [2, 3, 7]], ["replay-visible", "visible", 0, 1, [2, 3, 7]], ["null-isolated", "isolated", 0, 1, [2, 3, 7]]]);
    assert.deepEqual(out.no_streams, [[null, null]]);
    const npDtype: Record<string, string> = { F32: "float32", F16: "float16", I32: "int32", I64: "int64", U8: "uint8", F64: "float64" };
    for (const key of ["topk", "f32", "f16"] as const) {
      const dir = dirs[key];
      const ts = readCapture(dir);
      assert.equal(out[key].sha256, ts.manifest.model.sha256);
      assert.deepEqual(out[key].steps, JSON.parse(JSON.stringify(ts.steps)));
      // Every tensor of both files, compared with the TypeScript reader's raw arrays.
      const files = [readSafetensors(path.join(dir, "logits.safetensors")), readSafetensors(path.join(dir, "attention.safetensors"))];
      const names = files.flatMap((f) => [...f.tensors.keys()]).sort();
      assert.deepEqual(Object.keys(out[key].arrays).sort(), names);
      for (const f of files) {
        for (const [name, t] of f.tensors) {
          const py = out[key].arrays[name];
          assert.equal(py.dtype, npDtype[t.dtype], name);
          assert.deepEqual(py.shape, t.shape, name);
          const want = t.dtype === "F16" ? Array.from(readCapture(dir).logits.get(name.split(".")[0])!.logprobs) : Array.from(t.data as ArrayLike<number>);
          assert.deepEqual(py.values, want, `${key} ${name}`);
        }
      }
    }
    assert.deepEqual(out.topk.arrays["next.token_ids"].shape, [4, 16]);
    assert.deepEqual(out.f16.arrays["replay-visible.logprobs"].shape, [4, 257]);
    assert.deepEqual(out.topk.arrays["attn.0.weights"].shape, [3, 2, 6]);
    assert.equal(out.topk.metadata["next.kind"], "topk");
    assert.equal(out.f16_matches_numpy_rounding, true);
    assert.match(out.truncated, /logits.safetensors: .*(truncated|outside)/);
  });

  it("the script's summary: settings, JS against the null, the most divergent steps of a compare capture", () => {
    const dir = path.join(root, "compared");
    const cli = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "compare", "--model", seededModelPath(TINY_SHAPE), "--prompt", "the value", "--threshold", "0.05", "--max-width", "4", "--max-steps", "8", "--out", dir], { encoding: "utf8" });
    assert.equal(cli.status, 0, cli.stderr);
    const lines = execFileSync(PYTHON, [path.join(LOADER_DIR, "tempo_capture.py"), dir], { encoding: "utf8" }).split("\n");
    const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8")) as { steps: { index: number; js: number }[]; summary: { js: { mean: number } } };
    assert.match(lines.find((l) => l.startsWith("settings:")) ?? "", /mode isolated, threshold 0\.05, maxWidth 4/);
    // Printed to 3 significant digits: within half a unit of the third digit of the report's mean.
    const printedMean = Number(/^JS divergence isolated vs visible .*: mean (\S+)/.exec(lines.find((l) => l.startsWith("JS divergence")) ?? "")?.[1]);
    assert.ok(Math.abs(printedMean - report.summary.js.mean) <= 5e-3 * report.summary.js.mean, `${printedMean} vs ${report.summary.js.mean}`);
    assert.ok(lines.some((l) => /^null baseline .*steps above its p99: \d+%; Wilcoxon p = /.test(l)), lines.join("\n"));
    const listed = lines.filter((l) => /^ {2}step +\d+ {2}JS /.test(l)).map((l) => Number(/step +(\d+)/.exec(l)![1]));
    const ranked = [...report.steps].sort((a, b) => b.js - a.js).slice(0, 5).map((s) => s.index);
    assert.deepEqual(listed, ranked, "the five largest JS steps, largest first");
    // A capture without report.json (a generate run) has no divergence lines; attention records are one line.
    const plain = path.join(root, "plain");
    writeCapture(plain, { logits: { kind: "topk", k: 16 } });
    const plainLines = execFileSync(PYTHON, [path.join(LOADER_DIR, "tempo_capture.py"), plain], { encoding: "utf8" }).split("\n");
    assert.ok(!plainLines.some((l) => l.startsWith("JS divergence")));
    assert.equal(plainLines.filter((l) => l.includes("attn.")).length, 1, plainLines.join("\n"));
    const missing = spawnSync(PYTHON, [path.join(LOADER_DIR, "tempo_capture.py"), path.join(root, "nothing-here")], { encoding: "utf8" });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr.trim(), /^tempo_capture: .*manifest\.json: missing/);
  });
});
