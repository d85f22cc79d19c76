"""GEMM throughput of PyTorch (Debian build, OpenBLAS) on bench/gemm/shapes.txt with 2 threads.

Usage: PYENV_VERSION=system python3 bench/gemm/torch_gemm.py [shapes.txt] [threads] [cpu]
Prints one line per shape: name M N K GFLOP/s (fastest single call over >= 1.5 s),
computing C = op(A) @ op(B) with the same storage layouts as the .NET benchmark.
With "cpu": one thread, GFLOP per second of process CPU time (best of 5 batches of >= 0.3 s).
"""
import sys
import time

import torch

shapes = sys.argv[1] if len(sys.argv) > 1 else "bench/gemm/shapes.txt"
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
cpu_time = len(sys.argv) > 3 and sys.argv[3] == "cpu"
if cpu_time:
    threads = 1
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
    best = float("inf")
    if cpu_time:
        for _ in range(5):
            c0, w0, calls = time.process_time(), time.perf_counter(), 0
            while True:
                torch.mm(opa, opb, out=c)
                calls += 1
                if time.perf_counter() - w0 >= 0.3:
                    break
            best = min(best, (time.process_time() - c0) / calls)
    else:
        # Fastest single call over >= 1.5 s (at least 20 calls), as in the .NET benchmark.
        start, calls = time.perf_counter(), 0
        while calls < 20 or time.perf_counter() - start < 1.5:
            t0 = time.perf_counter()
            torch.mm(opa, opb, out=c)
            best = min(best, time.perf_counter() - t0)
            calls += 1
    print(f"{name} {m} {n} {k} {2.0 * m * n * k / best / 1e9:.1f}", flush=True)
