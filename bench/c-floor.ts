/**
 * The C floor row of the engine benchmark: bench/c-floor/greedy.c, compiled against the
 * llama.h of exactly the llama.cpp that node-llama-cpp ships (its source is the git bundle in
 * node_modules/node-llama-cpp/llama/) and linked to the libllama the engine loaded.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const cache = join(here, "..", ".cache", "c-floor");

/** Path of the compiled greedy loop for the libllama at `libllamaPath` (built once per source change). */
export function buildCFloor(libllamaPath: string): string {
  const source = join(here, "c-floor", "greedy.c");
  const binary = join(cache, "greedy");
  if (existsSync(binary) && statSync(binary).mtimeMs > statSync(source).mtimeMs) return binary;
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
    "-O2", "-o", binary, source, `-I${join(headers, "include")}`, `-I${join(headers, "ggml", "include")}`,
    `-L${bins}`, lib(/^libllama(\.[a-z]+)?\.v[\d.]+\.so$/), lib(/^libggml(\.[a-z]+)?\.v[\d.]+\.so$/), "-l:libggml-base.so", `-Wl,-rpath,${bins}`,
  ]);
  return binary;
}

export interface CFloorRun {
  modelPath: string; libllamaPath: string; steps: number; threads: number; contextSize: number;
  batchSize: number; seqMax: number; flashAttention: boolean; gpuLayers: number; promptTokens: readonly number[];
}

/** One run of the C loop: the median interval between generated tokens, as tokens/s. */
export function runCFloor(binary: string, r: CFloorRun): number {
  const out = execFileSync(binary, [
    r.modelPath, dirname(r.libllamaPath), String(r.steps), String(r.threads), String(r.contextSize), String(r.batchSize),
    String(r.seqMax), r.flashAttention ? "1" : "0", String(r.gpuLayers), r.promptTokens.join(","),
  ], { encoding: "utf8" });
  return Number(out.trim());
}
