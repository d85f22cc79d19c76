"""Exact truncated SVD with PyTorch vs CART's truncated SVD in MLNetMerge (bench/Gemm.Bench rsvd).

Usage: PYENV_VERSION=system python3 bench/gemm/torch_svd.py OUTDIR RSVD_LINES_FILE
Reads each matrix OUTDIR/A_MxN.f32 that the .NET benchmark wrote, times torch.linalg.svd (float32, thin,
2 threads, fastest of 5) plus the rank-r truncation, computes the exact ||A - A_r||_F from float64 singular values,
and prints: M N r torch_ms ours_ms time_ratio(ours/torch), the same for process CPU time (both threads),
ours_excess torch_f32_excess
where excess = (||A - Â_r||_F - ||A - A_r||_F) / ||A - A_r||_F (the CART criterion asks for <= 1e-3).
"""
import sys
import time

import numpy as np
import torch

torch.set_num_threads(2)
out_dir, lines_file = sys.argv[1], sys.argv[2]
ours = {}
for line in open(lines_file):
    f = line.split()
    if f and f[0] == "rsvd":
        ours[(int(f[1]), int(f[2]))] = (int(f[3]), float(f[4]), float(f[5]), float(f[6]))

print("M N r torch_ms ours_ms ratio torch_cpu_ms ours_cpu_ms cpu_ratio ours_excess torch_f32_excess")
for (m, n), (r, ours_ms, ours_resid, ours_cpu) in ours.items():
    a = torch.from_numpy(np.fromfile(f"{out_dir}/A_{m}x{n}.f32", dtype="<f4").reshape(m, n))
    best = best_cpu = float("inf")
    for _ in range(5):
        t0, c0 = time.perf_counter(), time.process_time()
        u, s, vh = torch.linalg.svd(a, full_matrices=False)
        ar = (u[:, :r] * s[:r]) @ vh[:r]
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    s64 = torch.linalg.svdvals(a.double())
    exact = float(torch.sqrt(torch.sum(s64[r:] ** 2)))
    torch_resid = float(torch.linalg.norm((a - ar).double()))
    print(f"{m} {n} {r} {best * 1e3:.1f} {ours_ms:.1f} {ours_ms / (best * 1e3):.3f} "
          f"{best_cpu * 1e3:.1f} {ours_cpu:.1f} {ours_cpu / (best_cpu * 1e3):.3f} "
          f"{(ours_resid - exact) / exact:.3e} {(torch_resid - exact) / exact:.3e}", flush=True)
