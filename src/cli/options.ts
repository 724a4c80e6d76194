/**
 * Parsers for numeric options. They check the form (a finite number, a whole number); the
 * range of each setting is declared once, beside the engine code that relies on it
 * (resolveConfig, TempoSession, resolveEvalSettings), and checked there for every caller.
 */
import { InvalidArgumentError } from "commander";
import { TempoInputError } from "../engine/errors.js";
import { badShardText, parseShardText, type Shard } from "../protocol/shard.js";

export function number(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${value}"`);
    return n;
  };
}

/** A whole number in [min, max]; `max` bounds options that no engine check covers. */
export function wholeNumber(name: string, max = Number.MAX_SAFE_INTEGER, min = 0) {
  const range = max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : min > 0 ? ` of at least ${min}` : "";
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number${range}, got "${value}"`);
    return n;
  };
}

/**
 * `--shard i/N` (docs/scale.md). A bad value is a TempoInputError, not commander's
 * InvalidArgumentError, so that it is one `tempo:` line like every other refusal of a suite.
 */
export function shardOption(value: string): Shard {
  const shard = parseShardText(value);
  if (!shard) throw new TempoInputError(badShardText(value));
  return shard;
}
