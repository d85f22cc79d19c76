#!/usr/bin/env bash
# AdaMerging step benchmark: one layer-wise AdaMerging step (merge, 8 × forward + backward through the encoder and the
# task's head with the entropy loss, coefficient gradients, Adam) on the committed vision zoo, ours vs PyTorch, same
# weights and batches, in one sitting. Both sides print their first loss; the ratio is torch time / our time.
# torch runs with 2 threads (OMP_WAIT_POLICY=PASSIVE: on a shared, oversubscribed machine spinning OpenMP threads
# slow it by 10-40x) and with 1 thread; the ratio is taken against the faster of the two. Each side runs --reps times,
# interleaved; the figures are medians over the runs of each run's median step.
# Usage: bench/align/run.sh [--isa native|avx512|avx2] [--reps 3] [BATCH=16] [STEPS=20]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$(cd "$here/../.." && pwd)"
isa=native; reps=3; pos=()
while (($#)); do
  case "$1" in
    --isa) isa=$2; shift ;;
    --reps) reps=$2; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) pos+=("$1") ;;
  esac
  shift
done
batch="${pos[0]:-16}"; steps="${pos[1]:-20}"
# shellcheck source=../isa.sh
source "$root/bench/isa.sh"
bench_isa_setup "$isa"
PY="env PYENV_VERSION=system python3"
$PY -c "import torch, numpy" 2>/dev/null || { echo "needs Debian's python3-torch and python3-numpy (apt-get install python3-torch python3-numpy)"; exit 1; }
dotnet build -c Release "$root/bench/Align.Bench" -v q -nologo >/dev/null
dotnet build -c Release "$root/bench/Gemm.Bench" -v q -nologo >/dev/null
bin="$root/bench/Align.Bench/bin/Release/net10.0/Align.Bench.dll"
zoo="$root/data/zoo/vision"
bench_isa_header 2 dotnet "$root/bench/Gemm.Bench/bin/Release/net10.0/Gemm.Bench.dll" isa
lines=()
for ((r = 1; r <= reps; r++)); do
  lines+=("$(env "${OURS_ENV[@]}" dotnet "$bin" "$zoo" "$batch" "$steps")")
  lines+=("$(env "${TORCH_ENV[@]}" OMP_WAIT_POLICY=PASSIVE TORCH_THREADS=2 $PY "$here/torch_align.py" "$zoo" "$batch" "$steps")")
  lines+=("$(env "${TORCH_ENV[@]}" TORCH_THREADS=1 $PY "$here/torch_align.py" "$zoo" "$batch" "$steps")")
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
med = lambda ls, key: statistics.median(field(l, key) for l in ls)
t2 = [l for l in torch if int(field(l, "threads")) == 2]
t1 = [l for l in torch if int(field(l, "threads")) == 1]
om, m2, m1 = med(ours, "step_ms_median"), med(t2, "step_ms_median"), med(t1, "step_ms_median")
best = min(m2, m1)
o, t = ours[0], (t2 if m2 <= m1 else t1)[0]
print(f"AdaMerging step (layer-wise, {int(field(o, 'tasks'))} tasks x batch {int(field(o, 'batch'))}), medians of {len(ours)} runs: "
      f"ours {om:.1f} ms, torch {m2:.1f} ms (2 threads) / {m1:.1f} ms (1 thread): {best / om:.2f}x the faster torch; "
      f"first loss ours {field(o, 'first_loss'):.6f} vs torch {field(t, 'first_loss'):.6f}; loss after {int(field(o, 'steps'))} steps "
      f"ours {field(o, 'last_loss'):.6f} vs torch {field(t, 'last_loss'):.6f}")
PY
