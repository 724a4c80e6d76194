/**
 * The engine's error kinds, in a module of their own: every layer throws them, and the CLI and
 * the engine host tell a user's mistake from a bug by them (src/cli/exit.ts).
 */

/** A user-facing error: bad input, not a bug. Its message is shown as is. */
export class TempoInputError extends Error {}

/** Thrown when the KV cache has no room for the next tokens. */
export class ContextFullError extends Error {}
