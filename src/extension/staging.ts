// Staged folders in the extension's global storage (run captures, experiment results): written
// by the engine host, exported on request, and pruned so they do not pile up.
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/** Keeps the newest `kept` folders of `root` (names sort by time) and `current`; removes the rest. */
export function pruneStaged(root: string, kept: number, current: string | undefined): void {
  try {
    const dirs = readdirSync(root).sort();
    for (const d of dirs.slice(0, Math.max(0, dirs.length - kept))) {
      if (join(root, d) !== current) rmSync(join(root, d), { recursive: true, force: true });
    }
  } catch {
    // Nothing staged yet.
  }
}
