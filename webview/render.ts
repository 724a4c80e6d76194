// Small pure helpers shared by the webviews (and unit-tested in the extension host suite).

/** Five colour bins for a member's probability (CSS colours them; no inline styles under the CSP). */
export function probabilityBin(p: number): number {
  if (p >= 0.6) return 4;
  if (p >= 0.35) return 3;
  if (p >= 0.2) return 2;
  if (p >= 0.1) return 1;
  return 0;
}

// Tokens as every view shows them (special tokens by name and id, whitespace made visible).
export { visibleText, visibleToken } from "../src/protocol/token-display.js";

export function formatProb(p: number): string {
  return p >= 0.001 ? p.toFixed(3) : p.toExponential(1);
}
