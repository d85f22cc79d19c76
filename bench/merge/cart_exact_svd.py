#!/usr/bin/env python3
"""Exact truncated SVDs of CART's centered matrices, the reference `Gemm.Bench cartsvd` measures the randomized SVD against.

    PYENV_VERSION=system python3 bench/merge/cart_exact_svd.py --family bench/out/family8 --models 8 \
        --out bench/out/family8/cart_svd [--layers 0 5 11] [--tasks 0 3 6] [--ratio 0.12] [--task-vectors]

With --task-vectors it writes the task vectors τ_t themselves instead of the centered c_t: the matrices whose top
triplets TSV-M and ISO-CTS keep (with --ratio 0.125, TSV-M's k = min(m, n) / T for T = 8).

For every chosen layer, block matrix (q, k, v, out projections, fc1, fc2) and task t it forms the centered vector
c_t = τ_t − (1/T) Σ_s τ_s in float32 in the order the CLI does (τ_s = θ_s − θ0; the sum from 0 in task order, times
1/T, subtracted), then the exact SVD of c_t in float64 (numpy, LAPACK gesdd) and writes, per matrix, one file
`L{layer}.{kind}.t{task}.f32` of raw little-endian float32 in this order:
  c_t (m, n) | U_r diag(S_r) (m, r) | V_rᵀ (r, n)
and a line of `index.tsv`: file, m, n, r, ‖c_t‖F, ‖c_t − A_r‖F (from the singular values past r, float64).
r = max(1, ⌊ratio·min(m, n)⌋), as CART takes it.
"""
import argparse
import math
import os
import time

import numpy as np

from safetensors_io import open_tensors

KINDS = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj", "out": "self_attn.out_proj",
         "fc1": "mlp.fc1", "fc2": "mlp.fc2"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", required=True)
    ap.add_argument("--models", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, nargs="+", default=[0, 5, 11])
    ap.add_argument("--tasks", type=int, nargs="+", default=[0, 3, 6])
    ap.add_argument("--ratio", type=float, default=0.12)
    ap.add_argument("--task-vectors", action="store_true", help="τ_t instead of the centered c_t (TSV-M's matrices)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    base = open_tensors(os.path.join(a.family, "base.safetensors"))
    tasks = [open_tensors(os.path.join(a.family, f"task{t}.safetensors")) for t in range(a.models)]
    lines = []
    t0 = time.time()
    for layer in a.layers:
        for kind, module in KINDS.items():
            name = f"vision_model.encoder.layers.{layer}.{module}.weight"
            theta0 = np.asarray(base[name], dtype=np.float32)
            taus = [np.asarray(t[name], dtype=np.float32) - theta0 for t in tasks]
            avg = np.zeros_like(theta0)
            for tau in taus:
                avg = avg + tau
            avg = avg * np.float32(1.0 / a.models)
            m, n = theta0.shape
            r = max(1, int(math.floor(a.ratio * min(m, n))))
            for t in a.tasks:
                c = taus[t] if a.task_vectors else taus[t] - avg
                u, s, vt = np.linalg.svd(c.astype(np.float64), full_matrices=False)
                us = (u[:, :r] * s[:r]).astype(np.float32)
                tail = float(np.sqrt(np.sum(s[r:] ** 2)))
                fname = f"L{layer}.{kind}.t{t}.f32"
                with open(os.path.join(a.out, fname), "wb") as f:
                    f.write(np.ascontiguousarray(c, dtype="<f4").tobytes())
                    f.write(np.ascontiguousarray(us, dtype="<f4").tobytes())
                    f.write(np.ascontiguousarray(vt[:r], dtype="<f4").tobytes())
                lines.append(f"{fname}\t{m}\t{n}\t{r}\t{float(np.linalg.norm(s)):.17g}\t{tail:.17g}\t"
                             f"{s[r - 1] / s[r]:.6f}")
    with open(os.path.join(a.out, "index.tsv"), "w") as f:
        f.write("file\tm\tn\tr\tfrobenius\texact_residual\tgap_sr_over_sr1\n")
        f.write("\n".join(lines) + "\n")
    print(f"{len(lines)} matrices in {time.time() - t0:.1f} s -> {a.out}/index.tsv")


if __name__ == "__main__":
    main()
