#!/usr/bin/env bash
# Tinting step benchmark: one Tinting step (merge θ = θ0 + Σ clamp(λ)τ over 8 tasks, forward + backward of the zoo-shaped
# tiny ViT on a batch of 16, coefficient and head gradients, Adam on both) in MLNetMerge vs PyTorch (2 threads), same
# weights and batch, in one run. Both sides print their first and 10th losses (they must agree) and ms per step.
# Usage: bench/tinting/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."; out="$root/bench/out/tinting"
PY="env PYENV_VERSION=system python3"
$PY -c "import torch" 2>/dev/null || { echo "needs Debian's python3-torch (apt-get install python3-torch)"; exit 1; }
dotnet build -c Release "$root/bench/Tinting.Bench" -v q -nologo >/dev/null
bin="$root/bench/Tinting.Bench/bin/Release/net10.0/Tinting.Bench.dll"
mkdir -p "$out"
$PY "$here/torch_tinting.py" make "$out"
# torch runs with 1 and with 2 threads; the faster is the reference (on a loaded machine, OpenMP's 2-thread barriers
# can be many times slower than 1 thread; the 2-thread run uses OMP_WAIT_POLICY=PASSIVE to soften that). Three interleaved trials per side (REPEATS); each side's best counts, since
# the machine is shared and load only ever adds time.
repeats="${REPEATS:-3}"; lines=()
for _ in $(seq "$repeats"); do
  lines+=("$(dotnet "$bin" "$out")" "$($PY "$here/torch_tinting.py" step "$out" 1)" "$(OMP_WAIT_POLICY=PASSIVE $PY "$here/torch_tinting.py" step "$out" 2)")
done
printf '%s\n' "${lines[@]}"
python3 - "${lines[@]}" <<'PY'
import sys
def field(line, key):
    parts = line.split()
    return float(parts[parts.index(key) + 1])
ours = [l for l in sys.argv[1:] if l.startswith("ours")]
torch = [l for l in sys.argv[1:] if l.startswith("torch")]
o = min(ours, key=lambda l: field(l, "step_ms"))
t = min(torch, key=lambda l: field(l, "step_ms"))
print(f"Tinting step (8 tasks, batch 16, zoo ViT): {field(t, 'step_ms') / field(o, 'step_ms'):.2f}x torch "
      f"(best of {len(ours)}: ours {field(o, 'step_ms'):.3f} ms, torch {field(t, 'step_ms'):.3f} ms with {int(field(t, 'threads'))} thread(s); "
      f"first loss ours {field(o, 'first_loss'):.6f} vs torch {field(t, 'first_loss'):.6f}, 10th {field(o, 'loss10'):.6f} vs {field(t, 'loss10'):.6f})")
PY
