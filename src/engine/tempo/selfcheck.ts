/**
 * Exactness checks that run on ANY model: isolation equals separate runs, order does not
 * matter, causal members ignore later members, later tokens depend on every member, visible
 * differs from isolated. Each row reports max |logit difference| and a verdict against bounds
 * derived from a noise floor measured on the same model, backend and width (docs/tolerances.md):
 * nothing here is a tuned constant.
 */
import { TempoSession } from "../session.js";
import { TempoMode } from "../types.js";
import { softmax } from "./distribution.js";
import { topTokens } from "../math/top-k.js";

/** Relative spacing of float32 numbers (one ulp of 1): logits closer than that are one value. */
export const FLOAT32_EPSILON = 2 ** -23;
/**
 * Equalities may differ by twice the floor: the floor is the spread of ONE computation across
 * two layouts, and an equality row compares two computations, each as far from the exact value.
 */
export const EQUALITY_FACTOR = 2;
/** A real effect must be ten times the floor: an order of magnitude past any rounding seen. */
export const EFFECT_FACTOR = 10;

export type Verdict = "pass" | "FAIL" | "inconclusive";

export interface NoiseFloor {
  /** Max |Δlogit| of the same prefix+member decoded with and without one extra scratch row. */
  measured: number;
  /** FLOAT32_EPSILON × the largest |logit| seen: differences below it are not resolvable. */
  float32: number;
  /** The larger of the two: what the rows are judged against. Replaced when given explicitly. */
  used: number;
  source: "measured" | "given";
}

export interface SelfCheckRow {
  check: string;
  width: number;
  maxAbsDiff: number;
  /** "<=": an equality (must stay within `bound`); ">": a real effect (must exceed `bound`). */
  expect: "<=" | ">";
  bound: number;
  verdict: Verdict;
  /** Why a row is not a pass, in one phrase. */
  reason?: string;
}

export interface SelfCheckResult {
  width: number;
  noiseFloor: NoiseFloor;
  rows: SelfCheckRow[];
}

export interface SelfCheckOptions {
  prompt: number[];
  /** Members of the checked set (default 4; at most the session's lanes). */
  width?: number;
  /** Use this noise floor instead of measuring one (e.g. to compare backends on one scale). */
  noiseFloor?: number;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > m || Number.isNaN(d)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function maxAbsLogit(rows: readonly Float32Array[]): number {
  let m = 0;
  for (const row of rows) for (let i = 0; i < row.length; i++) m = Math.max(m, Math.abs(row[i]));
  return m;
}

/** An equality holds within EQUALITY_FACTOR × floor; beyond it the computations differ. */
export function judgeEquality(d: number, floor: number): Pick<SelfCheckRow, "expect" | "bound" | "verdict" | "reason"> {
  const bound = EQUALITY_FACTOR * floor;
  if (d <= bound) return { expect: "<=", bound, verdict: "pass" };
  return { expect: "<=", bound, verdict: "FAIL", reason: `differs by ${(d / floor).toPrecision(3)}× the noise floor` };
}

/**
 * An effect is shown when it exceeds EFFECT_FACTOR × floor. Bit-identical logits (0) prove the
 * input never reached the computation: a failure. In between, a weak effect cannot be told
 * from rounding: inconclusive, never a failure.
 */
export function judgeEffect(d: number, floor: number): Pick<SelfCheckRow, "expect" | "bound" | "verdict" | "reason"> {
  const bound = EFFECT_FACTOR * floor;
  if (d > bound) return { expect: ">", bound, verdict: "pass" };
  if (d === 0) return { expect: ">", bound, verdict: "FAIL", reason: "bit-identical logits: the input had no effect at all" };
  return { expect: ">", bound, verdict: "inconclusive", reason: `effect only ${(d / floor).toPrecision(3)}× the noise floor: too weak to tell from rounding` };
}

export function runSelfCheck(session: TempoSession, options: SelfCheckOptions): SelfCheckResult {
  const width = Math.min(options.width ?? 4, session.lanes);
  const prompt = options.prompt;

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

  // The noise floor, as the null baseline of `tempo compare` measures it: the same prefix +
  // member with one more (invisible) row in the batch. Only the layout changes, so whatever
  // differs is rounding of this model on this backend at this width.
  const nullLayout = set.map((t, j) => alone(t, j, width + 1));
  const measured = Math.max(...set.map((_, j) => maxAbsDiff(separate[j], nullLayout[j])));
  const float32 = FLOAT32_EPSILON * maxAbsLogit([...isolated, ...separate]);
  const floor = options.noiseFloor ?? Math.max(measured, float32);
  const noiseFloor: NoiseFloor = { measured, float32, used: floor, source: options.noiseFloor === undefined ? "measured" : "given" };

  const rows: SelfCheckRow[] = [];
  const equal = (check: string, d: number) => rows.push({ check, width, maxAbsDiff: d, ...judgeEquality(d, floor) });
  const differs = (check: string, d: number) => rows.push({ check, width, maxAbsDiff: d, ...judgeEffect(d, floor) });

  equal(`isolated member = separate prefix+member run (M=${width})`, Math.max(...set.map((_, j) => maxAbsDiff(isolated[j], separate[j]))));

  // Reversed order: member j now sits at row width-1-j; its reference run sits there too.
  const reversed = decodeAfterPrompt([...set].reverse(), "isolated").reverse();
  const separateReversed = set.map((t, j) => alone(t, width - 1 - j, width));
  equal("isolated, reversed order = separate runs (order does not matter)", Math.max(...set.map((_, j) => maxAbsDiff(reversed[j], separateReversed[j]))));

  const visible = decodeAfterPrompt(set, "visible");
  differs("visible differs from isolated", Math.max(...set.map((_, j) => maxAbsDiff(isolated[j], visible[j]))));

  const causal = decodeAfterPrompt(set, "causal");
  equal("causal first member = isolated first member", maxAbsDiff(causal[0], isolated[0]));
  // Without the last member, padded by an invisible scratch row to the same batch shape: K-quant
  // kernels round a 3-row batch unlike a 4-row one, and the row tests visibility, not layout.
  fresh();
  const causalPrefix = session.decodeSet(set.slice(0, width - 1), "causal", 0, { scratch: { after: 1 } });
  equal("causal members ignore later members", Math.max(...causalPrefix.map((l, j) => maxAbsDiff(l, causal[j]))));

  // A later token must see every member: dropping any one member changes its logits. The
  // dropped member's row becomes a scratch row, so the batch and the cell count stay the same
  // and only what the later token can see differs.
  const follow = topTokens(softmax(isolated[0], 1), 1)[0];
  const nextWith = (members: number[]) => {
    fresh();
    session.decodeSet(members, "isolated", 0, { scratch: { after: width - members.length } });
    return session.decodeSet([follow], "isolated", 1)[0];
  };
  const full = nextWith(set);
  differs("later token depends on every member (min over dropped member)", Math.min(...set.map((_, k) => maxAbsDiff(full, nextWith(set.filter((__, j) => j !== k))))));
  session.reset();
  return { width, noiseFloor, rows };
}

/** The verdict of several results: FAIL if any row failed, else inconclusive if any was, else pass. */
export function overallVerdict(results: readonly SelfCheckResult[]): Verdict {
  const verdicts = results.flatMap((r) => r.rows.map((row) => row.verdict));
  if (verdicts.includes("FAIL")) return "FAIL";
  return verdicts.includes("inconclusive") ? "inconclusive" : "pass";
}
