#!/usr/bin/env python3
"""Reference merges for mergekit's two one-model methods, nearswap and arcee_fusion, written from mergekit's
definitions independently of the C# code:

  nearswap (t):   w = clamp(t / |θ0 − θ1|, 0, 1), NaN and ±∞ → 1;   θ = w·θ1 + (1 − w)·θ0          (float32, in that order)
  arcee_fusion:   per row (last dimension) KL = Σ p log(p/q), p = softmax(θ1) + 1e-8, q = softmax(θ0) + 1e-8;
                  s = |θ1 − θ0|·KL;  fence = Q2 + 1.5·(Q3 − Q1), Qk the ascending s at ⌊k/4·(N − 1)⌋;
                  θ = θ0 + (θ1 − θ0)·[s ≥ fence]                                                     (float64)

Run with Debian's torch:  PYENV_VERSION=system python3 tools/make_mergekit_extra_fixtures.py
Writes tests/MLNetMerge.Tests/Fixtures/mergekit_extra/ in the layout of tools/make_methods2_fixtures.py (base, t1,
expected/<case>.safetensors, cases.json) on that script's family (its first task), and checks that no importance lies
within 1e-4 (relative) of its tensor's fence, so float32 rounding cannot move an element across it.
"""
import json
import os

import torch

from make_methods2_fixtures import family, write_family, write_safetensors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "MLNetMerge.Tests", "Fixtures", "mergekit_extra")


def nearswap(base, tasks, t):
    out = {}
    for name, b in base.items():
        v0, v1 = b.float(), tasks[0][name].float()
        w = torch.tensor(t, dtype=torch.float32) / (v0 - v1).abs()
        w = torch.nan_to_num(w, nan=1.0, posinf=1.0, neginf=1.0).clamp(0.0, 1.0)
        out[name] = w * v1 + (1 - w) * v0
    return out


def importance(v0, v1):
    p = torch.softmax(v1, dim=-1) + 1e-8
    q = torch.softmax(v0, dim=-1) + 1e-8
    kl = (p * torch.log(p / q)).sum(-1)
    return (v1 - v0).abs() * kl.unsqueeze(-1)


def fence(s):
    flat = torch.sort(s.flatten()).values
    n = flat.numel()
    q1, q2, q3 = (flat[(k * (n - 1)) // 4] for k in (1, 2, 3))
    return q2 + 1.5 * (q3 - q1)


def arcee_fusion(base, tasks):
    out = {}
    for name, b in base.items():
        v0, v1 = b.double(), tasks[0][name].double()
        s = importance(v0, v1)
        f = fence(s)
        margin = ((s - f).abs() / f.abs().clamp_min(1e-30)).min().item()
        assert margin > 1e-4, f"{name}: an importance lies within {margin:.2e} of the fence: pick another family"
        kept = (s >= f).sum().item()
        print(f"  arcee_fusion {name}: fence {f.item():.4e}, {kept} of {s.numel()} kept, closest relative margin {margin:.2e}")
        out[name] = v0 + (v1 - v0) * (s >= f).double()
    return out


def main():
    base, tasks = family()
    b32 = {n: t.to(torch.float32) for n, t in base.items()}
    t32 = [{n: x.to(torch.float32) for n, x in tasks[0].items()}]
    write_family(OUT, b32, ["t1"], t32)
    total = sum(x.numel() for x in b32.values())
    for t in (0.05, 1e-4):
        within = sum(((t32[0][n] - b32[n]).abs() <= t).sum().item() for n in b32)
        print(f"  nearswap t={t}: {within} of {total} elements within t")
    b64 = {n: t.double() for n, t in b32.items()}
    t64 = [{n: x.double() for n, x in t32[0].items()}]
    cases = []
    for name, method, result, parameters in [
        ("nearswap_default", "nearswap", nearswap(b32, t32, 1e-4), {}),
        ("nearswap_t005", "nearswap", nearswap(b32, t32, 0.05), {"t": 0.05}),
        ("nearswap_wide", "nearswap", nearswap(b32, t32, 10.0), {"t": 10.0}),
        ("arcee_fusion", "arcee_fusion", arcee_fusion(b64, t64), {}),
    ]:
        write_safetensors(os.path.join(OUT, "expected", f"{name}.safetensors"), result)
        cases.append({"name": name, "method": method, "parameters": parameters, "per_model": {}, "tasks": ["t1"], "rtol": 2e-5})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
