#!/usr/bin/env python3
"""Reference merges for the round-2 methods (TSV-M, ISO-C, ISO-CTS, WUDI and mergekit's nuslerp, multislerp,
karcher, sce, breadcrumbs_ties), written independently of the C# code from the papers' and mergekit's definitions.

Run with Debian's torch:  PYENV_VERSION=system python3 tools/make_methods2_fixtures.py
Writes tests/MLNetMerge.Tests/Fixtures/methods2/: base.safetensors, t1..t3.safetensors (a seeded family whose task
vectors are a low-rank part plus noise), expected/<case>.safetensors (each case's merged tensors) and cases.json (for
each case: method, recipe parameters, per-model parameters, the tasks it merges, the tolerance).

Subspace methods run in float64 with exact SVDs (torch.linalg.svd), so the dumps carry no float32 rounding of their
own; WUDI runs as the authors' code does (float32 autograd of the loss, torch.optim.Adam).
"""
import json
import math
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "MLNetMerge.Tests", "Fixtures", "methods2")
TASKS = ["t1", "t2", "t3"]
SHAPES = {
    "blocks.0.attn.weight": (24, 16),
    "blocks.0.mlp.weight": (12, 30),
    "blocks.0.mlp.bias": (12,),
    "blocks.0.norm.weight": (16,),
    "embed.weight": (20, 8),
    "pos": (1, 5, 8),
}


