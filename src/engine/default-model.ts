/** The model used when none is configured: the demo model shipped in the package. */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TempoInputError } from "./errors.js";

export const DEMO_MODEL_FILE = "tempo-demo-code.gguf";

/** Works from the source tree (src/engine) and from the bundle (dist/). */
export function defaultModelPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, "models", DEMO_MODEL_FILE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new TempoInputError(`no model given and the demo model models/${DEMO_MODEL_FILE} is missing; pass --model <file.gguf>`);
}
