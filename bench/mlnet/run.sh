#!/usr/bin/env bash
# ML.NET throughput: the merged zoo ViT through ML.NET's OnnxTransformer (PredictionEngine, Transform), the engine's
# batched path and ONNX Runtime batched, same model, same run; then the savable WordPiece steps against the project's
# tokenizer. Usage: bench/mlnet/run.sh [ROWS] [BATCH]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."
dotnet build -c Release "$root/bench/MLNet.Bench" -v q -nologo >/dev/null
uptime
dotnet "$root/bench/MLNet.Bench/bin/Release/net10.0/MLNet.Bench.dll" all "${1:-4000}" "${2:-500}"
