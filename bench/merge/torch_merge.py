"""Reference merge in PyTorch (per tensor), the stack a user would otherwise pick: task
arithmetic, TIES, EMR and CART as docs/methods/{task-arithmetic,ties,emr,cart}.md define them, the round-2
subspace methods TSV-M, ISO-C, ISO-CTS and WUDI as docs/methods/{tsv-m,iso,wudi}.md define them (exact
torch.linalg.svd as FusionBench uses; WUDI with the closed-form gradient 2(τG − B) and torch.optim.Adam), and PCB
merging and TATR as docs/methods/{pcb,tatr}.md define them (their order statistics by kthvalue over the flattened
model).

    PYENV_VERSION=system python3 bench/merge/torch_merge.py --family bench/out/family8 \
        --models 8 --method ties --out bench/out/family8/torch/ties

Inputs are mapped with numpy memmap (torch.from_numpy over the mapped bytes, nothing copied up
front); outputs are written tensor by tensor as safetensors, in our CLI's layout:
  task arithmetic, TIES, CART, TSV-M, ISO-C, ISO-CTS, WUDI, PCB, TATR -> OUT/model.safetensors
  EMR -> OUT/model.safetensors (θ0 + τuni), OUT/modulators.safetensors (packed masks + rescalers),
         OUT/tasks/task0.safetensors (θ0 + γ0 (M0 ⊙ τuni))
torch.set_num_threads(2), no_grad, in-place ops where natural. Prints the wall time of the
method (after imports) and a JSON line with it.
"""
import argparse
import json
import os
import re
import time

import numpy as np
import torch

from safetensors_io import SafetensorsWriter, open_tensors

# Adam steps of the WUDI bench (the method's default is 300; the cost per step is one GEMM, so fewer steps keep the
# run short without changing the ratio). make_family.py writes the same number into our recipe.
WUDI_ITERATIONS = 30

# 2-D weight matrices of the attention and MLP blocks (CART's low-rank targets; the subspace methods run with
# matrices: blocks so both sides decompose the same tensors).
BLOCK_MATRIX = re.compile(r"encoder\.layers\.\d+\.(self_attn\.(q|k|v|out)_proj|mlp\.fc[12])\.weight$")


def load(path):
    return {name: torch.from_numpy(view) for name, view in open_tensors(path).items()}


def f32_specs(reference):
    return [(name, "F32", list(t.shape)) for name, t in reference.items()]


def task_arithmetic(base, tasks, out, scale):
    """θ = θ0 + λ Σt (θt − θ0)."""
    with SafetensorsWriter(os.path.join(out, "model.safetensors"), f32_specs(base)) as w:
        for name, theta0 in base.items():
            acc = torch.zeros_like(theta0)
            for task in tasks:
                acc.add_(task[name]).sub_(theta0)
            acc.mul_(scale).add_(theta0)
            w.write(name, acc)


def ties_thresholds(base, tasks, keep):
    """Per task, the global magnitude threshold over the whole flattened task vector:
    the (N − int(keep·N))-th smallest |τt| (kthvalue, 1-indexed), kept where |τt| ≥ it."""
    count = sum(t.numel() for t in base.values())
    flat = torch.empty(count, dtype=torch.float32)  # (N,) |τt| of one task at a time
    thresholds = []
    for task in tasks:
        offset = 0
        for name, theta0 in base.items():
            n = theta0.numel()
            torch.sub(task[name], theta0, out=flat[offset:offset + n].view(theta0.shape))
            offset += n
        flat.abs_()
        k = count - int(keep * count)
        thresholds.append(flat.kthvalue(k).values.item())
    return thresholds


def trimmed_stack(base, tasks, thresholds, name):
    theta0 = base[name]
    tau = torch.stack([task[name] for task in tasks])  # (T, *shape)
    tau.sub_(theta0)
    limit = torch.tensor(thresholds, dtype=torch.float32).view(-1, *([1] * theta0.dim()))
    tau.mul_(tau.abs() >= limit)
    return tau


