/**
 * The noise floor behind the GPU self-check: how much a member's logits move when only the
 * CONTENT of the other rows of its batch changes (siblings permuted, the member kept at its
 * row), and whether a repeated decode is bitwise identical. If permuting invisible siblings
 * moves logits as much as "isolated vs separate run" does, that gap is kernel rounding that
 * depends on the whole batch, not information flowing between siblings.
 */
import { BENCH_SHAPE, seededModelPath, TINY_GQA_SHAPE, TINY_SHAPE } from "../test/fixtures/seeded-model.js";
import { TempoModel } from "../src/engine/model.js";
import { TempoSession, FlashAttention } from "../src/engine/session.js";
import { maxAbsDiff } from "../src/engine/tempo/selfcheck.js";
import { softmax } from "../src/engine/tempo/distribution.js";
import { topIndices } from "../src/engine/math/distribution.js";

console.log("| model | flash attention | repeat (same batch) | siblings permuted, member row kept | isolated vs visible |\n| --- | --- | ---: | ---: | ---: |");
for (const [name, shape] of [["tiny MHA f32", TINY_SHAPE], ["tiny GQA 8:2 f32", TINY_GQA_SHAPE], ["bench 32k f16", BENCH_SHAPE]] as const) {
  const model = await TempoModel.open(seededModelPath(shape));
  for (const fa of ["off", "on"] as FlashAttention[]) {
    const s = new TempoSession(model, { contextSize: 1024, lanes: 8, flashAttention: fa });
    const prompt = model.promptTokens("function add(a, b) { return");
    const decode = (set: number[], mode: "isolated" | "visible") => { s.reset(); s.decodeSequence(prompt); return s.decodeSet(set, mode, 0); };
    s.reset();
    const set = Array.from(topIndices(softmax(s.decodeSequence(prompt), 1), 8));
    const a = decode(set, "isolated"), b = decode(set, "isolated");
    const permuted = [set[0], ...set.slice(1).reverse()];
    const c = decode(permuted, "isolated"), v = decode(set, "visible");
    console.log(`| ${name} | ${fa} | ${maxAbsDiff(a[0], b[0]).toExponential(3)} | ${maxAbsDiff(a[0], c[0]).toExponential(3)} | ${maxAbsDiff(a[0], v[0]).toExponential(3)} |`);
    s.dispose();
  }
  await model.dispose();
}
