#!/usr/bin/env python3
"""Reference merges for PCB merging (Du et al. 2024, "Parameter Competition Balancing for Model Merging", NeurIPS,
arXiv:2410.02396), written from the paper and the authors' released formulation independently of the C# code, in
float64 over the whole model flattened into one vector per task (d elements):

  a_t     = clamp(|τt|, lo_t, hi_t), lo_t / hi_t the ascending ⌊d·c⌋-th / (⌊d(1−c)⌋ − 1)-th of |τt|
  s_t     = ((a_t − lo_t) / (hi_t − lo_t))²                     (intra-task competition, min-max over the task vector)
  p_t     = exp(T·s_t) · tanh(τt ⊙ Σk τk)                         (times the inter-task competition)
  w_t     = (max(p_t, q_t) − q_t) / (max p_t − q_t), q_t the ascending ⌊d(1−keep)⌋-th of p_t
  θ       = θ0 + λ · Σt w_t ⊙ sign(τt) a_t / max(Σt w_t, 1e-12)

Run with Debian's torch:  PYENV_VERSION=system python3 tools/make_pcb_fixtures.py
Writes tests/MLNetMerge.Tests/Fixtures/pcb/ in the layout of tools/make_methods2_fixtures.py (base, t1..t3,
expected/<case>.safetensors, cases.json) on the family of tools/make_lines_fixtures.py, and Fixtures/pcb_small/ on the
same family with its task vectors scaled by 1/50 (products τt ⊙ Σ τ of real checkpoints' size).
"""
import os

import torch

from make_lines_fixtures import TASKS, family
from make_methods2_fixtures import write_cases

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "MLNetMerge.Tests", "Fixtures")
OUT = os.path.join(FIXTURES, "pcb")
# The same family with its task vectors scaled by 1/50: τt ⊙ Σ τ of order 1e-7 … 1e-5, as on real checkpoints, where a
# float32 tanh that forms e^{2x} − 1 loses percents of its value and the cut moves.
OUT_SMALL = os.path.join(FIXTURES, "pcb_small")
SMALL = 0.02


def ascending(values, index):
    return torch.sort(values).values[index]


def pcb(base, tasks, keep=0.1, scale=0.3, clip=1e-4):
    names = list(base)
    keeps = keep if isinstance(keep, list) else [keep] * len(tasks)
    taus = torch.stack([torch.cat([(t[n] - base[n]).flatten() for n in names]) for t in tasks])  # (T, d)
    n_tasks, d = taus.shape
    total = taus.sum(0)
    merged = torch.zeros(d, dtype=taus.dtype)
    weights = torch.zeros(d, dtype=taus.dtype)
    for t in range(n_tasks):
        tau = taus[t]
        mags = tau.abs()
        lo = ascending(mags, int(d * clip))
        hi = ascending(mags, int(d * (1 - clip)) - 1)
        a = mags.clamp(lo, hi)
        s = ((a - lo) / (hi - lo)) ** 2 if hi > lo else torch.zeros_like(a)
        p = torch.exp(n_tasks * s) * torch.tanh(tau * total)
        index = int(d * (1 - keeps[t]))
        if index >= d:
            continue
        q = ascending(p, index)
        top = p.max()
        w = (p.clamp(min=q) - q) / (top - q) if top > q else torch.zeros_like(p)
        merged += w * torch.sign(tau) * a
        weights += w
    merged = merged / weights.clamp(min=1e-12)
    out, at = {}, 0
    for n in names:
        k = base[n].numel()
        out[n] = base[n] + scale * merged[at:at + k].reshape(base[n].shape)
        at += k
    return out


def positive_shares(base, tasks):
    """Per task, the share of elements whose score is positive (τt agrees with Σ τ)."""
    taus = torch.stack([torch.cat([(t[n] - base[n]).double().flatten() for n in base]) for t in tasks])
    return [(taus[t] * taus.sum(0) > 0).double().mean().item() for t in range(len(tasks))]


def write(out, base, tasks, specs):
    count = write_cases(out, "pcb", base, TASKS, tasks, specs, pcb)
    positive = positive_shares(base, tasks)
    print(f"wrote {count} cases to {os.path.normpath(out)} (positive score shares {', '.join(f'{x:.3f}' for x in positive)})")
    return positive


def main():
    base, tasks = family()
    positive = write(OUT, base, tasks, [
        ("pcb_default", {}, {}, {}),
        ("pcb_keep_scale", {"keep": 0.3, "scale": 1.0}, {"keep": 0.3, "scale": 1.0}, {}),
        ("pcb_clip", {"keep": 0.2, "clip": 0.05}, {"keep": 0.2, "clip": 0.05}, {}),
        # More kept than there are positive scores: the threshold is a negative score (the selection's second route).
        ("pcb_negative_threshold", {"keep": 0.95, "scale": 0.5}, {"keep": 0.95, "scale": 0.5}, {}),
        ("pcb_per_model_keep", {"keep": [0.1, 0.5, 0.97]}, {}, {"t2": {"keep": 0.5}, "t3": {"keep": 0.97}}),
    ])
    assert max(positive) < 0.95, positive
    small = [{n: (base[n] + SMALL * (t[n] - base[n])).to(torch.float32) for n in base} for t in tasks]
    write(OUT_SMALL, base, small, [
        ("pcb_small_default", {}, {}, {}),
        ("pcb_small_keep", {"keep": 0.4, "scale": 1.0}, {"keep": 0.4, "scale": 1.0}, {}),
    ])


if __name__ == "__main__":
    main()
