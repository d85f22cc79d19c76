#!/usr/bin/env bash
# AdaMerging step benchmark: one layer-wise AdaMerging step (merge, 8 × forward + backward through the encoder and the
# task's head with the entropy loss, coefficient gradients, Adam) on the committed vision zoo, ours vs PyTorch (2 threads),
# same weights and batches, in one run. Both sides print their first loss; the ratio is torch time / our time.
# torch runs twice, with 2 threads (OMP_WAIT_POLICY=PASSIVE: on a shared, oversubscribed machine spinning OpenMP threads
# slow it by 10-40x) and with 1 thread; the ratio is taken against the faster of the two.
# Usage: bench/align/run.sh [BATCH] [STEPS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."; batch="${1:-16}"; steps="${2:-20}"
PY="env PYENV_VERSION=system python3"
$PY -c "import torch, numpy" 2>/dev/null || { echo "needs Debian's python3-torch and python3-numpy (apt-get install python3-torch python3-numpy)"; exit 1; }
dotnet build -c Release "$root/bench/Align.Bench" -v q -nologo >/dev/null
bin="$root/bench/Align.Bench/bin/Release/net10.0/Align.Bench.dll"
zoo="$root/data/zoo/vision"
uptime
ours=$(dotnet "$bin" "$zoo" "$batch" "$steps")
torch2=$(OMP_WAIT_POLICY=PASSIVE TORCH_THREADS=2 $PY "$here/torch_align.py" "$zoo" "$batch" "$steps")
torch1=$(TORCH_THREADS=1 $PY "$here/torch_align.py" "$zoo" "$batch" "$steps")
echo "$ours"; echo "$torch2"; echo "$torch1"
python3 - "$ours" "$torch2" "$torch1" <<'PY'
import sys
def field(line, key):
    parts = line.split()
    return float(parts[parts.index(key) + 1])
o, t2, t1 = sys.argv[1:4]
t = min((t2, t1), key=lambda line: field(line, 'step_ms_median'))
print(f"AdaMerging step (layer-wise, {int(field(o, 'tasks'))} tasks × batch {int(field(o, 'batch'))}): "
      f"{field(t, 'step_ms_median') / field(o, 'step_ms_median'):.2f}x torch (median, torch {int(field(t, 'threads'))} thread(s)), "
      f"{field(t, 'step_ms_min') / field(o, 'step_ms_min'):.2f}x (best); vs torch 2 threads {field(t2, 'step_ms_median') / field(o, 'step_ms_median'):.2f}x, "
      f"1 thread {field(t1, 'step_ms_median') / field(o, 'step_ms_median'):.2f}x; "
      f"first loss ours {field(o, 'first_loss'):.6f} vs torch {field(t, 'first_loss'):.6f}; loss after {int(field(o, 'steps'))} steps ours {field(o, 'last_loss'):.6f} vs torch {field(t, 'last_loss'):.6f}")
PY
