#!/usr/bin/env bash
# Engine benchmark, one sitting: the tiny-ViT train step (identical weights, both sides print the first loss) and
# ViT-B/32-shaped CLIP vision inference, ours vs PyTorch (2 threads); then the batched forward of an all-MiniLM-L6-v2-shaped
# BERT (batch 32 × 64) and of CLIP ViT-B/32 (batch 16), ours vs ONNX Runtime 1.32 in our process on the project's own
# export of the same random weights (Engine.Bench ort). Each measurement runs --reps times, interleaved; medians.
# With --isa avx2 on an AVX-512 CPU, ONNX Runtime runs on AVX2 as well: cpuid_mask.c (built here with gcc) answers its
# CPUID without AVX-512 (ORT_CPUID_MASK), so both sides of the ORT rows use the same vector width.
#
#   bench/engine/run.sh [--isa native|avx512|avx2] [--reps 3] [CLIP_BATCH=16]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$(cd "$here/../.." && pwd)"
isa=native; reps=3; pos=()
while (($#)); do
  case "$1" in
    --isa) isa=$2; shift ;;
    --reps) reps=$2; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) pos+=("$1") ;;
  esac
  shift
done
batch="${pos[0]:-16}"
# shellcheck source=../isa.sh
source "$root/bench/isa.sh"
bench_isa_setup "$isa"
out="$root/bench/out/engine"; res="$out/results/$BENCH_ISA"
PY="env PYENV_VERSION=system python3"
$PY -c "import torch" 2>/dev/null || { echo "needs Debian's python3-torch (apt-get install python3-torch)"; exit 1; }
dotnet build -c Release "$root/bench/Engine.Bench" -v q -nologo >/dev/null
bin="$root/bench/Engine.Bench/bin/Release/net10.0/Engine.Bench.dll"
mkdir -p "$out" "$res"
rm -f "$res"/*.txt
bench_isa_header 2 dotnet "$bin" isa | tee "$res/header.txt"
$PY "$here/torch_engine.py" make "$out"
bench_ort_isa_setup "$out"
ours() { env "${OURS_ENV[@]}" dotnet "$bin" "$@"; }
ours_ort() { env "${OURS_ENV[@]}" "${ORT_ENV[@]}" dotnet "$bin" "$@"; }
torch() { env "${TORCH_ENV[@]}" PYENV_VERSION=system python3 "$here/torch_engine.py" "$@"; }
for ((r = 1; r <= reps; r++)); do
  echo "== run $r of $reps ($(uptime | sed 's/.*load/load/'))"
  bench_steal_start
  ours train "$out" | tee -a "$res/ours_train.txt"
  torch train "$out" | tee -a "$res/torch_train.txt"
  ours clip "$batch" | tee -a "$res/ours_clip.txt"
  torch clip "$batch" | tee -a "$res/torch_clip.txt"
  ours_ort ort bert "$out" 3 | grep -v '^ours:\|^onnxruntime ' | tee -a "$res/ort_bert.txt"
  ours_ort ort clip "$out" 3 | grep -v '^ours:\|^onnxruntime ' | tee -a "$res/ort_clip.txt"
  echo "== host steal during run $r: $(bench_steal_pct) % of the machine's CPU time" | tee -a "$res/header.txt"
done
echo "== uptime after the run: $(uptime)" | tee -a "$res/header.txt"
python3 - "$res" "$reps" <<'PY'
import re, statistics, sys
res, reps = sys.argv[1], int(sys.argv[2])
def lines(name):
    with open(f"{res}/{name}.txt") as f:
        return [l for l in f if l.strip()]
def field(line, key):
    parts = line.split()
    return float(parts[parts.index(key) + 1])
def med(xs):
    return statistics.median(xs)
ot = [field(l, "step_ms") for l in lines("ours_train")]; tt = [field(l, "step_ms") for l in lines("torch_train")]
oc = [field(l, "ms") for l in lines("ours_clip")]; tc = [field(l, "ms") for l in lines("torch_clip")]
fo, ft = field(lines("ours_train")[0], "first_loss"), field(lines("torch_train")[0], "first_loss")
print(f"tiny-ViT train step: ours {med(ot):.2f} ms, torch {med(tt):.2f} ms (medians of {len(ot)}): {med(tt) / med(ot):.2f}x "
      f"(first loss ours {fo:.6f}, torch {ft:.6f})")
print(f"CLIP ViT-B/32 inference, torch reference: ours {med(oc):.1f} ms, torch {med(tc):.1f} ms: {med(tc) / med(oc):.2f}x")
for name, what in (("ort_bert", "BERT 6x384 (MiniLM shape) batch 32x64"), ("ort_clip", "CLIP ViT-B/32 batch 16")):
    for series in ("weights packed per product", "weights frozen (packed once)"):
        ls = [l for l in lines(name) if series in l]
        if not ls: continue
        o = [float(re.search(r"ours ([\d.]+) ms", l).group(1)) for l in ls]
        r = [float(re.search(r"onnxruntime ([\d.]+) ms", l).group(1)) for l in ls]
        d = max(float(re.search(r"embedding ([\d.E+-]+)", l).group(1)) for l in ls)
        print(f"{what}, {series}, ONNX Runtime reference: ours {med(o):.1f} ms, onnxruntime {med(r):.1f} ms: "
              f"{med(r) / med(o):.2f}x (max |ours - ort| embedding {d:.1e})")
PY