def write_safetensors(path, tensors):
    """safetensors by hand: u64 little-endian header length, JSON header (dtype, shape, data_offsets), F32 bytes."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def write_family(out, base, names, tasks):
    """out/base.safetensors and out/<name>.safetensors per task, with out/expected/ made for the cases."""
    os.makedirs(os.path.join(out, "expected"), exist_ok=True)
    write_safetensors(os.path.join(out, "base.safetensors"), base)
    for name, theta in zip(names, tasks):
        write_safetensors(os.path.join(out, f"{name}.safetensors"), theta)


def write_cases(out, method, base, names, tasks, specs, reference, rtol=2e-5):
    """A fixture folder: the family (write_family), then per spec (case name, reference keyword arguments, recipe
    parameters, per-model parameters) expected/<case>.safetensors from reference(base, tasks, **kwargs) in float64, and
    cases.json. Returns the number of cases."""
    write_family(out, base, names, tasks)
    b64 = {n: t.double() for n, t in base.items()}
    t64 = [{n: x.double() for n, x in t.items()} for t in tasks]
    cases = []
    for name, kwargs, parameters, per_model in specs:
        write_safetensors(os.path.join(out, "expected", f"{name}.safetensors"), reference(b64, t64, **kwargs))
        cases.append({"name": name, "method": method, "parameters": parameters, "per_model": per_model,
                      "tasks": list(names), "rtol": rtol})
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    return len(cases)


def family():
    g = torch.Generator().manual_seed(20250)
    base = {n: torch.randn(s, generator=g) * 0.5 for n, s in SHAPES.items()}
    shared = {n: torch.randn(s, generator=g) * 0.05 for n, s in SHAPES.items()}
    tasks = []
    for _ in TASKS:
        theta = {}
        for n, s in SHAPES.items():
            tau = shared[n] + torch.randn(s, generator=g) * 0.02
            if len(s) == 2:  # a rank-3 part per task, so the matrices have structure beyond noise
                tau = tau + (torch.randn(s[0], 3, generator=g) @ torch.randn(3, s[1], generator=g)) * 0.08
            theta[n] = (base[n] + tau).to(torch.float32)
        tasks.append(theta)
    return base, tasks


def polar(x):
    u, _, vh = torch.linalg.svd(x, full_matrices=False)
    return u @ vh


def task_vectors(base, tasks, name, weights=None):
    taus = [t[name].double() - base[name].double() for t in tasks]
    return [tau * (weights[i] if weights else 1.0) for i, tau in enumerate(taus)]


def is_matrix(name, rule):
    shape = SHAPES[name]
    if rule == "blocks":
        return len(shape) == 2 and ".0." in name and "norm" not in name and "embed" not in name
    return len(shape) == 2


def tsv_m(base, tasks, scale=1.0, weights=None, rule="all_2d"):
    """Per matrix: top ⌊r/T⌋ triplets of each τt side by side, U and Vᵀ replaced by their polar factors."""
    out = {}
    for name in SHAPES:
        taus = task_vectors(base, tasks, name, weights)
        if not is_matrix(name, rule):
            out[name] = base[name].double() + scale * sum(taus) / len(taus)
            continue
        r = min(taus[0].shape)
        k = r // len(taus)
        us, ss, vs = [], [], []
        for tau in taus:
            u, s, vh = torch.linalg.svd(tau, full_matrices=False)
            us.append(u[:, :k]), ss.append(s[:k]), vs.append(vh[:k])
        x, s, y = torch.cat(us, 1), torch.cat(ss), torch.cat(vs, 0)
        out[name] = base[name].double() + scale * polar(x) @ torch.diag(s) @ polar(y)
    return out


def iso_c(base, tasks, scale=1.0):
    """Per matrix: σ̄ · polar(Σ τt); other tensors: mean τ."""
    out = {}
    for name in SHAPES:
        taus = task_vectors(base, tasks, name)
        if not is_matrix(name, "all_2d"):
            out[name] = base[name].double() + scale * sum(taus) / len(taus)
            continue
        total = sum(taus)
        u, s, vh = torch.linalg.svd(total, full_matrices=False)
        out[name] = base[name].double() + scale * s.mean() * (u @ vh)
    return out


def iso_cts(base, tasks, scale=1.0, fraction=0.8):
    """Common top-k of Σ τ, each task's top (r − k)/T outside the common left subspace, polar factors, mean σ."""
    out = {}
    count = len(tasks)
    for name in SHAPES:
        taus = task_vectors(base, tasks, name)
        if not is_matrix(name, "all_2d"):
            out[name] = base[name].double() + scale * sum(taus) / count
            continue
        r = min(taus[0].shape)
        k = int(fraction * r)
        task_part = round((r - k) / count) * count  # Python's round: halves to even
        while task_part > r:
            task_part -= count
        k = r - task_part
        per = task_part // count
        u, s, vh = torch.linalg.svd(sum(taus), full_matrices=False)
        uk = u[:, :k]
        us, ss, vs = [], [], []
        for tau in taus:
            w = tau - uk @ (uk.T @ tau)
            ut, st, vt = torch.linalg.svd(w, full_matrices=False)
            us.append(ut[:, :per]), ss.append(st[:per]), vs.append(vt[:per])
        x = torch.cat(us + [uk], 1)
        sig = torch.cat(ss + [s[:k]])
        y = torch.cat(vs + [vh[:k]], 0)
        out[name] = base[name].double() + scale * sig.mean() * polar(x) @ polar(y)
    return out