def ties(base, tasks, out, keep, scale):
    """Trim (global top-keep per task), elect γ = sign(Σ τ̂t) (majority sign of the model where
    the sum is 0), disjoint mean of the τ̂t whose sign equals γ, θ = θ0 + λ τm."""
    thresholds = ties_thresholds(base, tasks, keep)
    sign_total = 0
    pending = []  # (name, flat indices, (T, k) trimmed columns) where Σ τ̂t == 0 but some τ̂t != 0
    with SafetensorsWriter(os.path.join(out, "model.safetensors"), f32_specs(base)) as w:
        for name, theta0 in base.items():
            trimmed = trimmed_stack(base, tasks, thresholds, name)  # (T, *shape)
            total = trimmed.sum(0)
            elected = torch.sign(total)
            sign_total += int(elected.sum().item())
            agree = torch.sign(trimmed) == elected
            agree &= elected != 0
            merged = (trimmed * agree).sum(0).div_(agree.sum(0).clamp_(min=1))
            tied = ((total == 0) & (trimmed != 0).any(0)).flatten().nonzero().flatten()
            if tied.numel() > 0:
                pending.append((name, tied, trimmed.flatten(1)[:, tied].clone()))
            w.write(name, merged.mul_(scale).add_(theta0))
        majority = float(np.sign(sign_total))
        for name, tied, columns in pending:
            agree = torch.sign(columns) == majority
            values = (columns * agree).sum(0) / agree.sum(0).clamp(min=1)
            w.patch(name, tied.numpy(), (base[name].flatten()[tied] + scale * values).numpy())
    return {"thresholds": thresholds, "majority_sign": majority, "tied_elements": sum(len(p[1]) for p in pending)}


