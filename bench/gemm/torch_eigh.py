"""The dense symmetric eigensolver and the polar factor in PyTorch vs MLNetMerge (bench/Gemm.Bench eigen).

Usage: PYENV_VERSION=system python3 bench/gemm/torch_eigh.py OUTDIR EIGEN_LINES_FILE
For every line `eigen N ms cpu_ms …` it reads OUTDIR/S_N.f32 and times torch.linalg.eigh in float64 (the precision
ours works in) and float32; for every line `polar MxN ms cpu_ms …` it reads OUTDIR/P_MxN.f32 and times the polar factor
as bench/merge/torch_merge.py takes it (torch.linalg.svd, float32, thin, then U @ Vh). 2 threads, fastest of 5.
Prints: kind shape torch_ms ours_ms speed-up (torch/ours), and the same for process CPU time.
"""
import sys
import time

import numpy as np
import torch

torch.set_num_threads(2)
out_dir, lines_file = sys.argv[1], sys.argv[2]


def best_of(run, reps=5):
    run()
    best = best_cpu = float("inf")
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        run()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best * 1e3, best_cpu * 1e3


print("kind shape torch_ms ours_ms speedup torch_cpu_ms ours_cpu_ms cpu_speedup")
for line in open(lines_file):
    f = line.split()
    if not f or f[0] not in ("eigen", "polar"):
        continue
    ours, ours_cpu = float(f[2]), float(f[3])
    if f[0] == "eigen":
        n = int(f[1])
        a = torch.from_numpy(np.fromfile(f"{out_dir}/S_{n}.f32", dtype="<f4").reshape(n, n))
        cases = [("eigh-f64", a.double(), lambda x: torch.linalg.eigh(x)),
                 ("eigh-f32", a, lambda x: torch.linalg.eigh(x))]
    else:
        m, n = map(int, f[1].split("x"))
        a = torch.from_numpy(np.fromfile(f"{out_dir}/P_{m}x{n}.f32", dtype="<f4").reshape(m, n))

        def polar(x):
            u, _, vh = torch.linalg.svd(x, full_matrices=False)
            return u @ vh
        cases = [("polar-svd-f32", a, polar)]
    solver = line[line.index("(") + 1:line.rindex(")")].replace(" ", "-") if "(" in line else ""  # which of ours
    for name, x, run in cases:
        ms, cpu = best_of(lambda: run(x))
        print(f"{name} {f[1]} {ms:.1f} {ours:.1f} {ms / ours:.2f}x {cpu:.1f} {ours_cpu:.1f} {cpu / ours_cpu:.2f}x {solver}".rstrip(), flush=True)
