#!/usr/bin/env bash
# Engine benchmark: tiny-ViT train step (identical weights, both sides print the first loss) and ViT-B/32-shaped CLIP
# vision inference, ours vs PyTorch (2 threads) in the same run. Usage: bench/engine/run.sh [CLIP_BATCH]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."; out="$root/bench/out/engine"; batch="${1:-16}"
PY="env PYENV_VERSION=system python3"
$PY -c "import torch" 2>/dev/null || { echo "needs Debian's python3-torch (apt-get install python3-torch)"; exit 1; }
dotnet build -c Release "$root/bench/Engine.Bench" -v q -nologo >/dev/null
bin="$root/bench/Engine.Bench/bin/Release/net10.0/Engine.Bench.dll"
mkdir -p "$out"
$PY "$here/torch_engine.py" make "$out"
ours_train=$(dotnet "$bin" train "$out"); torch_train=$($PY "$here/torch_engine.py" train "$out")
ours_clip=$(dotnet "$bin" clip "$batch"); torch_clip=$($PY "$here/torch_engine.py" clip "$batch")
echo "$ours_train"; echo "$torch_train"; echo "$ours_clip"; echo "$torch_clip"
python3 - "$ours_train" "$torch_train" "$ours_clip" "$torch_clip" <<'PY'
import sys
def field(line, key):
    parts = line.split()
    return float(parts[parts.index(key) + 1])
ot, tt, oc, tc = sys.argv[1:5]
print(f"tiny-ViT train step: {field(ot, 'samples_per_s') / field(tt, 'samples_per_s'):.2f}x torch "
      f"(first loss ours {field(ot, 'first_loss'):.6f} vs torch {field(tt, 'first_loss'):.6f})")
print(f"CLIP ViT-B/32 inference: {field(oc, 'images_per_s') / field(tc, 'images_per_s'):.2f}x torch")
PY