def wudi(base, tasks, iterations, lr):
    """The authors' optimisation: τ = Σ τt as a parameter, Adam on Σ ‖(τ − τt) τtᵀ‖² / ‖τt‖², float32 autograd."""
    out = {}
    for name in SHAPES:
        taus = torch.stack([t[name] - base[name] for t in tasks])  # (T, …) float32
        if len(SHAPES[name]) != 2:
            out[name] = base[name] + taus.mean(0)
            continue
        merged = torch.nn.Parameter(taus.sum(0).clone())
        opt = torch.optim.Adam([merged], lr=lr, weight_decay=0)
        norms = torch.square(torch.norm(taus.reshape(taus.shape[0], -1), p=2, dim=-1))
        for _ in range(iterations):
            product = torch.matmul(merged.unsqueeze(0) - taus, taus.transpose(1, 2))
            loss = torch.sum(torch.square(product) / norms.unsqueeze(-1).unsqueeze(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
        out[name] = base[name] + merged.detach()
    return out


def nuslerp(base, tasks, weights, flatten=True, row_wise=False):
    """mergekit's NuSLERP of two task vectors at t = w2/(w1 + w2)."""
    t = weights[1] / (weights[0] + weights[1])
    out = {}
    for name in SHAPES:
        v0, v1 = (tasks[i][name].double() - base[name].double() for i in range(2))
        shape = v0.shape
        if flatten or len(shape) < 2:
            a, b = v0.reshape(1, -1), v1.reshape(1, -1)
        elif row_wise:
            a, b = v0.transpose(0, -1), v1.transpose(0, -1)
        else:
            a, b = v0, v1
        lead = a.shape
        a, b = a.reshape(-1, lead[-1]), b.reshape(-1, lead[-1])
        ua = a / a.norm(dim=-1, keepdim=True).clamp(min=1e-7)
        ub = b / b.norm(dim=-1, keepdim=True).clamp(min=1e-7)
        omega = torch.acos((ua * ub).sum(-1, keepdim=True).clamp(-1, 1))
        sin = torch.sin(omega)
        res = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / sin
        lin = (sin.abs() < 1e-8).squeeze(-1)
        res[lin] = (1 - t) * a[lin] + t * b[lin]
        res = res.reshape(lead)
        if not flatten and row_wise and len(shape) >= 2:
            res = res.transpose(0, -1)
        out[name] = base[name].double() + res.reshape(shape)
    return out


def multislerp(base, tasks, weights, eps=1e-8):
    """mergekit's Multi-SLERP of the task vectors: weighted mean direction on the sphere at the weighted mean norm."""
    w = torch.tensor(weights, dtype=torch.float64)
    w = w / w.sum()
    out = {}
    for name in SHAPES:
        x = torch.stack([t[name].double().flatten() - base[name].double().flatten() for t in tasks])
        norms = x.norm(dim=-1, keepdim=True)
        units = x / (norms + eps)
        mean = (units * w.view(-1, 1)).sum(0)
        mean = mean / mean.norm()
        tangent = ((units - (units * mean).sum(-1, keepdim=True) * mean) * w.view(-1, 1)).sum(0)
        tn = tangent.norm() + eps
        res = (mean * torch.cos(tn) + tangent * torch.sin(tn) / tn) * (norms.squeeze(-1) * w).sum()
        out[name] = base[name].double() + res.reshape(SHAPES[name])
    return out


def karcher(tasks, max_iter=10, tol=1e-5):
    """mergekit's Karcher mean of the raw weights on the sphere, uniform weights, scaled by the mean norm."""
    out = {}
    for name in SHAPES:
        xs = [t[name].double().flatten() for t in tasks]
        norms = [x.norm().item() for x in xs]
        units = [x / n for x, n in zip(xs, norms)]
        alpha = 1.0 / len(xs)
        mean = sum(alpha * u for u in units)
        mean = mean / mean.norm()
        for _ in range(max_iter):
            tangent = torch.zeros_like(mean)
            for u in units:
                dot = torch.clamp(torch.dot(mean, u), -1.0, 1.0)
                theta = torch.arccos(dot)
                if theta.item() < tol:
                    continue
                tangent += alpha * (theta / torch.sin(theta)) * (u - dot * mean)
            tn = tangent.norm()
            if tn.item() < tol:
                break
            mean = torch.cos(tn) * mean + torch.sin(tn) * (tangent / tn)
            mean = mean / mean.norm()
        out[name] = (sum(norms) / len(norms) * mean).reshape(SHAPES[name])
    return out


def sce(base, tasks, select_topk):
    """mergekit's SCE: variance top-k positions, weights from mean squares, sign election by mass, weighted mean."""
    out = {}
    for name in SHAPES:
        d = torch.stack([t[name].double().flatten() - base[name].double().flatten() for t in tasks])
        if select_topk < 1:
            var = d.var(dim=0, unbiased=False)
            k = int(select_topk * int((var != 0).sum()))
            mask = torch.zeros_like(var)
            if k > 0:
                mask[torch.topk(var, k).indices] = 1
            d = d * mask
        w = (d ** 2).mean(1)
        w = w / w.sum() if w.sum() > 0 else torch.full_like(w, 1 / len(w))
        elected = torch.where(d.sum(0) >= 0, 1.0, -1.0)
        keep = (torch.sign(d) == elected).double() * w.view(-1, 1)
        den = keep.sum(0)
        den[den == 0] = 1
        out[name] = base[name].double() + ((d * keep).sum(0) / den).reshape(SHAPES[name])
    return out


def breadcrumbs_ties(base, tasks, density, gamma, lam=1.0):
    """mergekit's breadcrumbs_ties: drop the γ largest and the smallest magnitudes (density kept), sign election, sum."""
    out = {}
    for name in SHAPES:
        kept = []
        for t in tasks:
            d = t[name].double().flatten() - base[name].double().flatten()
            n = d.numel()
            target, top = int(density * n), int(gamma * n)
            bottom = n - target - top
            if bottom < 0:
                top, bottom = top + bottom, 0
            order = torch.argsort(d.abs())
            mask = torch.zeros_like(d)
            mask[order[bottom:n - top]] = 1
            kept.append(d * mask)
        d = torch.stack(kept)
        elected = torch.where(d.sum(0) >= 0, 1.0, -1.0)
        agree = (torch.sign(d) == elected).double()
        out[name] = base[name].double() + lam * (d * agree).sum(0).reshape(SHAPES[name])
    return out


def main():
    base, tasks = family()
    write_family(OUT, base, TASKS, tasks)
    b32 = {n: t.to(torch.float32) for n, t in base.items()}
    t32 = [{n: x.to(torch.float32) for n, x in t.items()} for t in tasks]
    b64 = {n: t.double() for n, t in b32.items()}
    t64 = [{n: x.double() for n, x in t.items()} for t in t32]
    cases = []

    def case(name, method, result, parameters=None, per_model=None, count=3, rtol=2e-5):
        write_safetensors(os.path.join(OUT, "expected", f"{name}.safetensors"), result)
        cases.append({"name": name, "method": method, "parameters": parameters or {}, "per_model": per_model or {},
                      "tasks": TASKS[:count], "rtol": rtol})

    case("tsv_m", "tsv_m", tsv_m(b64, t64))
    case("tsv_m_weighted_blocks", "tsv_m", tsv_m(b64, t64, scale=0.7, weights=[1.0, 0.5, 2.0], rule="blocks"),
         {"scale": 0.7, "matrices": "blocks"}, {"t2": {"weight": 0.5}, "t3": {"weight": 2.0}})
    case("iso_c", "iso_c", iso_c(b64, t64, scale=1.3), {"scale": 1.3})
    case("iso_cts", "iso_cts", iso_cts(b64, t64))
    case("iso_cts_half", "iso_cts", iso_cts(b64, t64, scale=0.9, fraction=0.5), {"scale": 0.9, "common_space_fraction": 0.5})
    case("wudi", "wudi", wudi(b32, t32, iterations=60, lr=1e-3), {"iterations": 60, "learning_rate": 1e-3}, rtol=2e-4)
    case("nuslerp", "nuslerp", nuslerp(b64, t64, [1.0, 3.0]), {}, {"t1": {"weight": 1.0}, "t2": {"weight": 3.0}}, count=2)
    case("nuslerp_rows", "nuslerp", nuslerp(b64, t64, [1.0, 1.0], flatten=False),
         {"nuslerp_flatten": "false"}, count=2)
    case("nuslerp_columns", "nuslerp", nuslerp(b64, t64, [2.0, 1.0], flatten=False, row_wise=True),
         {"nuslerp_flatten": "false", "nuslerp_row_wise": "true"}, {"t1": {"weight": 2.0}}, count=2)
    case("multislerp", "multislerp", multislerp(b64, t64, [1.0, 2.0, 0.5]), {}, {"t2": {"weight": 2.0}, "t3": {"weight": 0.5}})
    case("karcher", "karcher", karcher(t64))
    case("sce", "sce", sce(b64, t64, 0.6), {"select_topk": 0.6})
    case("breadcrumbs_ties", "breadcrumbs_ties", breadcrumbs_ties(b64, t64, 0.8, 0.05),
         {"density": 0.8, "gamma": 0.05})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
