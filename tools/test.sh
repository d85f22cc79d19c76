#!/usr/bin/env bash
# The test command of the README: installs what the tests need (tools/ci-deps.sh: Debian's python3-onnx for the
# ONNX checker; ONNX Runtime itself comes from NuGet), then runs every test outside the "slow" category.
# Extra arguments go to dotnet test (e.g. --filter "FullyQualifiedName~Ties").
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/ci-deps.sh test
if [ $# -eq 0 ]; then set -- --filter "TestCategory!=slow"; fi
exec dotnet test MLNetMerge.sln -c Release "$@"
