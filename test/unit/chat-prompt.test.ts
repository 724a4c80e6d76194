// Chat prompts (src/engine/chat-prompt.ts): the GGUF's own template when it has one, node-llama-cpp's
// generic GeneralChatWrapper otherwise, and the reply prefix of "collapse and continue".
import * as assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasChatTemplate, renderChatPrompt } from "../../src/engine/chat-prompt.js";
import { defaultModelPath } from "../../src/engine/default-model.js";
import { TempoModel } from "../../src/engine/model.js";
import { TempoInputError } from "../../src/engine/errors.js";
import { GgufValueType } from "../../src/gguf/writer.js";
import { TINY_SHAPE, writeSeededModel } from "../fixtures/seeded-model.js";

// A ChatML template, written the way instruct models ship it.
const CHATML =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

describe("chat prompts", function () {
  this.timeout(120_000);
  let dir: string;
  let plain: TempoModel;
  let templated: TempoModel;
  let broken: TempoModel;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tempo-chat-"));
    const path = join(dir, "chatml.gguf");
    writeSeededModel(path, TINY_SHAPE, undefined, { "tokenizer.chat_template": { type: GgufValueType.STRING, value: CHATML } });
    const brokenPath = join(dir, "broken.gguf");
    writeSeededModel(brokenPath, TINY_SHAPE, undefined, { "tokenizer.chat_template": { type: GgufValueType.STRING, value: "{% for message in messages %}{{ message['content'] " } });
    plain = await TempoModel.open(defaultModelPath(), { gpu: "cpu" });
    templated = await TempoModel.open(path, { gpu: "cpu" });
    broken = await TempoModel.open(brokenPath, { gpu: "cpu" });
  });
  after(async () => {
    await plain?.dispose();
    await templated?.dispose();
    await broken?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("uses the GGUF's chat template when it has one", async () => {
    assert.equal(hasChatTemplate(templated), true);
    const chat = await renderChatPrompt(templated, "hello there");
    assert.equal(chat.fromTemplate, true);
    assert.equal(chat.wrapper, "ChatML");
    // The tiny vocabulary has no ChatML control tokens: they are tokenized as text, each segment
    // on its own, so SPM's word-start marker shows as a space before them.
    assert.match(chat.text, /<\|im_start\|>user\nhello there ?<\|im_end\|>\n<\|im_start\|>assistant\n$/);
    assert.ok(chat.stopStrings.includes("<|im_end|>"), chat.stopStrings.join(" | "));
  });

  it("falls back to the generic General format for a GGUF without a template, and says so", async () => {
    assert.equal(hasChatTemplate(plain), false);
    const chat = await renderChatPrompt(plain, "def add(a, b):");
    assert.equal(chat.fromTemplate, false);
    assert.equal(chat.wrapper, "General");
    assert.match(chat.text, /### Human\n ?def add\(a, b\):/);
    assert.match(chat.text, /### Assistant\n$/);
    assert.equal(chat.tokens[0], plain.info.bos, "the format places BOS itself, once");
    assert.equal(chat.tokens.filter((t) => t === plain.info.bos).length, 1);
    assert.ok(chat.stopStrings.some((s) => s.includes("### Human")), chat.stopStrings.join(" | "));
  });

  it("reports a template that does not render and uses the generic format instead of a guess", async () => {
    const errors: string[] = [];
    const chat = await renderChatPrompt(broken, "hello", "", (m) => errors.push(m));
    assert.equal(errors.length, 1);
    assert.equal(chat.fromTemplate, false);
    assert.equal(chat.wrapper, "General");
  });

  it("continues an open reply from a prefix", async () => {
    const open = await renderChatPrompt(plain, "def add(a, b):");
    const continued = await renderChatPrompt(plain, "def add(a, b):", "return a");
    assert.match(continued.text, /### Assistant\n ?return a$/);
    assert.deepEqual(continued.tokens.slice(0, open.tokens.length), open.tokens, "the prefix only appends");
  });

  it("refuses an empty prompt with a clear message", async () => {
    await assert.rejects(renderChatPrompt(plain, ""), (e: Error) => e instanceof TempoInputError && /empty/.test(e.message));
  });
});
