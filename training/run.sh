#!/usr/bin/env bash
# Builds the shipped demo model end to end: corpus -> tokenizer -> llama.cpp tokenization ->
# training -> GGUF export -> torch-vs-llama.cpp check -> report figures.
# Usage: npm run train:demo   (or: bash training/run.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-/usr/bin/python3}  # Debian's interpreter: python3-torch is installed for it, not for pyenv's
CACHE=.cache/demo-model
if [ ! -x "$PY" ] || ! "$PY" -c "import torch, numpy, sentencepiece, matplotlib" 2>/dev/null; then
  echo "train:demo needs Debian's Python packages for $PY: $(tr '\n' ' ' < scripts/apt-packages-training.txt)" >&2
  echo "Install them with: apt-get update && apt-get install -y \$(cat scripts/apt-packages-training.txt)" >&2
  exit 1
fi
if [ ! -d node_modules/typescript ] || [ ! -d node_modules/node-llama-cpp ]; then
  echo "train:demo reads its corpus from node_modules: run npm ci first" >&2
  exit 1
fi
mkdir -p "$CACHE"

"$PY" training/build_corpus.py --out "$CACHE/corpus" --manifest training/corpus-manifest.json
"$PY" training/train_tokenizer.py --corpus "$CACHE/corpus" --out "$CACHE/tokenizer"
npx tsx scripts/demo-model/tokenize-corpus.ts
N_VOCAB=$("$PY" -c "import json; print(len(json.load(open('$CACHE/tokenizer/vocab.json'))['tokens']))")
# Measured on this 2-core machine (docs/demo-model.md, "CPU budget"): glibc hands big tensors
# back to the kernel on free and faults them in again on the next step (keeping them in the
# heap saved about a fifth of the CPU time per step), and OpenMP threads that spin while
# waiting for a preempted partner made 2 threads 5x slower than 1 on a busy machine.
MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 MALLOC_TOP_PAD_=536870912 OMP_WAIT_POLICY=PASSIVE \
  "$PY" training/train.py --tokens "$CACHE/tokens" --out "$CACHE/weights" --results training/results.json --n-vocab "$N_VOCAB" "$@"
"$PY" training/reference.py --tokens "$CACHE/tokens" --weights "$CACHE/weights"
npx tsx scripts/demo-model/export.ts --weights "$CACHE/weights" --out models/tempo-demo-code.gguf
npx tsx scripts/demo-model/verify.ts --model models/tempo-demo-code.gguf --weights "$CACHE/weights" --write training/export-check.json
"$PY" training/plot.py --results training/results.json --out docs/demo-model-training.svg
"$PY" training/report.py
echo "train:demo: done; figures in training/results.json, training/export-check.json, docs/demo-model-training.svg"
