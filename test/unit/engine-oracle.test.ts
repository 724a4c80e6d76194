import assert from "node:assert/strict";
import { seededModelPath, TINY_SHAPE, TINY_GQA_SHAPE } from "../fixtures/seeded-model.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoSession } from "../../src/engine/session.js";
import { resolveConfig } from "../../src/engine/tempo/config.js";
import { runGeneration } from "../../src/engine/tempo/generate.js";

/** node-llama-cpp's own greedy decoding: an independent client of the same model file. */
async function nodeLlamaCppGreedy(model: TempoModel, promptTokens: number[], n: number): Promise<number[]> {
  const nlcModel = await model.runtime.llama.loadModel({ modelPath: model.info.path });
  const context = await nlcModel.createContext({ contextSize: 512 });
  try {
    const out: number[] = [];
    for await (const token of context.getSequence().evaluate(promptTokens as never, { temperature: 0 })) {
      out.push(token as number);
      if (out.length === n) break;
    }
    return out;
  } finally {
    await context.dispose();
    await nlcModel.dispose();
  }
}

describe("standard mode against node-llama-cpp (oracle)", () => {
  for (const shape of [TINY_SHAPE, TINY_GQA_SHAPE]) {
    it(`reproduces node-llama-cpp's greedy generation token for token (seed ${shape.seed})`, async () => {
      const model = await TempoModel.open(seededModelPath(shape));
      const session = new TempoSession(model, { contextSize: 512, lanes: 4 });
      try {
        const promptTokens = model.promptTokens("the value of function");
        const ours = await runGeneration(session, { promptTokens, config: resolveConfig({ mode: "standard", maxSteps: 40 }) });
        const oursTokens = ours.steps.map((s) => s.candidates[0].token);
        const oracle = await nodeLlamaCppGreedy(model, promptTokens, oursTokens.length);
        assert.ok(oursTokens.length >= 10, "run too short to compare");
        assert.deepEqual(oursTokens, oracle);
      } finally {
        session.dispose();
        await model.dispose();
      }
    });
  }
});
