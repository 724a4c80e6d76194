#!/usr/bin/env bash
# Prints the "Sample completions" of docs/demo-model.md as markdown: the tempo CLI on the
# shipped demo model (its default model), standard and isolated modes, CLI defaults otherwise.
# Usage: bash training/samples.sh > /tmp/samples.md
set -euo pipefail
cd "$(dirname "$0")/.."
# No trailing space: llama.cpp's SPM pieces carry the space before a word ("▁name"), so a
# prompt ending in a bare space leaves the model an unusual lone "▁" token.
prompts=(
  'export function parseArgs(argv: string[]):'
  $'declare module "fs" {\n    export function'
  $'function isString(value) {\n\treturn'
)
for p in "${prompts[@]}"; do
  for mode in standard isolated; do
    cmd="npx tsx src/cli/main.ts generate --prompt $(printf '%q' "$p") --mode $mode --max-steps 32"
    echo '```console'
    echo "\$ $cmd"
    eval "$cmd" 2>&1
    echo '```'
    echo
  done
done
