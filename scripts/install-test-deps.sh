#!/usr/bin/env bash
# Installs the Debian packages the tests need (listed in scripts/apt-packages.txt), only when
# missing, so a second run costs nothing. Needs root (CI and these machines run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
list=scripts/apt-packages.txt
[ -f "$list" ] || exit 0
missing=()
while read -r pkg; do
  [ -z "$pkg" ] && continue
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done < <(grep -v '^\s*#' "$list")
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "tests need these Debian packages; run as root or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
