#!/usr/bin/env python3
"""Reference merges for LiNeS (Wang et al. 2025, arXiv:2410.17146), written from the paper's definition independently
of the C# code: θ = θ0 + λ(ℓ)·τm with λ(ℓ) = α + β·ℓ/(L − 1) for a tensor of block ℓ of L, α outside the blocks, and by
default α = (‖Σt τt‖ / ‖τm‖) / T over the whole model; τm is task arithmetic's Σt wt τt, TIES's disjoint mean of the
globally trimmed, sign-elected task vectors, or consensus merging's Σt τt kept where k task masks agree.

Run with Debian's torch:  PYENV_VERSION=system python3 tools/make_lines_fixtures.py
Writes tests/MLNetMerge.Tests/Fixtures/lines/ in the layout of tools/make_methods2_fixtures.py (base, t1..t3,
expected/<case>.safetensors, cases.json): a seeded family of three blocks plus an embedding and a final norm, merged in
float64.
"""
import os

import torch

from make_methods2_fixtures import write_cases

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "MLNetMerge.Tests", "Fixtures", "lines")
TASKS = ["t1", "t2", "t3"]
SHAPES = {"embed.weight": (10, 6)}
for block in range(3):
    SHAPES[f"blocks.{block}.attn.weight"] = (6, 6)
    SHAPES[f"blocks.{block}.mlp.weight"] = (12, 6)
    SHAPES[f"blocks.{block}.mlp.bias"] = (12,)
SHAPES["final_norm.weight"] = (6,)
BLOCKS = 3


def family():
    g = torch.Generator().manual_seed(24101)
    base = {n: (torch.randn(s, generator=g) * 0.5).to(torch.float32) for n, s in SHAPES.items()}
    shared = {n: torch.randn(s, generator=g) * 0.04 for n, s in SHAPES.items()}
    tasks = [{n: (base[n] + shared[n] + torch.randn(s, generator=g) * 0.03).to(torch.float32) for n, s in SHAPES.items()}
             for _ in TASKS]
    return base, tasks


def block_of(name):
    parts = name.split(".")
    return int(parts[1]) if parts[0] == "blocks" else -1


def ties_vector(base, tasks, keep):
    """Global trim per task (keep |τ| ≥ its (⌊keep·N⌋ + 1)-th largest magnitude over the model), elected sign
    γ = sign(Σ τ̂t), disjoint mean of the τ̂t whose sign is γ."""
    names = list(base)
    taus = [{n: t[n] - base[n] for n in names} for t in tasks]
    trimmed = []
    for tau in taus:
        flat = torch.cat([tau[n].flatten().abs() for n in names])
        rank = int(keep * flat.numel()) + 1
        limit = torch.topk(flat, rank).values[-1]
        trimmed.append({n: tau[n] * (tau[n].abs() >= limit) for n in names})
    merged = {}
    for n in names:
        stack = torch.stack([t[n] for t in trimmed])
        elected = torch.sign(stack.sum(0))
        assert not bool(((elected == 0) & (stack != 0).any(0)).any()), "a tie at zero: pick another seed"
        agree = (torch.sign(stack) == elected) & (elected != 0)
        merged[n] = (stack * agree).sum(0) / agree.sum(0).clamp(min=1)
    return merged


def consensus_vector(base, tasks, kappa, k):
    """Σt τt where at least k task masks |τt| ≥ κ |Σ τ − τt| hold, else 0."""
    merged = {}
    for n in base:
        taus = [t[n] - base[n] for t in tasks]
        total = sum(taus)
        votes = sum((tau.abs() >= kappa * (total - tau).abs()).double() for tau in taus)
        merged[n] = total * (votes >= k)
    return merged


def lines(base, tasks, merge="ta", beta=0.5, alpha=None, weights=None, keep=0.2, kappa=0.4, k=2):
    names = list(base)
    weights = weights or [1.0] * len(tasks)
    if merge == "ta":
        tau_m = {n: sum(w * (t[n] - base[n]) for w, t in zip(weights, tasks)) for n in names}
    elif merge == "ties":
        tau_m = ties_vector(base, tasks, keep)
    else:
        tau_m = consensus_vector(base, tasks, kappa, k)
    if alpha is None:
        summed = torch.sqrt(sum((sum(t[n] - base[n] for t in tasks) ** 2).sum() for n in names))
        norm_m = torch.sqrt(sum((tau_m[n] ** 2).sum() for n in names))
        alpha = float(summed / norm_m) / len(tasks)
    out = {}
    for n in names:
        layer = block_of(n)
        scale = alpha + beta * layer / (BLOCKS - 1) if layer >= 0 else alpha
        out[n] = base[n] + scale * tau_m[n]
    return out


def main():
    base, tasks = family()
    count = write_cases(OUT, "lines", base, TASKS, tasks, [
        ("lines_ta", {}, {}, {}),
        ("lines_ta_weighted", {"beta": 0.8, "weights": [1.0, 0.5, 2.0]}, {"beta": 0.8}, {"t2": {"weight": 0.5}, "t3": {"weight": 2.0}}),
        ("lines_ta_alpha", {"beta": 0.2, "alpha": 0.4}, {"beta": 0.2, "alpha": 0.4}, {}),
        ("lines_ties", {"merge": "ties", "beta": 0.6, "keep": 0.3}, {"merge": "ties", "beta": 0.6, "keep": 0.3}, {}),
        ("lines_consensus", {"merge": "consensus", "beta": 0.4, "kappa": 0.3, "k": 2},
         {"merge": "consensus", "beta": 0.4, "kappa": 0.3, "k": 2}, {}),
    ], lines)
    print(f"wrote {count} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
