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
import { visibleText, visibleToken, type DisplayToken } from "../src/protocol/token-display.js";
export { visibleText, visibleToken };

export function formatProb(p: number): string {
  return p >= 0.001 ? p.toFixed(3) : p.toExponential(1);
}

/** A step as "primary path as code" reads it: see codeToken. */
export interface CodeToken {
  /** The first member's own text: whitespace kept, other control characters as pictures, a special token by name and id. */
  text: string;
  /** A parallel set: marked in the code, its members in the hover. */
  set: boolean;
  /** Only whitespace (a mark on it would not show, so CSS gives it a visible one). */
  blank: boolean;
}

export function codeToken(step: { candidates: readonly DisplayToken[] }): CodeToken {
  const c = step.candidates[0];
  const text = c.special !== undefined || c.text === ""
    ? visibleToken(c)
    // Newlines and tabs are the code's layout; any other control character would be invisible.
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    : c.text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, visibleText);
  return { text, set: step.candidates.length > 1, blank: text.trim() === "" };
}
