#!/usr/bin/env bash
# Installs what the VS Code tests need, offline-capable: code-server 4.100.3 (VS Code 1.100.3's
# server + web workbench, Node 20) into .cache/code-server/, and Debian's Chromium.
# Idempotent: a finished install leaves a stamp, so a rerun costs only a few checks.
# code-server's own postinstall downloads ripgrep from GitHub, which fails offline, so its
# steps are done here by hand (see docs/design/vscode-facts.md).
set -euo pipefail

CS_VERSION=4.100.3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${TEMPO_CODE_SERVER_CACHE:-$ROOT/.cache/code-server}"
DEST="$CACHE/$CS_VERSION"
STAMP="$DEST/.tempo-install-complete"
START=$(date +%s)

log() { printf '[vscode:install +%ss] %s\n' "$(($(date +%s) - START))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- Debian packages: chromium (browser for the tests), ripgrep (VS Code search), libkrb5-dev
# (headers for code-server's kerberos module). dpkg-query first keeps reruns fast.
missing=()
for p in chromium ripgrep libkrb5-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  log "apt-get install ${missing[*]}"
  # Another engineer's apt may hold the dpkg lock: wait for it rather than fail.
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v chromium >/dev/null || die "chromium not on PATH after apt-get install"

if [ -f "$STAMP" ] && [ -x "$DEST/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ]; then
  log "code-server $CS_VERSION already installed in $DEST"
  exit 0
fi

# code-server 4.100.x runs on Node 20 only (its native modules and the extension host use it).
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
[ "$NODE_MAJOR" = 20 ] || die "code-server $CS_VERSION needs Node 20, found $(node --version)"

# Build in a scratch folder and move it into place at the end, so an interrupted install never
# looks complete.
mkdir -p "$CACHE"
TMP="$(mktemp -d "$CACHE/.tmp-$CS_VERSION-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
PKG="$TMP/package"

log "npm pack code-server@$CS_VERSION"
(cd "$TMP" && npm pack --silent "code-server@$CS_VERSION" >/dev/null && tar xzf "code-server-$CS_VERSION.tgz" && rm "code-server-$CS_VERSION.tgz")

NPM_INSTALL=(npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
log "npm install (package root, lib/vscode, lib/vscode/extensions) in parallel"
# These are network-bound and independent, so overlapping them saves ~10 s.
(cd "$PKG" && "${NPM_INSTALL[@]}" >"$TMP/npm-root.log" 2>&1) & p1=$!
(cd "$PKG/lib/vscode" && "${NPM_INSTALL[@]}" >"$TMP/npm-vscode.log" 2>&1) & p2=$!
(cd "$PKG/lib/vscode/extensions" && "${NPM_INSTALL[@]}" >"$TMP/npm-ext.log" 2>&1) & p3=$!
for p in $p1 $p2 $p3; do
  wait "$p" || { cat "$TMP"/npm-*.log >&2; die "npm install failed"; }
done

# Native modules. node-gyp directly (npm's bundled copy, against Node's installed headers)
# instead of `npm rebuild`: node-pty's postinstall would otherwise `npx node-gyp` again only
# to write compile_commands.json, which costs about a minute.
NODE_GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
[ -f "$NODE_GYP" ] || die "npm's bundled node-gyp not found at $NODE_GYP"
# Node's headers must come from this machine (node-gyp would otherwise download them): npm's
# nodedir setting, else the headers installed beside the node binary.
NODEDIR="$(npm config get nodedir 2>/dev/null || true)"
if [ -z "$NODEDIR" ] || [ "$NODEDIR" = undefined ] || [ "$NODEDIR" = null ]; then
  NODEDIR="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
fi
[ -f "$NODEDIR/include/node/node.h" ] || die "Node.js headers not found under $NODEDIR (set npm's nodedir)"
GYP_ARGS=(rebuild --jobs=2 --loglevel=error "--nodedir=$NODEDIR")
build() { # $1: module dir, $2: log name, rest: command
  local dir="$1" name="$2"; shift 2
  (cd "$dir" && "$@" >"$TMP/gyp-$name.log" 2>&1) || { cat "$TMP/gyp-$name.log" >&2; return 1; }
}
# spdlog alone takes about as long as all the others together: build the two groups side by side.
log "building native modules (spdlog | native-watchdog node-pty deviceid kerberos argon2)"
VSNM="$PKG/lib/vscode/node_modules"
build "$VSNM/@vscode/spdlog" spdlog node "$NODE_GYP" "${GYP_ARGS[@]}" & g1=$!
(
  for m in native-watchdog node-pty @vscode/deviceid kerberos; do
    build "$VSNM/$m" "${m//\//-}" node "$NODE_GYP" "${GYP_ARGS[@]}"
  done
  # argon2 (password hashing, loaded at start-up) goes where node-pre-gyp expects it.
  PATH="$(dirname "$NODE_GYP"):$PATH" npm_config_nodedir="$NODEDIR" \
    build "$PKG/node_modules/argon2" argon2 ../.bin/node-pre-gyp rebuild --jobs=2
) & g2=$!
wait "$g1" || die "building @vscode/spdlog failed"
wait "$g2" || die "building native modules failed"
log "native modules built"

# The rest of code-server's postinstall, by hand.
ln -sfn node_modules "$PKG/lib/vscode/node_modules.asar"
ln -sfn code-linux.sh "$PKG/lib/vscode/bin/remote-cli/code-server"
ln -sfn browser-linux.sh "$PKG/lib/vscode/bin/helpers/browser.sh"
mkdir -p "$PKG/lib/vscode/node_modules/@vscode/ripgrep/bin"
ln -sfn "$(command -v rg)" "$PKG/lib/vscode/node_modules/@vscode/ripgrep/bin/rg"

# Smoke check before declaring success.
# (--config: without it code-server writes a default config into ~/.config.)
VERSION_OUT="$(node "$PKG/out/node/entry.js" --config "$TMP/none.yaml" --version 2>&1 | tail -1)" || die "code-server --version failed: $VERSION_OUT"
node -e 'for (const m of process.argv.slice(1)) require(m)' \
  "$PKG/node_modules/argon2" "$PKG/lib/vscode/node_modules/@vscode/spdlog" \
  "$PKG/lib/vscode/node_modules/node-pty" "$PKG/lib/vscode/node_modules/native-watchdog" \
  || die "a native module does not load"

rm -rf "$DEST"
mv "$PKG" "$DEST"
echo "$VERSION_OUT" >"$STAMP"
log "installed code-server $(head -1 "$STAMP") into $DEST ($(du -sh "$DEST" | cut -f1))"
