#!/usr/bin/env bash
# Whether dist/ is stale: exits 0 and prints why when `npm run build` is needed (dist/clrscope.js
# is missing, or a source or build setting is newer than it), exits 1 when dist/ is up to date.
# dist/clrscope.js is the build's last output (scripts/bundle.mjs writes it after tsc), so a build
# that failed half-way leaves it older than the sources and the next check builds again.
# Usage: needs-build.sh [ROOT]   (ROOT: the clone; default: the one this script is in)
set -euo pipefail

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cd "$root"
bin=dist/clrscope.js
if [[ ! -f "$bin" ]]; then
  echo "$bin is missing"
  exit 0
fi
newer="$(find src scripts/bundle.mjs tsconfig.json package.json package-lock.json -newer "$bin" -type f -print -quit 2>/dev/null || true)"
if [[ -n "$newer" ]]; then
  echo "$newer is newer than $bin"
  exit 0
fi
exit 1
