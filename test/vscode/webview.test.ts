// The playground page's security rules, checked where they are built (runs in the extension
// host with the other suites; the page itself is exercised in extension.test.ts and the e2e).
import * as assert from "node:assert/strict";
import { parseExtensionMessage, parseWebviewMessage } from "../../webview/protocol.js";
import { contentSecurityPolicy, makeNonce, playgroundHtml } from "../../src/extension/webviewHtml.js";

const CSP_SOURCE = "https://file+.vscode-resource.vscode-cdn.net";

describe("playground page security", () => {
  it("uses a fresh 128-bit nonce per page load", () => {
    const nonces = new Set(Array.from({ length: 100 }, makeNonce));
    assert.equal(nonces.size, 100);
    for (const n of nonces) assert.equal(Buffer.from(n, "base64").length, 16);
  });

  it("allows scripts only by nonce and nothing inline or remote", () => {
    const csp = contentSecurityPolicy(CSP_SOURCE, "abc123");
    const directives = new Map(csp.split(";").map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name, values] as const;
    }));
    assert.deepEqual(directives.get("default-src"), ["'none'"]);
    assert.deepEqual(directives.get("script-src"), ["'nonce-abc123'"]);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*|https?:\/\/(?!file\+)/);
  });

  it("puts the nonce on its one script and escapes what it interpolates", () => {
    const html = playgroundHtml({
      cspSource: CSP_SOURCE,
      scriptUri: `${CSP_SOURCE}/x/playground.js`,
      styleUri: `${CSP_SOURCE}/x/playground.css`,
      nonce: "n0nce",
      title: 'Evil "><img src=x onerror=alert(1)>',
    });
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0], /nonce="n0nce"/);
    assert.ok(!html.includes("<img"), "the title broke out of its element");
    assert.ok(html.includes("&lt;img src=x onerror=alert(1)&gt;"));
  });
});

describe("playground message validation", () => {
  it("accepts well-formed webview messages", () => {
    assert.deepEqual(parseWebviewMessage({ type: "ready", elements: ["vscode-label"], theme: "vscode-dark" }), {
      type: "ready",
      elements: ["vscode-label"],
      theme: "vscode-dark",
    });
    assert.deepEqual(parseWebviewMessage({ type: "cspViolation", directive: "script-src", blockedUri: "inline" }), {
      type: "cspViolation",
      directive: "script-src",
      blockedUri: "inline",
    });
  });

  it("drops malformed or unknown webview messages", () => {
    for (const bad of [
      null,
      "ready",
      42,
      {},
      { type: "run" },
      { type: "ready" },
      { type: "ready", elements: "vscode-label", theme: "x" },
      { type: "ready", elements: [1], theme: "x" },
      { type: "ready", elements: Array(300).fill("a"), theme: "x" },
      { type: "cspViolation", directive: 1, blockedUri: "x" },
    ]) {
      assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
    }
  });

  it("keeps only the known fields, bounded", () => {
    const msg = parseWebviewMessage({ type: "ready", elements: [], theme: "t".repeat(10_000), extra: "x" });
    assert.ok(msg && msg.type === "ready");
    assert.equal(msg.theme.length, 200);
    assert.ok(!("extra" in msg));
  });

  it("checks the extension's messages on the webview side too", () => {
    assert.deepEqual(parseExtensionMessage({ type: "init", extensionVersion: "0.1.0" }), { type: "init", extensionVersion: "0.1.0" });
    assert.equal(parseExtensionMessage({ type: "init" }), undefined);
    assert.equal(parseExtensionMessage({ type: "steps", extensionVersion: "0.1.0" }), undefined);
  });
});
