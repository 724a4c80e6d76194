// Bundles the project with esbuild.
//   node scripts/build.mjs            extension (dist/extension.cjs), engine host (dist/engine-host.js)
//                                     and its divergence worker, webviews (dist/webview/),
//                                     CLI (dist/cli.js) when src/cli/main.ts exists
//   node scripts/build.mjs --tests    also the in-VS-Code test suite (out/test/vscode/)
//   --production                      minify, no source maps (used by `npm run package`)
import * as esbuild from "esbuild";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const production = args.has("--production");
const withTests = args.has("--tests");

// Native / ESM-only packages stay in node_modules: node-llama-cpp must find its prebuilt
// binaries next to it, and the extension loads it with a native dynamic import().
const nativeExternals = ["node-llama-cpp", "@node-llama-cpp/*", "koffi"];

const common = {
  absWorkingDir: root,
  bundle: true,
  logLevel: "warning",
  sourcemap: production ? false : "linked",
  minify: production,
  legalComments: production ? "none" : "inline",
};

const builds = [
  {
    ...common,
    entryPoints: ["src/extension/extension.ts"],
    outfile: "dist/extension.cjs",
    format: "cjs",
    platform: "node",
    target: "node20",
    external: ["vscode", ...nativeExternals],
  },
  {
    // The engine host child process (src/host): ESM so node-llama-cpp's ESM loads natively;
    // the banner gives bundled CommonJS dependencies (@stdlib) a real `require`.
    ...common,
    entryPoints: ["src/host/engine-host.ts"],
    outfile: "dist/engine-host.js",
    format: "esm",
    platform: "node",
    target: "node20",
    external: nativeExternals,
    banner: { js: 'import { createRequire as __tempoCreateRequire } from "node:module"; const require = __tempoCreateRequire(import.meta.url);' },
  },
  {
    // StepAnalysisPool's worker thread, started from the engine host and the CLI: both bundles
    // sit in dist/ and look for it beside themselves.
    ...common,
    entryPoints: ["src/engine/analysis/step-analysis-worker.ts"],
    outfile: "dist/step-analysis-worker.js",
    format: "esm",
    platform: "node",
    target: "node20",
  },
  {
    ...common,
    entryPoints: ["webview/playground.ts", "webview/comparison.ts", "webview/experiment.ts"],
    outdir: "dist/webview",
    format: "iife",
    platform: "browser",
    target: "es2022",
  },
];

const cliEntry = join(root, "src/cli/main.ts");
if (existsSync(cliEntry)) {
  builds.push({
    ...common,
    entryPoints: ["src/cli/main.ts"],
    outfile: "dist/cli.js",
    format: "esm",
    platform: "node",
    target: "node20",
    // The CLI ships with its npm dependencies, so only the project's own code is bundled.
    packages: "external",
    banner: { js: "#!/usr/bin/env node" },
  });
}

/** test/vscode files that start VS Code rather than run inside it. */
const HARNESSES = new Set(["run.ts", "run-desktop.ts"]);

if (withTests) {
  const testDir = join(root, "test/vscode");
  const entries = readdirSync(testDir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !HARNESSES.has(f))
    .map((f) => `test/vscode/${f}`);
  rmSync(join(root, "out/test/vscode"), { recursive: true, force: true });
  builds.push({
    ...common,
    sourcemap: "inline",
    minify: false,
    entryPoints: entries,
    outdir: "out/test/vscode",
    outExtension: { ".js": ".cjs" },
    format: "cjs",
    platform: "node",
    target: "node20",
    // mocha is loaded from node_modules by the in-host runner; vscode is the host's module.
    external: ["vscode", "mocha", ...nativeExternals],
  });
}

const started = performance.now();
await Promise.all(builds.map((b) => esbuild.build(b)));
// The built-in eval tasks, where the bundled engine (tasks.ts: ./tasks/builtin.jsonl beside the bundle) looks for them.
mkdirSync(join(root, "dist/tasks"), { recursive: true });
copyFileSync(join(root, "src/engine/eval/tasks/builtin.jsonl"), join(root, "dist/tasks/builtin.jsonl"));
if (existsSync(join(root, "dist/cli.js"))) chmodSync(join(root, "dist/cli.js"), 0o755);
console.log(`build: ${builds.length} bundles in ${Math.round(performance.now() - started)} ms${production ? " (production)" : ""}`);
