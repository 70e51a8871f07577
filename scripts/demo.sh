#!/usr/bin/env bash
# The README's "main job", end to end on this machine:
#   build test/targets/hello with the local .NET SDK, start it, let it park its threads, find it
#   with `clrscope ps`, capture a full dump with `clrscope collect` (the runtime's diagnostics IPC
#   protocol, as dotnet-dump collect), kill it, then open the dump with clrscope:  analyze <dump> -c "thread list" -c "bt all" -c clrthreads -c "clrstack -all" -c pstacks.
# Works on a fresh clone: runs `npm ci` / `npm run build` itself when needed (no dist/, or a
# source newer than it: scripts/needs-build.sh).
# Everything it writes goes to .cache/demo/ (git-ignored).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0

demo="$root/.cache/demo"
src="$root/test/targets/hello"
app_pid=""
cleanup() {
  if [[ -n "$app_pid" ]] && kill -0 "$app_pid" 2>/dev/null; then
    kill -KILL "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*" >&2; }

command -v dotnet >/dev/null || { echo "demo: the .NET SDK (dotnet) is not on PATH" >&2; exit 1; }

if stale="$(bash scripts/needs-build.sh "$root")"; then
  say "building clrscope ($stale)"
  [[ -d node_modules ]] || npm ci --no-audit --no-fund
  npm run build
fi

# 1. Build the C# target (only when its sources or the SDK changed). Sources are copied so
#    that obj/ stays out of the repository.
mkdir -p "$demo"
stamp="$( (cd "$src" && find . -type f ! -path './bin/*' ! -path './obj/*' -print0 | sort -z | xargs -0 sha256sum; dotnet --version) | sha256sum | cut -c1-16)"
dll="$demo/bin/hello.dll"
if [[ ! -f "$dll" || "$(cat "$demo/build.stamp" 2>/dev/null)" != "$stamp" ]]; then
  say "dotnet build test/targets/hello -> $demo/bin"
  rm -rf "$demo/src" "$demo/bin"
  mkdir -p "$demo/src"
  (cd "$src" && find . -type f ! -path './bin/*' ! -path './obj/*' -exec cp --parents {} "$demo/src/" \;)
  dotnet build "$demo/src/hello.csproj" -c Release -o "$demo/bin" --disable-build-servers -nodeReuse:false -clp:ErrorsOnly -v:q \
    -p:ImportDirectoryBuildProps=false -p:ImportDirectoryBuildTargets=false -p:ImportDirectoryPackagesProps=false
  echo "$stamp" > "$demo/build.stamp"
fi

# 2. Start it and wait for READY (it writes its truth file first).
say "starting hello"
rm -f "$demo/truth.json" "$demo/app.log"
HELLO_MAX_SECONDS=600 dotnet "$dll" "$demo/truth.json" > "$demo/app.log" 2>&1 < /dev/null &
app_pid=$!
for ((i = 0; i < 600; i++)); do
  grep -qx READY "$demo/app.log" 2>/dev/null && break
  kill -0 "$app_pid" 2>/dev/null || { echo "demo: hello exited early:" >&2; cat "$demo/app.log" >&2; exit 1; }
  sleep 0.1
done
grep -qx READY "$demo/app.log" || { echo "demo: hello not READY after 60 s" >&2; exit 1; }

# 3. Find it with ps, capture a full dump with collect, then kill it.
say "clrscope ps"
node dist/clrscope.js ps
core="$demo/hello.core"
say "clrscope collect -p $app_pid --type full -o $core"
rm -f "$core"
node dist/clrscope.js collect -p "$app_pid" --type full -o "$core"
cleanup
app_pid=""
ls -lh "$core" >&2

# 4. Open the dump with clrscope.
say "clrscope analyze $core -c \"thread list\" -c \"bt all\" -c clrthreads -c \"clrstack -all\" -c pstacks"
node dist/clrscope.js analyze "$core" -c "thread list" -c "bt all" -c clrthreads -c "clrstack -all" -c pstacks
