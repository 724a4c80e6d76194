import assert from "node:assert/strict";
import { seededModelPath, TINY_SHAPE } from "../fixtures/seeded-model.js";
import { TempoModel } from "../../src/engine/model.js";
import { MEMBER_SEPARATOR, visibleSet, visibleText, visibleToken } from "../../src/protocol/token-display.js";
import { codeToken } from "../../webview/render.js";

describe("token display (one function for every view)", () => {
  it("names special tokens with their id and marks tokens with neither text nor name", () => {
    assert.equal(visibleToken({ token: 1, text: "", special: "<s>" }), "<s> #1");
    assert.equal(visibleToken({ token: 7, text: "" }), "∅ #7");
    assert.equal(visibleToken({ token: 9, text: "ab" }), "ab");
  });
  it("reads the primary path as code: the first member's own text, sets marked, whitespace kept", () => {
    const tok = (text: string, token = 5, special?: string) => ({ token, text, ...(special ? { special } : {}) });
    assert.deepEqual(codeToken({ candidates: [tok("    return")] }), { text: "    return", set: false, blank: false });
    assert.deepEqual(codeToken({ candidates: [tok(" fib"), tok(" f"), tok("x")] }), { text: " fib", set: true, blank: false }, "a set shows its first member only");
    assert.deepEqual(codeToken({ candidates: [tok("\n\t"), tok(" ")] }), { text: "\n\t", set: true, blank: true }, "newlines and tabs are the code's layout");
    assert.deepEqual(codeToken({ candidates: [tok("", 1, "<s>"), tok("a")] }), { text: "<s> #1", set: true, blank: false });
    assert.equal(codeToken({ candidates: [tok("a\u001bb\r")] }).text, "a␛b␍", "other control characters show as pictures");
  });
  it("makes whitespace and control characters visible, never a blank chip", () => {
    assert.equal(visibleText("\n"), "↵");
    assert.equal(visibleText("\t"), "⇥");
    assert.equal(visibleText("\r"), "␍");
    assert.equal(visibleText("\u0000\u001b\u007f"), "␀␛␡");
    assert.equal(visibleText("  x y "), "··x y·");
    assert.equal(visibleText(" "), "·");
  });
  it("joins members with a separator code rarely contains, so a `|` member stays readable", () => {
    assert.ok(!MEMBER_SEPARATOR.includes("|"));
    assert.equal(visibleSet([{ token: 5, text: "|" }, { token: 1, text: "", special: "<s>" }, { token: 6, text: " " }]), "| ¦ <s> #1 ¦ ·");
  });
});

describe("special tokens from the model", () => {
  let model: TempoModel;
  before(async () => { model = await TempoModel.open(seededModelPath(TINY_SHAPE)); });
  after(async () => { await model.dispose(); });

  it("BOS and EOS are special, with llama.cpp's own names; text tokens are not", () => {
    assert.equal(model.tokenText(model.info.bos), "", "a control token has no text");
    assert.deepEqual(model.tokenView(model.info.bos), { text: "", special: "<s>" });
    assert.deepEqual(model.tokenView(2), { text: "", special: "</s>" });
    const word = model.promptTokens("the").at(-1)!;
    assert.equal(model.specialName(word), undefined);
    assert.deepEqual(model.tokenView(word), { text: model.tokenText(word) });
  });
});
