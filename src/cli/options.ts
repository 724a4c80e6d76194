/**
 * Parsers for numeric options. They check the form (a finite number, a whole number); the
 * range of each setting is declared once, beside the engine code that relies on it
 * (resolveConfig, TempoSession, resolveEvalSettings), and checked there for every caller.
 */
import { InvalidArgumentError } from "commander";

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
