/**
 * How every view shows a token (playground, comparison view, reports, CLI): one function, so a
 * token looks the same everywhere. Pure: the webviews import it too.
 * - special (control) tokens have no text: shown by name and id, `<s> #1`;
 * - a token with neither text nor name: `∅ #id`;
 * - newline ↵, tab ⇥, carriage return ␍, other control characters as their Unicode control
 *   pictures (␀ ␁ … ␡), and spaces at either end as `·`, so no chip or cell is blank.
 */

export interface DisplayToken {
  token: number;
  /** The token's text (empty for special tokens). */
  text: string;
  /** Name of a special token that has no text, e.g. `<s>` or `<|im_end|>`. */
  special?: string;
}

/** Text with whitespace and control characters made visible. */
export function visibleText(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    .replace(/[\u0000-\u001f\u007f]/g, (c) => {
      const code = c.charCodeAt(0);
      if (c === "\n") return "↵";
      if (c === "\t") return "⇥";
      return String.fromCharCode(code === 0x7f ? 0x2421 : 0x2400 + code);
    })
    .replace(/^ +| +$/g, (m) => "·".repeat(m.length));
}

export function visibleToken(t: DisplayToken): string {
  if (t.special !== undefined) return `${t.special} #${t.token}`;
  if (t.text === "") return `∅ #${t.token}`;
  return visibleText(t.text);
}

/** Between members of a set written on one line: a character code rarely contains (not `|`). */
export const MEMBER_SEPARATOR = " ¦ ";
/** A set inline in text (the CLI): ⟦a¦b¦c⟧. */
export const SET_OPEN = "⟦", SET_SEPARATOR = "¦", SET_CLOSE = "⟧";

export function visibleSet(members: readonly DisplayToken[]): string {
  return members.map(visibleToken).join(MEMBER_SEPARATOR);
}
