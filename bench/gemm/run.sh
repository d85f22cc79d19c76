#!/usr/bin/env bash
# GEMM GFLOP/s of MLNetMerge vs PyTorch (+OpenBLAS), 2 threads each, shape by shape (alternating, so a burst of
# load elsewhere hits both); then one thread per CPU-second (robust on a shared machine); then the randomized SVD
# vs torch.linalg.svd. Run from anywhere; keep the machine quiet.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
threads="${THREADS:-2}"
out="${OUT_DIR:-$root/bench/out/gemm}"
mkdir -p "$out"
dotnet build -c Release bench/Gemm.Bench -v:q -nologo >/dev/null
bench="dotnet bench/Gemm.Bench/bin/Release/net10.0/Gemm.Bench.dll"
export PYENV_VERSION=system

printf "%-16s %5s %5s %5s %10s %10s %7s\n" shape M N K ours_GF/s torch_GF/s ratio
grep -v '^#' bench/gemm/shapes.txt | while read -r line; do
    [ -z "$line" ] && continue
    echo "$line" > "$out/one_shape.txt"
    ours=$($bench "$out/one_shape.txt" "$threads")
    torch=$(python3 bench/gemm/torch_gemm.py "$out/one_shape.txt" "$threads")
    read -r name m n k og <<<"$ours"
    read -r _ _ _ _ tg <<<"$torch"
    printf "%-16s %5s %5s %5s %10s %10s %7.3f\n" "$name" "$m" "$n" "$k" "$og" "$tg" "$(echo "$og / $tg" | bc -l)"
done

echo
echo "One thread, GFLOP per second of CPU time (robust to other processes' load):"
printf "%-16s %5s %5s %5s %10s %10s %7s\n" shape M N K ours_GF/s torch_GF/s ratio
grep -v '^#' bench/gemm/shapes.txt | while read -r line; do
    [ -z "$line" ] && continue
    echo "$line" > "$out/one_shape.txt"
    ours=$($bench "$out/one_shape.txt" 1 cpu)
    torch=$(python3 bench/gemm/torch_gemm.py "$out/one_shape.txt" 1 cpu)
    read -r name m n k og <<<"$ours"
    read -r _ _ _ _ tg <<<"$torch"
    printf "%-16s %5s %5s %5s %10s %10s %7.3f\n" "$name" "$m" "$n" "$k" "$og" "$tg" "$(echo "$og / $tg" | bc -l)"
done

echo
echo "Randomized SVD (r = 0.12·min(m,n), defaults) vs torch.linalg.svd + truncation:"
$bench rsvd "$out" > "$out/rsvd.txt"
python3 bench/gemm/torch_svd.py "$out" "$out/rsvd.txt"
