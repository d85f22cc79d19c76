#!/usr/bin/env bash
# The test command of the README: installs what the tests need (tools/ci-deps.sh: python3-onnx and
# onnxruntime-node for the ONNX checks), then runs every test outside the "slow" category.
# Extra arguments go to dotnet test (e.g. --filter "FullyQualifiedName~Ties").
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/ci-deps.sh test
bash tools/ci-deps.sh onnx
if [ $# -eq 0 ]; then set -- --filter "TestCategory!=slow"; fi
exec dotnet test MLNetMerge.sln -c Release "$@"
