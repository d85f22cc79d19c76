#!/usr/bin/env python3
"""Reference merges for TATR, task arithmetic in a trust region (Sun, Li, Wang, Geng and Li 2025, arXiv:2501.15065), its
data-free variant, written from the paper and the authors' released formulation independently of the C# code, in
float64 over the whole model flattened into one vector per task (N elements):

  Ω  = Σ_{i≠j} |τi| ⊙ |τj|            (|τi| standing in for task i's loss gradient at θ0)
  q  = the ascending min(max(⌊N·quantile⌋, 0), N − 1)-th of Ω
  θ  = θ0 + λ Σt wt τt ⊙ [Ω < q]           (merge: ta; merge: ties runs TIES on the masked τt, λ 1 by default)

Run with Debian's torch:  PYENV_VERSION=system python3 tools/make_tatr_fixtures.py
Writes tests/MLNetMerge.Tests/Fixtures/tatr/ in the layout of tools/make_methods2_fixtures.py (base, t1..t3,
expected/<case>.safetensors, cases.json) on the family of tools/make_lines_fixtures.py.
"""
import os

import torch

from make_lines_fixtures import TASKS, family, ties_vector
from make_methods2_fixtures import write_cases

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "MLNetMerge.Tests", "Fixtures", "tatr")


def tatr(base, tasks, quantile=0.99, scale=0.3, merge="ta", weights=None, keep=0.2):
    """merge: ta → Σt wt (τt ⊙ mask); ties → TIES (global trim at keep, elected sign, disjoint mean) of the masked τt."""
    names = list(base)
    taus = [torch.cat([(t[n] - base[n]).flatten() for n in names]) for t in tasks]
    omega = torch.zeros_like(taus[0])
    for i, a in enumerate(taus):
        for j, b in enumerate(taus):
            if i != j:
                omega += a.abs() * b.abs()
    n = omega.numel()
    q = torch.sort(omega).values[max(0, min(int(n * quantile), n - 1))]
    mask = omega < q
    masked = [tau * mask for tau in taus]
    if merge == "ta":
        weights = weights or [1.0] * len(tasks)
        merged = sum(w * tau for w, tau in zip(weights, masked))
    else:
        split = []
        for tau in masked:
            parts, at = {}, 0
            for name in names:
                k = base[name].numel()
                parts[name] = base[name] + tau[at:at + k].reshape(base[name].shape)
                at += k
            split.append(parts)
        vector = ties_vector(base, split, keep)
        merged = torch.cat([vector[name].flatten() for name in names])
    out, at = {}, 0
    for name in names:
        k = base[name].numel()
        out[name] = base[name] + scale * merged[at:at + k].reshape(base[name].shape)
        at += k
    return out


def main():
    base, tasks = family()
    count = write_cases(OUT, "tatr", base, TASKS, tasks, [
        ("tatr_default", {}, {}, {}),
        ("tatr_quantile_scale", {"quantile": 0.7, "scale": 1.0}, {"quantile": 0.7, "scale": 1.0}, {}),
        ("tatr_half", {"quantile": 0.5, "scale": 0.5}, {"threshold_quantile": 0.5, "scale": 0.5}, {}),
        ("tatr_all_but_top", {"quantile": 1.0}, {"quantile": 1.0}, {}),
        ("tatr_none", {"quantile": 0.0}, {"quantile": 0.0}, {}),
        ("tatr_ties", {"quantile": 0.8, "scale": 1.0, "merge": "ties", "keep": 0.3}, {"quantile": 0.8, "merge": "ties", "keep": 0.3}, {}),
        ("tatr_weighted", {"quantile": 0.9, "weights": [1.0, 0.5, 2.0]}, {"quantile": 0.9}, {"t2": {"weight": 0.5}, "t3": {"weight": 2.0}}),
    ], tatr)
    print(f"wrote {count} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
