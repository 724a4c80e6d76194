#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls `npm test`): static checks, unit and
# engine tests (mocha, generated GGUF models), then the extension in a real VS Code
# (code-server + Debian chromium, installed by scripts/vscode/install.sh when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
echo "== typecheck"; npx tsc --noEmit -p . && npx tsc --noEmit -p webview
echo "== lint"; npx eslint .
echo "== unit and engine tests"; npx mocha
echo "== VS Code: install code-server and chromium (cached)"; bash scripts/vscode/install.sh
echo "== VS Code: integration tests inside the extension host"; npm run --silent test:vscode
echo "== VS Code: end-to-end in the browser, from the packaged .vsix"; npm run --silent test:e2e
