#!/usr/bin/env bash
# Merge-throughput benchmark (bench/README.md "Merge throughput"): our CLI vs a per-tensor
# PyTorch reference on a base + N CLIP ViT-B/32-shaped checkpoints, with the physical limits
# (file-read ceiling, memory bandwidth) measured in the same run.
#
#   bench/merge/run.sh [--torch-only] [--jit] [--methods "ta ties emr cart"] [MODELS=8] [WORKDIR=bench/out]
#
# Ours is the CLI as `dotnet publish -p:PublishReadyToRun=true` ships it (precompiled, like torch's native code; the
# publish goes to WORKDIR/cli); --jit times the plain `dotnet build` output instead (every method JIT-compiled at start).
#
# Installs nothing. Needs Debian's python3-torch + python3-numpy (+ libopenblas0-pthread) and the
# .NET 10 SDK; builds the CLI (Release) and ReadCeiling when their dlls are missing.
# Leaves everything under WORKDIR/family<N>/ (inputs, recipes, ours/, torch/, results/).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TORCH_ONLY=0
JIT=0
METHODS="ta ties emr cart"
POSITIONAL=()
while (($#)); do
  case "$1" in
    --torch-only) TORCH_ONLY=1 ;;
    --jit) JIT=1 ;;
    --methods) METHODS=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) POSITIONAL+=("$1") ;;
  esac
  shift
done
MODELS=${POSITIONAL[0]:-8}
WORK=${POSITIONAL[1]:-$REPO/bench/out}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
FAMILY=$WORK/family$MODELS
RESULTS=$FAMILY/results
if ((JIT)); then CLI_DLL=$REPO/src/MLNetMerge.Cli/bin/Release/net10.0/MLNetMerge.Cli.dll; else CLI_DLL=$WORK/cli/MLNetMerge.Cli.dll; fi
CEILING_DLL=$HERE/ReadCeiling/bin/Release/net10.0/ReadCeiling.dll

# Debian's python (the pyenv python3 first on PATH cannot import torch).
PY=$(PYENV_VERSION=system python3 -c 'import sys; print(sys.executable)' 2>/dev/null || command -v python3)
if ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
  echo "run.sh: $PY cannot import torch and numpy." >&2
  echo "  Install Debian's packages: sudo apt-get install -y python3-torch python3-numpy libopenblas0-pthread" >&2
  echo "  (or through the project's installer, tools/ci-deps.sh, when it has a bench mode)." >&2
  exit 2
fi
command -v dotnet >/dev/null || { echo "run.sh: the .NET 10 SDK (dotnet) is not on PATH" >&2; exit 2; }

if [[ ! -f $CEILING_DLL ]]; then
  echo "== building ReadCeiling"
  dotnet build -c Release -nologo -v q "$HERE/ReadCeiling" >/dev/null
fi
if ((TORCH_ONLY == 0)); then
  if ((JIT)); then
    echo "== building the CLI (Release, JIT)"
    dotnet build -c Release -nologo -v q "$REPO/src/MLNetMerge.Cli" >/dev/null
  else
    echo "== publishing the CLI (Release, ReadyToRun) to $WORK/cli"
    dotnet publish "$REPO/src/MLNetMerge.Cli" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
      -o "$WORK/cli" -nologo -v q >/dev/null
  fi
fi

if [[ ! -f $FAMILY/task$((MODELS - 1)).safetensors || ! -f $FAMILY/recipes/ta.yaml ]]; then
  echo "== generating base + $MODELS checkpoints in $FAMILY"
  "$PY" "$HERE/make_family.py" --models "$MODELS" --out "$FAMILY"
fi
INPUTS=("$FAMILY/base.safetensors")
for ((t = 0; t < MODELS; t++)); do INPUTS+=("$FAMILY/task$t.safetensors"); done
mkdir -p "$RESULTS"

quiet() {  # flush dirty pages of earlier outputs and re-warm the inputs, outside any timing
  sync
  cat "${INPUTS[@]}" >/dev/null
}

cut -d' ' -f1-3 /proc/loadavg > "$RESULTS/load.txt"
echo "== load before timing: $(cat "$RESULTS/load.txt") ($(nproc) cores; other jobs on the machine skew every figure)"
quiet
echo "== physical limits"
dotnet "$CEILING_DLL" "${INPUTS[@]}" | tee "$RESULTS/ceiling.txt"

for m in $METHODS; do
  compare_files=(model.safetensors)
  extra=()
  compare_extra=()
  [[ $m == cart ]] && compare_extra=(--family "$FAMILY" --models "$MODELS")
  if [[ $m == emr ]]; then
    compare_files=(tasks/task0.safetensors model.safetensors modulators.safetensors)
    extra=(--materialize task0)
  fi
  if ((TORCH_ONLY == 0)); then
    rm -rf "${FAMILY:?}/ours/$m"
    quiet
    echo "== $m: ours"
    if ! "$PY" "$HERE/sample_rss.py" "$RESULTS/$m.ours.json" "$RESULTS/$m.ours.log" -- \
        dotnet "$CLI_DLL" merge "$FAMILY/recipes/$m.yaml" --force "${extra[@]}"; then
      echo "   our CLI failed; log tail:" >&2
      tail -n 15 "$RESULTS/$m.ours.log" >&2
    fi
  fi
  rm -rf "${FAMILY:?}/torch/$m"
  quiet
  echo "== $m: torch"
  if ! "$PY" "$HERE/sample_rss.py" "$RESULTS/$m.torch.json" "$RESULTS/$m.torch.log" -- \
      "$PY" "$HERE/torch_merge.py" --family "$FAMILY" --models "$MODELS" --method "$m" --out "$FAMILY/torch/$m"; then
    echo "   torch reference failed; log tail:" >&2
    tail -n 15 "$RESULTS/$m.torch.log" >&2
  fi
  if ((TORCH_ONLY == 0)); then
    "$PY" "$HERE/compare.py" --dirs "$FAMILY/torch/$m" "$FAMILY/ours/$m" --json "$RESULTS/$m.compare.json" \
      "${compare_extra[@]}" "${compare_files[@]}" || echo "   comparison failed" >&2
  else
    rm -f "$RESULTS/$m.compare.json" "$RESULTS/$m.ours.json"
  fi
done

"$PY" "$HERE/report.py" "$FAMILY" "$MODELS" $METHODS | tee "$RESULTS/table.txt"
