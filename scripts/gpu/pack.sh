#!/usr/bin/env bash
# Packs what the GPU check needs for a machine with no network and a 64 MiB carry limit per
# call: node, the bundled check script, node-llama-cpp's runtime closure, and the CUDA
# backend library (xz-compressed, split into parts carried by consecutive calls).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.gpu; rm -rf "$out"; mkdir -p "$out/a" "$out/b" "$out/c" "$out/d"
npx esbuild bench/gpu-check.ts --bundle --platform=node --format=esm --target=node20 \
  --external:node-llama-cpp --external:koffi --outfile="$out/a/gpu-check.mjs" \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
cuda=node_modules/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda/libggml-cuda.so
tar -cJf "$out/a/modules.tar.xz" \
  --exclude='node_modules/@node-llama-cpp/linux-arm64' --exclude='node_modules/@node-llama-cpp/linux-armv7l' \
  --exclude='node_modules/@node-llama-cpp/linux-x64-cuda-ext' --exclude='node_modules/@node-llama-cpp/linux-x64-vulkan' \
  --exclude="$cuda" --exclude='node_modules/node-llama-cpp/llama/gitRelease.bundle' --exclude='node_modules/node-llama-cpp/llama/llama.cpp' \
  --exclude='node_modules/typescript' --exclude='node_modules/@esbuild' --exclude='node_modules/esbuild' --exclude='node_modules/playwright-core' \
  --exclude='node_modules/@stdlib' --exclude='node_modules/@vscode' --exclude='node_modules/@azure' --exclude='node_modules/vega*' \
  --exclude='node_modules/@typescript-eslint' --exclude='node_modules/@typespec' --exclude='node_modules/eslint*' --exclude='node_modules/@types' \
  --exclude='node_modules/azure-devops-node-api' --exclude='node_modules/mocha' --exclude='node_modules/tsx' --exclude='node_modules/zod' \
  --exclude='node_modules/@vscode-elements' --exclude='node_modules/lit*' --exclude='node_modules/d3*' \
  node_modules
xz -T2 -6 -c "$(command -v node)" > "$out/a/node.xz"
xz -T2 -6 -c "$cuda" > "$out/cuda.xz"
split -n 3 -d "$out/cuda.xz" "$out/cuda.part."
mv "$out/cuda.part.00" "$out/b/"; mv "$out/cuda.part.01" "$out/c/"; mv "$out/cuda.part.02" "$out/d/"; rm "$out/cuda.xz"
du -sh "$out"/*
