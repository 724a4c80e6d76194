import { randomBytes } from "node:crypto";

/** A fresh CSP nonce for each page load (128 random bits). */
export function makeNonce(): string {
  return randomBytes(16).toString("base64");
}

export interface PageResources {
  /** webview.cspSource */
  cspSource: string;
  /** asWebviewUri(...) of the page's script and stylesheet */
  scriptUri: string;
  styleUri: string;
  nonce: string;
  title: string;
}

/**
 * Strict CSP: nothing by default; scripts only with this load's nonce; styles, fonts and images
 * only from the extension's own resources. Lit's component styles are constructable
 * stylesheets (adoptedStyleSheets), which style-src does not govern, so no 'unsafe-inline'.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join("; ");
}

const escapeAttr = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function playgroundHtml(r: PageResources): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(r.cspSource, r.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(r.styleUri)}">
<title>${escapeAttr(r.title)}</title>
</head>
<body>
<main>
  <h1>TEMPO Playground</h1>
  <vscode-label for="prompt">Prompt</vscode-label>
  <vscode-textarea id="prompt" rows="6" resize="vertical" placeholder="Write a prompt..."></vscode-textarea>
  <p id="status" role="status" aria-live="polite" data-state="loading">Loading...</p>
</main>
<script nonce="${escapeAttr(r.nonce)}" src="${escapeAttr(r.scriptUri)}"></script>
</body>
</html>`;
}