def emr(base, tasks, out, materialize=0):
    """ε = sign(Σ τt) (+1 where > 0, else −1); Mt = [τt ⊙ ε > 0]; τuni = ε ⊙ maxt |Mt ⊙ τt|;
    γt = Σ|τt| / Σ|Mt ⊙ τuni| over the model (float64). Writes θ0 + τuni, the packed masks
    (`masks.task{t}.{tensor}`, bit j of byte j/8 least significant first) and the rescalers, then
    task `materialize`: θ0 + γ (M ⊙ τuni). τuni is kept in memory between the two passes."""
    count = len(tasks)
    abs_tau = np.zeros(count)
    abs_masked = np.zeros(count)
    mask_specs = [(f"masks.task{t}.{name}", "U8", [(theta0.numel() + 7) // 8])
                  for name, theta0 in base.items() for t in range(count)]
    unified = {}
    with SafetensorsWriter(os.path.join(out, "model.safetensors"), f32_specs(base)) as uw, \
            SafetensorsWriter(os.path.join(out, "modulators.safetensors"),
                              mask_specs + [("rescalers", "F32", [count])]) as mw:
        for name, theta0 in base.items():
            tau = torch.stack([task[name] for task in tasks])  # (T, *shape)
            tau.sub_(theta0)
            elected = torch.where(tau.sum(0) > 0, 1.0, -1.0)  # (*shape)
            masks = (tau * elected) > 0  # (T, *shape)
            tau.abs_()
            abs_tau += tau.flatten(1).sum(1, dtype=torch.float64).numpy()
            magnitude = (tau * masks).amax(0)  # (*shape) |τuni|
            abs_masked += (masks * magnitude).flatten(1).sum(1, dtype=torch.float64).numpy()
            unified[name] = magnitude.mul_(elected)  # (*shape) τuni
            uw.write(name, unified[name] + theta0)
            packed = np.packbits(masks.flatten(1).numpy(), axis=1, bitorder="little")  # (T, ceil(n/8))
            for t in range(count):
                mw.write(f"masks.task{t}.{name}", packed[t])
        rescalers = np.where(abs_masked > 0, abs_tau / np.where(abs_masked > 0, abs_masked, 1), 1.0)
        mw.write("rescalers", rescalers.astype(np.float32))

    gamma = float(rescalers[materialize])
    os.makedirs(os.path.join(out, "tasks"), exist_ok=True)
    task = tasks[materialize]
    with SafetensorsWriter(os.path.join(out, "tasks", f"task{materialize}.safetensors"), f32_specs(base)) as w:
        for name, theta0 in base.items():
            uni = unified.pop(name)
            # Mt ⊙ τuni: where τuni != 0, ε = sign(τuni), so Mt = [τt · τuni > 0].
            modulated = (task[name] - theta0).mul_(uni).gt_(0).mul_(uni)
            w.write(name, modulated.mul_(gamma).add_(theta0))
    return {"rescalers": rescalers.tolist()}


def cart(base, tasks, out, rank_ratio, scale):
    """θavg = θ0 + mean τt; ct = θt − θavg; block matrices: θ = θavg + λ Σt lowrank_r(ct) with
    r = ⌊ratio · min(m, n)⌋ (≥ 1 when ratio > 0) by torch.linalg.svd truncation; others: θavg."""
    ranks = {}
    with SafetensorsWriter(os.path.join(out, "model.safetensors"), f32_specs(base)) as w:
        for name, theta0 in base.items():
            tau = torch.stack([task[name] for task in tasks])  # (T, *shape)
            tau.sub_(theta0)
            average = tau.mean(0).add_(theta0)  # (*shape) θavg
            if not BLOCK_MATRIX.search(name):
                w.write(name, average)
                continue
            rank = int(rank_ratio * min(theta0.shape))
            rank = max(rank, 1) if rank_ratio > 0 else 0
            ranks[name] = rank
            acc = torch.zeros_like(theta0)  # (m, n)
            for task in tasks if rank > 0 else []:
                c = task[name] - average  # (m, n) ct
                u, s, vh = torch.linalg.svd(c, full_matrices=False)  # (m, k), (k,), (k, n)
                acc.addmm_(u[:, :rank] * s[:rank], vh[:rank])
            w.write(name, acc.mul_(scale).add_(average))
    return {"ranks": sorted(set(ranks.values()))}


def polar(x):
    """The nearest matrix with orthonormal columns (rows): U Vᵀ of the thin SVD."""
    u, _, vh = torch.linalg.svd(x, full_matrices=False)
    return u @ vh


def svd_or_float64(x):
    """Thin SVD; the projected residuals of ISO-CTS have r − k repeated zero singular values, on which LAPACK's
    float32 gesdd can fail to converge ("too many repeated singular values") — then the SVD is redone in float64."""
    try:
        return torch.linalg.svd(x, full_matrices=False)
    except RuntimeError:
        u, s, vh = torch.linalg.svd(x.double(), full_matrices=False)
        return u.float(), s.float(), vh.float()


def mean_update(theta0, tasks, name, scale):
    """θ0 + λ · mean τ for tensors the subspace methods do not decompose."""
    acc = torch.zeros_like(theta0)
    for task in tasks:
        acc.add_(task[name]).sub_(theta0)
    return acc.mul_(scale / len(tasks)).add_(theta0)


def task_vector_stack(theta0, tasks, name):
    tau = torch.stack([task[name] for task in tasks])  # (T, m, n)
    return tau.sub_(theta0)


def tsv_m(base, tasks, out, scale):
    """Per block matrix: top ⌊r/T⌋ triplets of each τt side by side, U and Vᵀ replaced by their polar factors,
    θ = θ0 + λ polar(U) diag(s) polar(Vᵀ); other tensors θ0 + λ mean τ."""
    with SafetensorsWriter(os.path.join(out, "model.safetensors"), f32_specs(base)) as w:
        for name, theta0 in base.items():
            if not BLOCK_MATRIX.search(name):
                w.write(name, mean_update(theta0, tasks, name, scale))
                continue
            k = min(theta0.shape) // len(tasks)
            us, ss, vs = [], [], []
            for task in tasks:
                u, s, vh = torch.linalg.svd(task[name] - theta0, full_matrices=False)
                us.append(u[:, :k]), ss.append(s[:k]), vs.append(vh[:k])
            x, s, y = torch.cat(us, 1), torch.cat(ss), torch.cat(vs, 0)
            w.write(name, (polar(x) * s) @ polar(y) * scale + theta0)


def iso_c(base, tasks, out, scale):
    """Per block matrix: S = Σ τt, θ = θ0 + λ · mean(σ) · U Vᵀ; other tensors θ0 + λ mean τ."""
    with SafetensorsWriter(os.path.join(out, "model.safetensors"), f32_specs(base)) as w:
        for name, theta0 in base.items():
            if not BLOCK_MATRIX.search(name):
                w.write(name, mean_update(theta0, tasks, name, scale))
                continue
            total = task_vector_stack(theta0, tasks, name).sum(0)
            u, s, vh = torch.linalg.svd(total, full_matrices=False)
            w.write(name, (u @ vh).mul_(scale * s.mean()).add_(theta0))


def iso_cts(base, tasks, out, scale, fraction):
    """Per block matrix: common top-k of S = Σ τt, each task's top (r − k)/T outside the common left subspace,
    stacked, U and Vᵀ replaced by their polar factors, σ by their mean; other tensors θ0 + λ mean τ."""
    count = len(tasks)
    with SafetensorsWriter(os.path.join(out, "model.safetensors"), f32_specs(base)) as w:
        for name, theta0 in base.items():
            if not BLOCK_MATRIX.search(name):
                w.write(name, mean_update(theta0, tasks, name, scale))
                continue
            tau = task_vector_stack(theta0, tasks, name)
            r = min(theta0.shape)
            k0 = int(fraction * r)
            part = round((r - k0) / count) * count
            while part > r:
                part -= count
            k, per = r - part, part // count
            u, s, vh = torch.linalg.svd(tau.sum(0), full_matrices=False)
            uk = u[:, :k]
            us, ss, vs = [], [], []
            for t in range(count):
                ut, st, vt = svd_or_float64(tau[t] - uk @ (uk.T @ tau[t]))
                us.append(ut[:, :per]), ss.append(st[:per]), vs.append(vt[:per])
            sigma = torch.cat(ss + [s[:k]])
            merged = polar(torch.cat(us + [uk], 1)) @ polar(torch.cat(vs + [vh[:k]], 0))
            w.write(name, merged.mul_(scale * sigma.mean()).add_(theta0))


def wudi(base, tasks, out, iterations, lr):
    """Per block matrix: τ from Σ τt, `iterations` Adam steps on Σ ‖(τ − τt) τtᵀ‖² / ‖τt‖² with the gradient
    2(τG − B), G = Σ τtᵀτt/‖τt‖², B = Σ τt τtᵀτt/‖τt‖² (one GEMM per step); θ = θ0 + τ; others θ0 + mean τ."""
    with SafetensorsWriter(os.path.join(out, "model.safetensors"), f32_specs(base)) as w:
        for name, theta0 in base.items():
            if not BLOCK_MATRIX.search(name):
                w.write(name, mean_update(theta0, tasks, name, 1.0))
                continue
            tau = task_vector_stack(theta0, tasks, name)  # (T, m, n)
            gram = torch.zeros(theta0.shape[1], theta0.shape[1])
            b = torch.zeros_like(theta0)
            for t in range(len(tasks)):
                g_t = (tau[t].T @ tau[t]).div_(tau[t].square().sum())
                gram.add_(g_t)
                b.addmm_(tau[t], g_t)
            merged = torch.nn.Parameter(tau.sum(0))
            opt = torch.optim.Adam([merged], lr=lr, weight_decay=0)
            for _ in range(iterations):
                merged.grad = torch.addmm(b, merged.detach(), gram, beta=-2.0, alpha=2.0)
                opt.step()
            w.write(name, merged.detach() + theta0)


def pcb_flat(base, tasks, t, flat):
    """τt of the whole model flattened into flat (N,)."""
    offset = 0
    for name, theta0 in base.items():
        n = theta0.numel()
        torch.sub(tasks[t][name], theta0, out=flat[offset:offset + n].view(theta0.shape))
        offset += n
    return flat


def pcb_score(tau, total, lo, hi, count, out):
    """p = exp(T·s²)·tanh(τ ⊙ Σ τ), s = (clamp(|τ|, lo, hi) − lo) / (hi − lo) (docs/methods/pcb.md)."""
    torch.abs(tau, out=out).clamp_(lo, hi).sub_(lo).div_(hi - lo).square_().mul_(count).exp_()
    return out.mul_(torch.tanh(tau * total))


def pcb(base, tasks, out, keep, scale, clip=1e-4):
    """PCB merging with every order statistic over the whole flattened model per task (kthvalue, 1-indexed):
    clip bounds of |τt| at the ascending ⌊N·c⌋-th and (⌊N(1−c)⌋ − 1)-th, the score cut at the ascending ⌊N(1−keep)⌋-th,
    then θ = θ0 + λ Σt wt ⊙ τ̃t / max(Σt wt, 1e-12) tensor by tensor."""
    count = sum(t.numel() for t in base.values())
    flat = torch.empty(count, dtype=torch.float32)    # (N,) τt
    total = torch.zeros(count, dtype=torch.float32)   # (N,) Σ τt
    work = torch.empty(count, dtype=torch.float32)    # (N,) |τt|, then pt
    for t in range(len(tasks)):
        total.add_(pcb_flat(base, tasks, t, flat))
    bounds, cuts = [], []
    for t in range(len(tasks)):
        tau = pcb_flat(base, tasks, t, flat)
        torch.abs(tau, out=work)
        lo = work.kthvalue(int(count * clip) + 1).values.item()
        hi = work.kthvalue(int(count * (1 - clip))).values.item()
        score = pcb_score(tau, total, lo, hi, len(tasks), work)
        q = score.kthvalue(int(count * (1 - keep)) + 1).values.item()
        bounds.append((lo, hi))
        cuts.append((q, score.max().item()))
    del flat, total, work
    with SafetensorsWriter(os.path.join(out, "model.safetensors"), f32_specs(base)) as w:
        for name, theta0 in base.items():
            taus = [task[name] - theta0 for task in tasks]
            summed = torch.stack(taus).sum(0)
            merged = torch.zeros_like(theta0)
            weights = torch.zeros_like(theta0)
            for tau, (lo, hi), (q, top) in zip(taus, bounds, cuts):
                wt = pcb_score(tau, summed, lo, hi, len(tasks), torch.empty_like(tau))
                wt.clamp_(min=q).sub_(q).div_(top - q)
                weights.add_(wt)
                merged.add_(wt.mul_(torch.sign(tau) * tau.abs().clamp(lo, hi)))
            w.write(name, merged.div_(weights.clamp_(min=1e-12)).mul_(scale).add_(theta0))
    return {"clip_bounds": bounds, "score_cuts": cuts}


def tatr_conflict(base, tasks, name):
    """Ω = Σ_{i≠j} |τi| ⊙ |τj| of one tensor, as 2 Σj |τj| · Σ_{i<j} |τi| (non-negative terms only)."""
    theta0 = base[name]
    prefix = (tasks[0][name] - theta0).abs_()
    omega = torch.zeros_like(theta0)
    for task in tasks[1:]:
        a = (task[name] - theta0).abs_()
        omega.addcmul_(a, prefix)
        prefix.add_(a)
    return omega.mul_(2)


def tatr(base, tasks, out, quantile, scale):
    """TATR, data-free (docs/methods/tatr.md): q the ascending min(max(⌊N·quantile⌋, 0), N − 1)-th Ω over the flattened
    model (kthvalue, 1-indexed), θ = θ0 + λ Σt τt ⊙ [Ω < q]."""
    count = sum(t.numel() for t in base.values())
    flat = torch.empty(count, dtype=torch.float32)  # (N,) Ω
    offset = 0
    for name, theta0 in base.items():
        n = theta0.numel()
        flat[offset:offset + n] = tatr_conflict(base, tasks, name).flatten()
        offset += n
    q = flat.kthvalue(max(0, min(int(count * quantile), count - 1)) + 1).values.item()
    del flat
    with SafetensorsWriter(os.path.join(out, "model.safetensors"), f32_specs(base)) as w:
        for name, theta0 in base.items():
            keep = tatr_conflict(base, tasks, name) < q
            total = torch.zeros_like(theta0)
            for task in tasks:
                total.add_(task[name]).sub_(theta0)
            w.write(name, total.mul_(keep).mul_(scale).add_(theta0))
    return {"threshold": q}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", required=True, help="directory with base.safetensors and task{i}.safetensors")
    parser.add_argument("--models", type=int, required=True)
    parser.add_argument("--method", required=True, choices=["ta", "ties", "emr", "cart", "tsv_m", "iso_c", "iso_cts", "wudi", "pcb", "tatr"])
    parser.add_argument("--out", required=True, help="output directory")
    args = parser.parse_args()
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)

    start = time.perf_counter()
    with torch.no_grad():
        base = load(os.path.join(args.family, "base.safetensors"))
        tasks = [load(os.path.join(args.family, f"task{t}.safetensors")) for t in range(args.models)]
        info = {}
        if args.method == "ta":
            task_arithmetic(base, tasks, args.out, scale=0.3)
        elif args.method == "ties":
            info = ties(base, tasks, args.out, keep=0.2, scale=1.0)
        elif args.method == "emr":
            info = emr(base, tasks, args.out, materialize=0)
        elif args.method == "cart":
            info = cart(base, tasks, args.out, rank_ratio=0.12, scale=2.0)
        elif args.method == "tsv_m":
            tsv_m(base, tasks, args.out, scale=1.0)
        elif args.method == "iso_c":
            iso_c(base, tasks, args.out, scale=1.0)
        elif args.method == "tatr":
            info = tatr(base, tasks, args.out, quantile=0.99, scale=0.3)
        elif args.method == "pcb":
            info = pcb(base, tasks, args.out, keep=0.1, scale=1.0)
        elif args.method == "iso_cts":
            iso_cts(base, tasks, args.out, scale=1.0, fraction=0.8)
        else:
            wudi(base, tasks, args.out, iterations=WUDI_ITERATIONS, lr=1e-5)
    wall = time.perf_counter() - start
    print(f"torch {args.method}: {wall:.2f} s")
    print(json.dumps({"method": args.method, "wall_s": wall, **info}))


if __name__ == "__main__":
    main()
