#!/usr/bin/env bash
# Merge-throughput benchmark (bench/README.md "Merge throughput"): our CLI vs a per-tensor
# PyTorch reference on a base + N CLIP ViT-B/32-shaped checkpoints, with the physical limits
# (file-read ceiling, memory bandwidth) measured in the same run.
#
#   bench/merge/run.sh [--torch-only] [--jit] [--isa native|avx512|avx2] [--reps 3] [--methods "ta ties emr cart"]
#                      [MODELS=8] [WORKDIR=bench/out]
#   (also: tsv_m iso_c iso_cts wudi — the round-2 subspace methods; not in the default list, they take minutes — and pcb, tatr)
#
# Ours is the CLI as `dotnet publish -p:PublishReadyToRun=true` ships it (precompiled, like torch's native code; the
# publish goes to WORKDIR/cli); --jit times the plain `dotnet build` output instead (every method JIT-compiled at start).
# BENCH_NO_PUBLISH=1 reuses WORKDIR/cli when it exists (several invocations in one sitting).
# --isa picks the instruction set of both sides (bench/isa.sh; avx2 on an AVX-512 CPU emulates an AVX2-only one); each
# method runs --reps times, ours then torch, and the table reports medians. Results go to results/<isa>/.
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
ISA=native
REPS=3
POSITIONAL=()
while (($#)); do
  case "$1" in
    --torch-only) TORCH_ONLY=1 ;;
    --jit) JIT=1 ;;
    --methods) METHODS=$2; shift ;;
    --isa) ISA=$2; shift ;;
    --reps) REPS=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) POSITIONAL+=("$1") ;;
  esac
  shift
done
MODELS=${POSITIONAL[0]:-8}
WORK=${POSITIONAL[1]:-$REPO/bench/out}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
FAMILY=$WORK/family$MODELS
# shellcheck source=../isa.sh
source "$HERE/../isa.sh"
bench_isa_setup "$ISA"
RESULTS=$FAMILY/results/$BENCH_ISA
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
ISA_DLL=$REPO/bench/Gemm.Bench/bin/Release/net10.0/Gemm.Bench.dll
if [[ ! -f $ISA_DLL ]]; then
  echo "== building Gemm.Bench (it prints the instruction sets our kernels use)"
  dotnet build -c Release -nologo -v q "$REPO/bench/Gemm.Bench" >/dev/null
fi
if ((TORCH_ONLY == 0)); then
  if ((JIT)); then
    echo "== building the CLI (Release, JIT)"
    dotnet build -c Release -nologo -v q "$REPO/src/MLNetMerge.Cli" >/dev/null
  elif [[ -n ${BENCH_NO_PUBLISH:-} && -f $CLI_DLL ]]; then
    echo "== BENCH_NO_PUBLISH: timing the CLI already published in $WORK/cli"
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
for m in $METHODS; do
  [[ -f $FAMILY/recipes/$m.yaml ]] || { "$PY" "$HERE/make_family.py" --models "$MODELS" --out "$FAMILY" --recipes-only; break; }
done
INPUTS=("$FAMILY/base.safetensors")
for ((t = 0; t < MODELS; t++)); do INPUTS+=("$FAMILY/task$t.safetensors"); done
mkdir -p "$RESULTS"

quiet() {  # flush dirty pages of earlier outputs and re-warm the inputs, outside any timing
  sync
  cat "${INPUTS[@]}" >/dev/null
}

# How the inputs came into the page cache sets what mapping them costs (both sides map them): pages read ahead from
# disk come in large folios, pages left by the writer or split since come one 4 KiB page at a time, and a read-in-place
# merge of the nine files took 7 300 page faults in one state and 51 000 in the other (0.26 against 0.39 s for task
# arithmetic, twenty-second sitting). Where the machine lets us (root), every series starts from the same state: the
# page cache dropped once, then the inputs read back.
if [[ -w /proc/sys/vm/drop_caches ]]; then
  sync
  echo 1 > /proc/sys/vm/drop_caches
  # the programs' own files come back before any timing too (torch's by the header below, which imports it)
  if ((TORCH_ONLY == 0)); then dotnet "$CLI_DLL" --version >/dev/null; fi
  echo "== page cache dropped once, inputs read back from disk (large folios, as after a fresh read)"
