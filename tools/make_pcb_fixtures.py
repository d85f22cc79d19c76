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
expected/<case>.safetensors, cases.json) on the family of tools/make_lines_fixtures.py.
"""
import json
import os

import torch

from make_lines_fixtures import TASKS, family
from make_methods2_fixtures import write_family, write_safetensors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "MLNetMerge.Tests", "Fixtures", "pcb")


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


def main():
    base, tasks = family()
    write_family(OUT, base, TASKS, tasks)
    b64 = {n: t.double() for n, t in base.items()}
    t64 = [{n: x.double() for n, x in t.items()} for t in tasks]
    taus = torch.stack([torch.cat([(t[n] - b64[n]).flatten() for n in b64]) for t in t64])
    positive = [(taus[t] * taus.sum(0) > 0).double().mean().item() for t in range(len(t64))]
    cases = []

    def case(name, result, parameters=None, per_model=None, rtol=2e-5):
        write_safetensors(os.path.join(OUT, "expected", f"{name}.safetensors"), result)
        cases.append({"name": name, "method": "pcb", "parameters": parameters or {}, "per_model": per_model or {},
                      "tasks": TASKS, "rtol": rtol})

    case("pcb_default", pcb(b64, t64))
    case("pcb_keep_scale", pcb(b64, t64, keep=0.3, scale=1.0), {"keep": 0.3, "scale": 1.0})
    case("pcb_clip", pcb(b64, t64, keep=0.2, clip=0.05), {"keep": 0.2, "clip": 0.05})
    # More kept than there are positive scores: the threshold is a negative score (the selection's second route).
    assert max(positive) < 0.95, positive
    case("pcb_negative_threshold", pcb(b64, t64, keep=0.95, scale=0.5), {"keep": 0.95, "scale": 0.5})
    case("pcb_per_model_keep", pcb(b64, t64, keep=[0.1, 0.5, 0.97]), {}, {"t2": {"keep": 0.5}, "t3": {"keep": 0.97}})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)} (positive score shares {', '.join(f'{x:.3f}' for x in positive)})")


if __name__ == "__main__":
    main()
