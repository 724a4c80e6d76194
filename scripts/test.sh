#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls `npm test`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
echo "== typecheck"; npx tsc --noEmit -p .
echo "== lint"; npx eslint .
echo "== unit and engine tests"; npx mocha
