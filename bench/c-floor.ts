/**
 * The C floor row of the engine benchmark: bench/c-floor/greedy.c, compiled against the
 * llama.h of exactly the llama.cpp that node-llama-cpp ships (its source is the git bundle in
 * node_modules/node-llama-cpp/llama/), linked to the libllama the engine loaded, and called in
 * this process on the engine session's own context.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import koffi from "koffi";
import type { Pointer } from "../src/engine/llama/c-api.js";

const here = dirname(fileURLToPath(import.meta.url));
const cache = join(here, "..", ".cache", "c-floor");

/** Path of the compiled greedy loop (a shared library) for the libllama at `libllamaPath`, built once per source change. */
function buildCFloor(libllamaPath: string): string {
  const source = join(here, "c-floor", "greedy.c");
  const library = join(cache, "libtempo-c-floor.so");
  if (existsSync(library) && statSync(library).mtimeMs > statSync(source).mtimeMs) return library;
  const headers = join(cache, "llama.cpp");
  if (!existsSync(join(headers, "include", "llama.h"))) {
    // Its "exports" hide package.json: walk up from the entry point to the package folder.
    let nlc = dirname(createRequire(import.meta.url).resolve("node-llama-cpp"));
    while (!existsSync(join(nlc, "package.json"))) nlc = dirname(nlc);
    mkdirSync(cache, { recursive: true });
    execFileSync("git", ["clone", "--quiet", "--no-checkout", join(nlc, "llama", "gitRelease.bundle"), headers]);
    execFileSync("git", ["-C", headers, "checkout", "--quiet", "HEAD", "--", "include", "ggml/include"]);
  }
  const bins = dirname(libllamaPath);
  const lib = (pattern: RegExp) => `-l:${readdirSync(bins).find((f) => pattern.test(f))}`;
  execFileSync("cc", [
    "-O2", "-shared", "-fPIC", "-o", library, source, `-I${join(headers, "include")}`, `-I${join(headers, "ggml", "include")}`,
    `-L${bins}`, lib(/^libllama(\.[a-z]+)?\.v[\d.]+\.so$/), `-Wl,-rpath,${bins}`,
  ]);
  return library;
}

/** A greedy run of the C loop on `ctx`: the times (ms) each token's decode returned. */
export type CFloorRun = (ctx: Pointer, promptTokens: readonly number[], steps: number) => number[];

/** Builds (once) and loads the C loop for the libllama at `libllamaPath`. */
export function loadCFloor(libllamaPath: string): CFloorRun {
  const run = koffi.load(buildCFloor(libllamaPath)).func("int tempo_c_floor(void *ctx, int32_t *prompt, int n_prompt, int steps, double *stamps)");
  return (ctx, promptTokens, steps) => {
    const stamps = new Float64Array(steps);
    const rc = run(ctx, Int32Array.from(promptTokens), promptTokens.length, steps, stamps) as number;
    if (rc !== 0) throw new Error(`the C floor's llama_decode failed with code ${rc}`);
    return Array.from(stamps);
  };
}
