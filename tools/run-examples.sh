#!/usr/bin/env bash
# Builds and runs every example of examples/ that the solution lists (a copyable console program each), on the
# committed zoo data/zoo/vision, and prints each one's output.
#   tools/run-examples.sh [--no-build] [NAME...]
# Ends with "examples: N passed, M failed"; exits 1 when an example fails to build or run (non-zero exit).
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

build=1
if [ "${1:-}" = "--no-build" ]; then build=0; shift; fi
if [ $# -gt 0 ]; then
  names=("$@")
else
  # The examples in the solution; one that waits for an API not merged yet stays out of it (and out of this run).
  mapfile -t names < <(grep -oE '"examples[\\/][A-Za-z0-9]+[\\/][A-Za-z0-9]+\.csproj"' MLNetMerge.sln | sed -E 's/.*examples[\\/]([A-Za-z0-9]+)[\\/].*/\1/')
fi

passed=0
failed=0
for name in "${names[@]}"; do
  project="examples/$name/$name.csproj"
  if [ ! -f "$project" ]; then echo "example $name: FAILED (no $project)"; failed=$((failed + 1)); continue; fi
  if [ "$build" = 1 ] && ! dotnet build "$project" -c Release -v q --nologo > "/tmp/example-$name.build.log" 2>&1; then
    echo "example $name: FAILED to build"; tail -n 30 "/tmp/example-$name.build.log"; failed=$((failed + 1)); continue
  fi
  start=$(date +%s%N)
  out=$(dotnet "examples/$name/bin/Release/net10.0/$name.dll" 2>&1)
  rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if [ $rc -eq 0 ]; then
    echo "example $name: ok ($((ms / 1000)).$(( (ms % 1000) / 100 )) s)"; passed=$((passed + 1))
  else
    echo "example $name: FAILED (exit $rc, $((ms / 1000)).$(( (ms % 1000) / 100 )) s)"; failed=$((failed + 1))
  fi
  echo "$out" | sed 's/^/    /'
done
echo "examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
