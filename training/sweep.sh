#!/usr/bin/env bash
# The learning-rate / batch / shape sweep that chose train.py's defaults, at the shipped
# budget of 3.3M training tokens (plus one run at twice the budget). Needs the tokens of a
# train:demo run (.cache/demo-model/tokens). Runs the variants in parallel: meant for a
# machine with a GPU (DEVICE=cuda); DEVICE=cpu works but takes hours.
# Usage: DEVICE=cuda bash training/sweep.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
DEVICE=${DEVICE:-cuda}
OUT=${SWEEP_OUT:-.cache/demo-model/sweep}
mkdir -p "$OUT"
N_VOCAB=$("$PY" -c "import json; print(len(json.load(open('.cache/demo-model/tokenizer/vocab.json'))['tokens']))")
run() {
  local name=$1; shift
  "$PY" training/train.py --tokens .cache/demo-model/tokens --out "$OUT/$name" --results "$OUT/$name.json" \
    --n-vocab "$N_VOCAB" --device "$DEVICE" --eval-every 200 "$@" > "$OUT/$name.log" 2>&1
}
run b8-lr1e-3 --batch 8 --steps 1600 --lr 1e-3 &
run b8-lr2e-3 --batch 8 --steps 1600 --lr 2e-3 &
run b8-lr4e-3 --batch 8 --steps 1600 --lr 4e-3 &
run b8-lr6e-3 --batch 8 --steps 1600 --lr 6e-3 &
run b16-lr3e-3 --batch 16 --steps 800 --lr 3e-3 &
run b8-lr3e-3-d192-l6 --batch 8 --steps 1600 --lr 3e-3 --n-embd 192 --n-layer 6 --n-head 3 --n-head-kv 3 --n-ff 512 &
run b8-lr2e-3-2x-tokens --batch 8 --steps 3200 --lr 2e-3 &
wait
"$PY" - "$OUT" <<'PY'
import glob, json, os, sys
print("| run | tokens seen | held-out nats/token | nats/byte |\n| --- | ---: | ---: | ---: |")
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    r = json.load(open(f))
    m = r["heldout"]["model"]
    print(f"| {os.path.basename(f)[:-5]} | {r['tokensSeen']:,} | {m['natsPerToken']:.3f} | {m['natsPerByte']:.3f} |")
PY
