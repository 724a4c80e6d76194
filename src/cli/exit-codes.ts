/**
 * The CLI's exit codes (docs: src/cli/exit.ts says which error gets which): its own module so
 * the supervisor (src/cli/supervisor.ts) can use them without loading the engine.
 */
export const EXIT = { ok: 0, internal: 1, usage: 2, cancelled: 130 } as const;
