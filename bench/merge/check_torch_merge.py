"""Self-check of the PyTorch reference (torch_merge.py) against a direct float64 numpy transcription
of docs/methods/{task-arithmetic,ties,emr,cart}.md on a tiny family (whole-model arrays, no per-tensor streaming). Exits 1
on a mismatch. Run: PYENV_VERSION=system python3 bench/merge/check_torch_merge.py

The family is built so the rare paths run: task 1 equals −task 0 at a few large entries, so
TIES sees exact zero sums among kept entries (majority-sign fix-up), and one tensor is tiny.
"""
import os
import sys
import tempfile

import numpy as np
import torch

import torch_merge
from safetensors_io import open_tensors

SHAPES = {
    "vision_model.encoder.layers.0.mlp.fc1.weight": (24, 10),       # CART block matrix, r = ⌊0.12·10⌋ = 1
    "vision_model.encoder.layers.0.self_attn.q_proj.weight": (40, 30),  # r = ⌊0.12·30⌋ = 3
    "vision_model.encoder.layers.0.self_attn.q_proj.bias": (30,),
    "vision_model.post_layernorm.weight": (7,),
    "visual_projection.weight": (5, 6),                              # 2-D but outside the blocks: θavg
}
TASKS = 3


def make_family(rng):
    base = {n: rng.normal(0, 0.02, s).astype(np.float32) for n, s in SHAPES.items()}
    taus = [{n: (rng.laplace(0, 1e-3, s) * (1 + t)).astype(np.float32) for n, s in SHAPES.items()} for t in range(TASKS)]
    tied = "vision_model.encoder.layers.0.self_attn.q_proj.weight"
    taus[0][tied][0, :4] = np.float32(0.05)   # tasks 0 and 1 cancel exactly on entries
    taus[1][tied][0, :4] = np.float32(-0.05)  # large enough to survive the trim
    taus[2][tied][0, :4] = 0
    base[tied][0, :4] = 0                     # so θt − θ0 is exactly ±0.05 in float32
    thetas = [{n: base[n] + tau[n] for n in SHAPES} for tau in taus]
    return base, thetas


def flat(d):
    return np.concatenate([d[n].astype(np.float64).ravel() for n in SHAPES])


def flat_tau(theta, base):
    """τ = θt − θ0 rounded to float32 as both implementations compute it, then widened."""
    return np.concatenate([(theta[n] - base[n]).astype(np.float64).ravel() for n in SHAPES])


def unflat(v):
    out, o = {}, 0
    for n, s in SHAPES.items():
        k = int(np.prod(s))
        out[n] = v[o:o + k].reshape(s)
        o += k
    return out


def expected(method, base, thetas):
    b = flat(base)
    tau = np.stack([flat_tau(t, base) for t in thetas])  # (T, N)
    if method == "ta":
        return {"model.safetensors": unflat(b + 0.3 * tau.sum(0))}
    if method == "ties":
        n = tau.shape[1]
        k = n - int(0.2 * n)
        thr = np.sort(np.abs(tau), axis=1)[:, k - 1:k]
        trimmed = tau * (np.abs(tau) >= thr)
        gamma = np.sign(trimmed.sum(0))
        gamma[gamma == 0] = np.sign(gamma.sum())
        agree = np.sign(trimmed) == gamma
        merged = (trimmed * agree).sum(0) / np.maximum(agree.sum(0), 1)
        return {"model.safetensors": unflat(b + merged)}
    if method == "emr":
        eps = np.where(tau.sum(0) > 0, 1.0, -1.0)
        masks = tau * eps > 0
        uni = eps * (np.abs(tau) * masks).max(0)
        gamma = np.abs(tau).sum(1) / (masks * np.abs(uni)).sum(1)
        return {"model.safetensors": unflat(b + uni), "tasks/task0.safetensors": unflat(b + gamma[0] * masks[0] * uni)}
    avg = {n: base[n].astype(np.float64) + np.mean([t[n] - base[n] for t in thetas], axis=0) for n in SHAPES}
    out = {}
    for n, a in avg.items():
        if n.startswith("vision_model.encoder") and n.endswith("weight"):
            r = int(0.12 * min(a.shape))
            acc = np.zeros_like(a)
            for t in thetas:
                u, s, vh = np.linalg.svd(t[n].astype(np.float64) - a, full_matrices=False)
                acc += (u[:, :r] * s[:r]) @ vh[:r]
            out[n] = a + 2.0 * acc
        else:
            out[n] = a
    return {"model.safetensors": out}


def main():
    base, thetas = make_family(np.random.default_rng(7))
    tb = {n: torch.from_numpy(base[n]) for n in SHAPES}
    tt = [{n: torch.from_numpy(t[n]) for n in SHAPES} for t in thetas]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        for method in ("ta", "ties", "emr", "cart"):
            out = os.path.join(tmp, method)
            os.makedirs(out)
            if method == "ta":
                torch_merge.task_arithmetic(tb, tt, out, 0.3)
            elif method == "ties":
                info = torch_merge.ties(tb, tt, out, 0.2, 1.0)
                if info["tied_elements"] < 4:
                    print(f"ties: expected >= 4 tied elements, got {info['tied_elements']}")
                    failures += 1
            elif method == "emr":
                torch_merge.emr(tb, tt, out, 0)
            else:
                torch_merge.cart(tb, tt, out, 0.12, 2.0)
            for file, want in expected(method, base, thetas).items():
                got = open_tensors(os.path.join(out, file), "r")
                worst = max(float(np.max(np.abs(got[n] - want[n]))) for n in SHAPES)
                status = "ok" if worst < 2e-6 else "MISMATCH"
                failures += status != "ok"
                print(f"{method:5s} {file:24s} max|torch - numpy float64| = {worst:.2e}  {status}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
