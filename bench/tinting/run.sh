#!/usr/bin/env bash
# Tinting step benchmark: one Tinting step (merge θ = θ0 + Σ clamp(λ)τ over 8 tasks, forward + backward of the zoo-shaped
# tiny ViT on a batch of 16, coefficient and head gradients, Adam on both) in MLNetMerge vs PyTorch, same weights and
# batch, in one sitting. Both sides print their first and 10th losses (they must agree) and ms per step.
# torch runs with 1 and with 2 threads (OMP_WAIT_POLICY=PASSIVE); the faster median is the reference. --reps interleaved
# trials per side (default 3, REPEATS also works); the figures are medians over the trials.
# Usage: bench/tinting/run.sh [--isa native|avx512|avx2] [--reps 3]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$(cd "$here/../.." && pwd)"; out="$root/bench/out/tinting"
isa=native; repeats="${REPEATS:-3}"
while (($#)); do
  case "$1" in
    --isa) isa=$2; shift ;;
    --reps) repeats=$2; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck source=../isa.sh
source "$root/bench/isa.sh"
bench_isa_setup "$isa"
PY="env PYENV_VERSION=system python3"
$PY -c "import torch" 2>/dev/null || { echo "needs Debian's python3-torch (apt-get install python3-torch)"; exit 1; }
dotnet build -c Release "$root/bench/Tinting.Bench" -v q -nologo >/dev/null
dotnet build -c Release "$root/bench/Gemm.Bench" -v q -nologo >/dev/null
bin="$root/bench/Tinting.Bench/bin/Release/net10.0/Tinting.Bench.dll"
mkdir -p "$out"
bench_isa_header 2 dotnet "$root/bench/Gemm.Bench/bin/Release/net10.0/Gemm.Bench.dll" isa
$PY "$here/torch_tinting.py" make "$out"
lines=()
for _ in $(seq "$repeats"); do
  lines+=("$(env "${OURS_ENV[@]}" dotnet "$bin" "$out")" "$(env "${TORCH_ENV[@]}" $PY "$here/torch_tinting.py" step "$out" 1)"
          "$(env "${TORCH_ENV[@]}" OMP_WAIT_POLICY=PASSIVE $PY "$here/torch_tinting.py" step "$out" 2)")
  printf '%s\n' "${lines[@]: -3}"
done
echo "== uptime after the run: $(uptime)"
python3 - "${lines[@]}" <<'PY'
import statistics, sys
def field(line, key):
    parts = line.split()
    return float(parts[parts.index(key) + 1])
ours = [l for l in sys.argv[1:] if l.startswith("ours")]
torch = [l for l in sys.argv[1:] if l.startswith("torch")]
om = statistics.median(field(l, "step_ms") for l in ours)
by = {th: [l for l in torch if int(field(l, "threads")) == th] for th in (1, 2)}
tm = {th: statistics.median(field(l, "step_ms") for l in ls) for th, ls in by.items() if ls}
th = min(tm, key=tm.get)
o, t = ours[0], by[th][0]
print(f"Tinting step (8 tasks, batch 16, zoo ViT), medians of {len(ours)} trials: ours {om:.3f} ms, torch {tm[th]:.3f} ms "
      f"({th} thread(s); {' / '.join(f'{v:.3f} ms with {k}' for k, v in sorted(tm.items()))}): {tm[th] / om:.2f}x; "
      f"first loss ours {field(o, 'first_loss'):.6f} vs torch {field(t, 'first_loss'):.6f}, 10th {field(o, 'loss10'):.6f} vs {field(t, 'loss10'):.6f}")
PY
