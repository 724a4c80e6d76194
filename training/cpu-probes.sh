#!/usr/bin/env bash
# What one training step of the default configuration costs on this machine, and what made the
# CPU run fit its budget: short runs of train.py (same defaults and seed, --stop-after) with and
# without bf16 matrix products, run.sh's allocator and OpenMP settings, and 1 or 2 threads.
# Each writes training/cpu-probes/<variant>.<round>.json (CPU seconds, wall seconds, load average);
# training/report.py turns them into the "CPU budget" table of docs/demo-model.md.
# Needs the tokens of a train:demo run. Usage: bash training/cpu-probes.sh [steps, default 20]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
STEPS=${1:-20}
OUT=training/cpu-probes
mkdir -p "$OUT"
N_VOCAB=$("$PY" -c "import json; print(len(json.load(open('.cache/demo-model/tokenizer/vocab.json'))['tokens']))")
HEAP="MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 MALLOC_TOP_PAD_=536870912"
probe() {
  local name=$1 envs=$2; shift 2
  echo "cpu-probes: $name ($(uptime))"
  # a 4-window evaluation keeps the probe's own evaluations out of the per-step cost
  env $envs "$PY" training/train.py --tokens .cache/demo-model/tokens --out "/tmp/cpu-probe-$name" \
    --results "$OUT/$name.json" --n-vocab "$N_VOCAB" --stop-after "$STEPS" --eval-every "$STEPS" --eval-windows 4 "$@"
}
# two interleaved rounds: a busy machine's load changes from minute to minute
for round in 1 2; do
  probe fp32-1thread.$round "" --precision fp32 --threads 1
  probe fp32-1thread-heap.$round "$HEAP" --precision fp32 --threads 1
  probe bf16-1thread-heap.$round "$HEAP" --precision bf16 --threads 1
  probe bf16-2threads-heap.$round "$HEAP" --precision bf16 --threads 2
  probe bf16-2threads-heap-passive.$round "$HEAP OMP_WAIT_POLICY=PASSIVE" --precision bf16 --threads 2
done
