/**
 * Exactness checks that run on ANY model: isolation equals separate runs, order does not
 * matter, causal members ignore later members, later tokens depend on every member, visible
 * differs from isolated. Each reports max |logit difference| against its tolerance.
 */
import { TempoSession } from "../session.js";
import { TempoMode } from "../types.js";
import { softmax } from "./distribution.js";
import { topTokens } from "../math/top-k.js";

export interface SelfCheckRow {
  check: string;
  maxAbsDiff: number;
  /** "<=" : must be at most tolerance (equality); ">" : must exceed it (a real effect). */
  expect: "<=" | ">";
  tolerance: number;
  pass: boolean;
}

export interface SelfCheckOptions { prompt: number[]; width?: number; tolerance?: number }

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > m || Number.isNaN(d)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function runSelfCheck(session: TempoSession, options: SelfCheckOptions): SelfCheckRow[] {
  const tol = options.tolerance ?? 1e-3;
  const width = Math.min(options.width ?? 4, session.lanes);
  const prompt = options.prompt;
  const rows: SelfCheckRow[] = [];
  const equal = (check: string, d: number) => rows.push({ check, maxAbsDiff: d, expect: "<=", tolerance: tol, pass: d <= tol });
  const differs = (check: string, d: number) => rows.push({ check, maxAbsDiff: d, expect: ">", tolerance: tol, pass: d > tol });

  const fresh = () => { session.reset(); return session.decodeSequence(prompt); };
  const decodeAfterPrompt = (set: number[], mode: TempoMode) => { fresh(); return session.decodeSet(set, mode, 0); };
  /**
   * prefix + one member, decoded at row `row` of a batch of `rows` rows (the rest are scratch
   * rows nobody sees): the same batch shape and row position as inside the set, so kernels
   * whose rounding depends on those (e.g. f16 weights) round alike and only visibility differs.
   */
  const alone = (token: number, row: number, rows: number) => {
    fresh();
    return session.decodeSet([token], "isolated", 0, { scratch: { before: row, after: rows - row - 1 } })[0];
  };

  // The set: the model's own top candidates after the prompt (real, plausible tokens).
  const set = topTokens(softmax(fresh(), 1), width);
  const isolated = decodeAfterPrompt(set, "isolated");
  const separate = set.map((t, j) => alone(t, j, width));
  equal(`isolated member = separate prefix+member run (M=${width})`, Math.max(...set.map((_, j) => maxAbsDiff(isolated[j], separate[j]))));

  // Reversed order: member j now sits at row width-1-j; its reference run sits there too.
  const reversed = decodeAfterPrompt([...set].reverse(), "isolated").reverse();
  const separateReversed = set.map((t, j) => alone(t, width - 1 - j, width));
  equal("isolated, reversed order = separate runs (order does not matter)", Math.max(...set.map((_, j) => maxAbsDiff(reversed[j], separateReversed[j]))));

  const visible = decodeAfterPrompt(set, "visible");
  differs("visible differs from isolated", Math.max(...set.map((_, j) => maxAbsDiff(isolated[j], visible[j]))));

  const causal = decodeAfterPrompt(set, "causal");
  equal("causal first member = isolated first member", maxAbsDiff(causal[0], isolated[0]));
  const causalPrefix = decodeAfterPrompt(set.slice(0, width - 1), "causal");
  equal("causal members ignore later members", Math.max(...causalPrefix.map((l, j) => maxAbsDiff(l, causal[j]))));

  // A later token must see every member: dropping any one member changes its logits.
  const follow = topTokens(softmax(isolated[0], 1), 1)[0];
  const nextWith = (members: number[]) => { decodeAfterPrompt(members, "isolated"); return session.decodeSet([follow], "isolated", 1)[0]; };
  const full = nextWith(set);
  differs("later token depends on every member (min over dropped member)", Math.min(...set.map((_, k) => maxAbsDiff(full, nextWith(set.filter((__, j) => j !== k))))));
  session.reset();
  return rows;
}