else
  echo "== page cache kept as it is (not root): mapping costs depend on how the inputs were cached"
fi

cut -d' ' -f1-3 /proc/loadavg > "$RESULTS/load.txt"
echo "== load before timing: $(cat "$RESULTS/load.txt") ($(nproc) cores; other jobs on the machine skew every figure)"
bench_isa_header 2 dotnet "$ISA_DLL" isa | tee "$RESULTS/isa.txt"
rm -f "$RESULTS"/*.ours.*.json "$RESULTS"/*.torch.*.json "$RESULTS"/*.sha256
quiet
echo "== physical limits"
dotnet "$CEILING_DLL" "${INPUTS[@]}" | tee "$RESULTS/ceiling.txt"

for m in $METHODS; do
  compare_files=(model.safetensors)
  extra=()
  compare_extra=()
  [[ $m == cart ]] && compare_extra=(--family "$FAMILY" --models "$MODELS")
  [[ $m == tsv_m || $m == iso_c || $m == iso_cts || $m == wudi || $m == pcb || $m == tatr ]] && compare_extra=(--family "$FAMILY" --models "$MODELS" --relative-to base)
  if [[ $m == emr ]]; then
    compare_files=(tasks/task0.safetensors model.safetensors modulators.safetensors)
    extra=(--materialize task0)
  fi
  for ((rep = 1; rep <= REPS; rep++)); do
    if ((TORCH_ONLY == 0)); then
      rm -rf "${FAMILY:?}/ours/$m"
      quiet
      echo "== $m: ours (run $rep of $REPS)"
      if ! env "${OURS_ENV[@]}" "$PY" "$HERE/sample_rss.py" "$RESULTS/$m.ours.$rep.json" "$RESULTS/$m.ours.log" -- \
          dotnet "$CLI_DLL" merge "$FAMILY/recipes/$m.yaml" --force "${extra[@]}"; then
        echo "   our CLI failed; log tail:" >&2
        tail -n 15 "$RESULTS/$m.ours.log" >&2
      fi
      # Same inputs and seed give the same bytes: one digest per run (report.py checks they agree).
      (cd "$FAMILY/ours/$m" && sha256sum model.safetensors "${compare_files[@]}" 2>/dev/null | sort -u) > "$RESULTS/$m.ours.$rep.sha256" || true
    fi
    rm -rf "${FAMILY:?}/torch/$m"
    quiet
    echo "== $m: torch (run $rep of $REPS)"
    if ! env "${TORCH_ENV[@]}" "$PY" "$HERE/sample_rss.py" "$RESULTS/$m.torch.$rep.json" "$RESULTS/$m.torch.$rep.log" -- \
        "$PY" "$HERE/torch_merge.py" --family "$FAMILY" --models "$MODELS" --method "$m" --out "$FAMILY/torch/$m"; then
      echo "   torch reference failed; log tail:" >&2
      tail -n 15 "$RESULTS/$m.torch.$rep.log" >&2
    fi
  done
  if ((TORCH_ONLY == 0)); then
    "$PY" "$HERE/compare.py" --dirs "$FAMILY/torch/$m" "$FAMILY/ours/$m" --json "$RESULTS/$m.compare.json" \
      "${compare_extra[@]}" "${compare_files[@]}" || echo "   comparison failed" >&2
  else
    rm -f "$RESULTS/$m.compare.json" "$RESULTS"/"$m".ours.*.json "$RESULTS"/"$m".ours.*.sha256
  fi
done

echo "== uptime after the run: $(uptime)" | tee -a "$RESULTS/isa.txt"
"$PY" "$HERE/report.py" "$FAMILY" "$MODELS" "$BENCH_ISA" $METHODS | tee "$RESULTS/table.txt"
