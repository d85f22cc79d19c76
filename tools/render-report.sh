#!/usr/bin/env bash
# Renders DIR/report.html headless with Debian's chromium (installed through tools/ci-deps.sh report) to DIR/report.png.
# No network: the page is opened from file:// and every host lookup is refused. Exit 0: rendered without console
# messages; 1: console messages (a script error, a blocked resource) or no PNG; 2: SKIP, chromium cannot be installed.
#   tools/render-report.sh out/demo
set -uo pipefail
cd "$(dirname "$0")/.."
arg="${1:?usage: tools/render-report.sh DIR (holding report.html)}"
if [ ! -d "$arg" ]; then echo "report: FAILED (no folder $arg)"; exit 1; fi
dir="$(cd "$arg" && pwd)"
html="$dir/report.html" png="$dir/report.png" log="$dir/chromium.log"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
if ! deps=$(bash tools/ci-deps.sh report 2>&1); then
  echo "report: SKIP (chromium could not be installed here: $(echo "$deps" | tail -n 1))"; exit 2
fi
if [ ! -s "$html" ]; then echo "report: FAILED (no $html)"; exit 1; fi
rm -f "$png"
timeout 180 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
  --disable-background-networking --disable-component-update --host-resolver-rules="MAP * ~NOTFOUND" \
  --user-data-dir="$profile" --enable-logging=stderr --v=0 \
  --screenshot="$png" --window-size=1280,4000 "file://$html" > "$log" 2>&1
rc=$?
console=$(grep -E "CONSOLE|Uncaught" "$log")
if [ -n "$console" ]; then echo "report: FAILED (chromium console messages):"; echo "$console"; exit 1; fi
if [ ! -s "$png" ] || [ "$(head -c 4 "$png" | od -An -c | tr -d ' ')" != "211PNG" ]; then
  echo "report: FAILED (no PNG from chromium, exit $rc)"; tail -n 20 "$log"; exit 1
fi
echo "report: ok ($(stat -c %s "$html") bytes of HTML rendered to $png, $(stat -c %s "$png") bytes, no console messages)"
