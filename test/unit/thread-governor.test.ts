import assert from "node:assert/strict";
import { seededModelPath, TINY_SHAPE } from "../fixtures/seeded-model.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoSession } from "../../src/engine/session.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { runGeneration } from "../../src/engine/tempo/generate.js";
import type { GenerationResult } from "../../src/engine/types.js";
import { MachineLoad, STALE_WINDOW_MS, THREAD_WINDOW_MS, ThreadGovernor, threadsLeft, type CpuSample } from "../../src/engine/llama/thread-governor.js";

/** A clock and CPU counters the test moves: each window, other processes keep `othersBusy()` cores busy and we use `own` cores. */
function fakeMachine(othersBusy: () => number, windowMs = THREAD_WINDOW_MS + 100, own = 1) {
  let now: CpuSample | undefined;
  return (): CpuSample => {
    // The window since the last sample is the one othersBusy() describes now.
    now = now ? { wallMs: now.wallMs + windowMs, ownMs: now.ownMs + own * windowMs, busyMs: now.busyMs + (own + othersBusy()) * windowMs } : { wallMs: 0, busyMs: 0, ownMs: 0 };
    return now;
  };
}

describe("automatic decode threads", () => {
  it("decodes with the cores other processes leave idle, at least one, at most the maximum", () => {
    assert.equal(threadsLeft(2, 2, 0), 2);
    assert.equal(threadsLeft(2, 2, 0.4), 2);
    assert.equal(threadsLeft(2, 2, 0.6), 1);
    assert.equal(threadsLeft(2, 2, 1.9), 1);
    assert.equal(threadsLeft(2, 2, 5), 1);
    assert.equal(threadsLeft(4, 8, 1), 4);
    assert.equal(threadsLeft(8, 8, 3), 5);
  });

  it("measures other processes' busy time net of its own, once per window", () => {
    let others = 1.5;
    const load = new MachineLoad(2, fakeMachine(() => others));
    const governor = new ThreadGovernor(2, load);
    assert.equal(governor.threads, 2, "the maximum the context was made with, before any decode");
    assert.equal(governor.next(), 1);
    assert.ok(Math.abs(load.othersBusy()! - 1.5) < 1e-9, "this process's own CPU time is not counted as busy elsewhere");
    others = 0;
    assert.equal(governor.next(), 2);
    // Within one window nothing is re-measured.
    const short = new MachineLoad(2, fakeMachine(() => 0, THREAD_WINDOW_MS / 2));
    assert.equal(new ThreadGovernor(2, short).next(), 1, "a core fewer than the maximum until a window is measured");
    assert.equal(short.othersBusy(), 0, "two half windows make one");
    assert.equal(new ThreadGovernor(1, short).next(), 1);
    // A window spanning an idle pause says nothing about now: the choice stays.
    const stale = new MachineLoad(2, fakeMachine(() => 2, STALE_WINDOW_MS + 1));
    assert.equal(new ThreadGovernor(3, stale).next(), 2);
    assert.equal(stale.othersBusy(), undefined);
  });

  describe("in a session", () => {
    let model: TempoModel;
    before(async () => { model = await TempoModel.open(seededModelPath(TINY_SHAPE)); });
    after(async () => { await model.dispose(); });

    it("changes llama.cpp's thread count between decodes and not the results", async () => {
      // Other processes take a core in every other window: the session alternates 2 and 1 threads.
      let window = 0;
      const governor = new ThreadGovernor(2, new MachineLoad(2, fakeMachine(() => (window++ % 2 === 0 ? 0 : 1.5))));
      const governed = new TempoSession(model, { contextSize: 512, lanes: 8, threads: governor });
      const fixed = new TempoSession(model, { contextSize: 512, lanes: 8, threads: 2 });
      const seen = new Set<number>();
      const strip = (r: GenerationResult) => r.steps.map((s) => ({ ...s, timings: undefined }));
      try {
        assert.equal(governed.autoThreads, true);
        assert.equal(fixed.autoThreads, false);
        for (const config of [resolveConfig({ mode: "standard", maxSteps: 10 }), resolveConfig({ threshold: 0.05, maxWidth: 4, maxSteps: 10 })]) {
          const request = { promptTokens: model.promptTokens("the value"), config };
          const a = await runGeneration(governed, request, () => seen.add(governed.threads));
          const b = await runGeneration(fixed, request);
          assert.deepEqual(strip(a), strip(b), "thread counts must not change llama.cpp's CPU results");
        }
        assert.deepEqual([...seen].sort(), [1, 2], "the governed session decoded with both counts");
        assert.equal(fixed.threads, 2);
      } finally {
        governed.dispose();
        fixed.dispose();
      }
    });
  });
});
