"""GEMM throughput of PyTorch (Debian build, OpenBLAS) on bench/gemm/shapes.txt with 2 threads.

Usage: PYENV_VERSION=system python3 bench/gemm/torch_gemm.py [shapes.txt] [threads]
Prints one line per shape: name M N K GFLOP/s (fastest single call over >= 1.5 s),
computing C = op(A) @ op(B) with the same storage layouts as the .NET benchmark.
"""
import sys
import time

import torch

shapes = sys.argv[1] if len(sys.argv) > 1 else "bench/gemm/shapes.txt"
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)

for line in open(shapes):
    if line.startswith("#") or not line.strip():
        continue
    name, ta, tb, m, n, k = line.split()
    m, n, k = int(m), int(n), int(k)
    a = torch.rand(k, m) * 2 - 1 if ta == "1" else torch.rand(m, k) * 2 - 1
    b = torch.rand(n, k) * 2 - 1 if tb == "1" else torch.rand(k, n) * 2 - 1
    opa = a.t() if ta == "1" else a
    opb = b.t() if tb == "1" else b
    c = torch.empty(m, n)
    for _ in range(3):
        torch.mm(opa, opb, out=c)
    # Fastest single call over >= 1.5 s (at least 20 calls), as in the .NET benchmark.
    best = float("inf")
    start = time.perf_counter()
    calls = 0
    while calls < 20 or time.perf_counter() - start < 1.5:
        t0 = time.perf_counter()
        torch.mm(opa, opb, out=c)
        best = min(best, time.perf_counter() - t0)
        calls += 1
    print(f"{name} {m} {n} {k} {2.0 * m * n * k / best / 1e9:.1f}", flush=True)
