import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** name and version of the package a file belongs to: the nearest package.json above it. */
export function packageOf(file: string): { name: string; version: string } {
  let dir = dirname(file);
  while (!existsSync(join(dir, "package.json"))) {
    if (dirname(dir) === dir) throw new Error(`no package.json above ${file}`);
    dir = dirname(dir);
  }
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string; version: string };
}
