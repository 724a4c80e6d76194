/**
 * The `tempo` command's entry. Run by a user, it is the supervisor (src/cli/supervisor.ts) and
 * starts itself again as the engine child, which runs the command (src/cli/program.ts).
 */
import { fileURLToPath } from "node:url";
import { becomeEngineChild, isEngineChild } from "./engine-child.js";
import { superviseEngineChild } from "./supervisor.js";

if (isEngineChild()) {
  becomeEngineChild();
  await import("./program.js");
} else {
  process.exitCode = await superviseEngineChild(fileURLToPath(import.meta.url));
}
