/**
 * Checks that the exported GGUF computes what torch computed: evaluates the reference
 * held-out tokens through llama.cpp (node-llama-cpp) and compares each next-token
 * log-probability and argmax with torch's. Exits non-zero on a mismatch.
 * Usage: tsx scripts/demo-model/verify.ts [--model FILE] [--weights DIR] [--tolerance NATS] [--write JSON]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEMO_MODEL_PATH, WEIGHTS_DIR } from "./common.js";
import { nextTokenNll } from "./llama-eval.js";

interface Reference { document: string; tokens: number[]; nll: number[]; argmax: number[] }

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    model: { type: "string", default: DEMO_MODEL_PATH },
    weights: { type: "string", default: WEIGHTS_DIR },
    // f16 matrices: per-token log-probabilities agree to a few hundredths of a nat
    tolerance: { type: "string", default: "0.05" },
    write: { type: "string" },
  } });
  const ref = JSON.parse(readFileSync(join(values.weights, "reference.json"), "utf8")) as Reference;
  const { nll, argmax } = await nextTokenNll(values.model, ref.tokens);
  let maxDiff = 0;
  let argmaxAgree = 0;
  for (let i = 0; i < ref.nll.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(nll[i] - ref.nll[i]));
    if (argmax[i] === ref.argmax[i]) argmaxAgree++;
  }
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  const report = {
    document: ref.document, tokens: ref.tokens.length, torchMeanNll: mean(ref.nll), llamaCppMeanNll: mean(nll),
    maxAbsNllDiff: maxDiff, argmaxAgreement: argmaxAgree / ref.nll.length,
  };
  console.log(`verify: ${JSON.stringify(report)}`);
  if (values.write) writeFileSync(values.write, JSON.stringify(report, null, 2) + "\n");
  if (maxDiff > Number(values.tolerance) || report.argmaxAgreement < 0.95) {
    console.error("verify: the GGUF does not reproduce torch's next-token distribution");
    process.exit(1);
  }
}

await main();
