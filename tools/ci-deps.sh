#!/usr/bin/env bash
# Installs what a fresh machine needs beyond the .NET SDK, with retries; a failure names the package.
#   tools/ci-deps.sh            what the test suite needs: the onnx profile below (fixtures are committed), and
#                               wordnet-base and fortunes (real text for the ML.NET tokenization tests)
#   tools/ci-deps.sh bench      Debian's PyTorch, NumPy and OpenBLAS for the reference side of bench/
#   tools/ci-deps.sh fixtures   the same, for regenerating the committed fixtures with tools/*.py
#   tools/ci-deps.sh onnx       Debian's python3-onnx (onnx.checker), for the tests in category "onnx" (exported models
#                               are checked by it, then run in ONNX Runtime in process); part of the test profile
#   tools/ci-deps.sh report     Debian's chromium, for .ci/run's headless render of the demo's report.html to a PNG
#   tools/ci-deps.sh zoo        what `mlnetmerge zoo build` reads: Debian's dataset-fashion-mnist and python3-sklearn
#                               (its digits) for the vision zoo, wordnet-base and fortunes for the text zoo (the built
#                               zoos are committed under data/zoo; the test profile installs the text corpora too)
#   tools/ci-deps.sh fuzz       Debian's afl++ for the fuzz campaign (tools/fuzz/run.sh; not part of CI)
set -euo pipefail
profile="${1:-test}"

apt_packages=()
case "$profile" in
  test) apt_packages+=(python3-onnx python3-numpy wordnet-base fortunes) ;;
  bench|fixtures) apt_packages+=(python3-torch python3-numpy libopenblas0-pthread) ;;
  onnx) apt_packages+=(python3-onnx python3-numpy) ;;
  report) apt_packages+=(chromium) ;;
  zoo) apt_packages+=(dataset-fashion-mnist python3-sklearn wordnet-base fortunes) ;;
  fuzz) apt_packages+=(afl++) ;;
  *) echo "ci-deps: unknown profile '$profile' (test, bench, fixtures, onnx, report, zoo, fuzz)" >&2; exit 2 ;;
esac

retry() {
  local what="$1"; shift
  for attempt in 1 2 3; do
    if "$@"; then return 0; fi
    echo "ci-deps: attempt $attempt for $what failed; retrying in $((attempt * 10)) s" >&2
    sleep $((attempt * 10))
  done
  echo "ci-deps: could not install $what after 3 attempts" >&2
  return 1
}

if ! command -v dotnet >/dev/null 2>&1; then
  echo "ci-deps: the .NET 10 SDK (dotnet) is required and not on PATH" >&2
  exit 1
fi

missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  retry "apt package lists" $sudo_cmd apt-get update -q
  for p in "${missing[@]}"; do
    # Waits up to 10 minutes for a dpkg lock held by another install instead of failing at once.
    retry "Debian package $p" env DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 install -y -q "$p"
  done
fi
if [ "$profile" = onnx ] || [ "$profile" = test ]; then
  PYENV_VERSION=system python3 -c "import onnx" || { echo "ci-deps: python3-onnx does not import under the system python3" >&2; exit 1; }
fi
if [ "$profile" = report ]; then
  chromium --version >/dev/null 2>&1 || { echo "ci-deps: chromium is installed but does not run (chromium --version failed)" >&2; exit 1; }
fi
echo "ci-deps: profile '$profile' ready"
