#!/usr/bin/env bash
# Packs the GPU check for an offline CUDA machine (64 MiB carried per call) into .gpu/:
#   .gpu/a  node, node-llama-cpp's runtime closure (without its CUDA backend), the bundled
#           bench/gpu-check.ts, bench/gpu-null.ts and bench/analysis.bench.ts (CPU-only: the
#           divergence timings on that machine's cores) with its worker
#   .gpu/f  the ggml source node-llama-cpp 3.21.1 ships, and build-cuda.sh
# node-llama-cpp's prebuilt CUDA 13 backend has no Hopper (sm_90) code and its PTX is newer
# than a CUDA 13.0 driver JITs, so the device builds libggml-cuda.so for its own GPU from the
# same source (3 minutes on 16 cores). See docs/gpu.md for the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.gpu; rm -rf "$out"; mkdir -p "$out/a" "$out/f"
bundle() {
  npx esbuild "bench/$1.ts" --bundle --platform=node --format=esm --target=node20 \
    --external:node-llama-cpp --external:koffi --outfile="$out/a/$1.mjs" \
    --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
}
bundle gpu-check; bundle gpu-null; bundle analysis.bench
# The analysis bench's worker threads load this beside it.
npx esbuild src/engine/analysis/step-analysis-worker.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile="$out/a/step-analysis-worker.js"
tar -cJf "$out/a/modules.tar.xz" \
  --exclude='node_modules/@node-llama-cpp/linux-arm64' --exclude='node_modules/@node-llama-cpp/linux-armv7l' \
  --exclude='node_modules/@node-llama-cpp/linux-x64-cuda-ext' --exclude='node_modules/@node-llama-cpp/linux-x64-vulkan' \
  --exclude='node_modules/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda/libggml-cuda.so' \
  --exclude='node_modules/node-llama-cpp/llama/gitRelease.bundle' --exclude='node_modules/node-llama-cpp/llama/llama.cpp' \
  --exclude='node_modules/typescript' --exclude='node_modules/@esbuild' --exclude='node_modules/esbuild' --exclude='node_modules/playwright-core' \
  --exclude='node_modules/@stdlib' --exclude='node_modules/@vscode' --exclude='node_modules/@azure' --exclude='node_modules/vega*' \
  --exclude='node_modules/@typescript-eslint' --exclude='node_modules/@typespec' --exclude='node_modules/eslint*' --exclude='node_modules/@types' \
  --exclude='node_modules/azure-devops-node-api' --exclude='node_modules/mocha' --exclude='node_modules/tsx' --exclude='node_modules/zod' \
  --exclude='node_modules/@vscode-elements' --exclude='node_modules/lit*' --exclude='node_modules/d3*' \
  node_modules
xz -T2 -6 -c "$(command -v node)" > "$out/a/node.xz"
src=$(mktemp -d); trap 'rm -rf "$src"' EXIT
git clone -q node_modules/node-llama-cpp/llama/gitRelease.bundle "$src/llama.cpp" 2>/dev/null
# ggml's CMakeLists configures ggml.pc from a template the bundled snapshot leaves out.
touch "$src/llama.cpp/ggml/ggml.pc.in"
tar -C "$src/llama.cpp" -cJf "$out/f/ggml.tar.xz" \
  --exclude='ggml/src/ggml-vulkan' --exclude='ggml/src/ggml-sycl' --exclude='ggml/src/ggml-metal' \
  --exclude='ggml/src/ggml-opencl' --exclude='ggml/src/ggml-cann' --exclude='ggml/src/ggml-musa' --exclude='ggml/src/ggml-webgpu' \
  ggml
cp scripts/gpu/build-cuda.sh "$out/f/"
du -sh "$out"/*
