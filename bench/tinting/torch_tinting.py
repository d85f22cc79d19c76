#!/usr/bin/env python3
"""PyTorch side of the Tinting step benchmark (Debian python3-torch, 2 threads).

  torch_tinting.py make OUT    write the zoo-shaped tiny ViT (θ0), 8 task vectors, 8 heads, a batch of 16 images and the
                               individual model's logits for them, as safetensors
  torch_tinting.py step OUT    time the Tinting step in torch; prints the first loss, the 10th loss and ms per step

One Tinting step (Jung et al. 2024, arXiv:2412.19098; docs/methods/tinting.md), task 0, same weights and batch every time:
  θ = θ0 + Σt clamp(λt, 0, 1) τt   (λ: one coefficient per task and tensor, autograd through the merge)
  z = W0 f_θ(x) + b0; L = CE(z, argmax(individual logits)); backward; Adam(lr 1e-2) on λ and on (W0, b0).
"""
import os
import sys
import time

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tools"))
sys.path.insert(0, os.path.join(here, "..", "engine"))
from make_engine_fixtures import random_params, vit_forward, write_safetensors  # noqa: E402
from torch_engine import load, vit_shapes  # noqa: E402

ZOO = {"model_type": "vit", "hidden_size": 64, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 128,
       "hidden_act": "gelu", "layer_norm_eps": 1e-12, "image_size": 28, "patch_size": 7, "num_channels": 1, "qkv_bias": True}
TASKS, CLASSES, BATCH, STEPS, LR = 8, 10, 16, 30, 1e-2


def make(out):
    os.makedirs(out, exist_ok=True)
    gen = torch.Generator().manual_seed(11)
    shapes = vit_shapes(ZOO, pooler=False)
    write_safetensors(os.path.join(out, "base.safetensors"), random_params(shapes, gen))
    tasks = {}
    for t in range(TASKS):
        for name, shape in shapes:
            tasks[f"task{t}.{name}"] = (0.05 * torch.randn(shape, generator=gen)).float()
        tasks[f"head{t}.weight"] = (0.3 * torch.randn(CLASSES, ZOO["hidden_size"], generator=gen)).float()
        tasks[f"head{t}.bias"] = (0.1 * torch.randn(CLASSES, generator=gen)).float()
    write_safetensors(os.path.join(out, "tasks.safetensors"), tasks)
    batch = {"images": torch.randn(BATCH, 1, 28, 28, generator=gen).float(),
             "individual_logits": (2 * torch.randn(BATCH, CLASSES, generator=gen)).float()}
    write_safetensors(os.path.join(out, "batch.safetensors"), batch)


def step_bench(out, threads=2):
    torch.set_num_threads(threads)
    base = load(os.path.join(out, "base.safetensors"))
    tv = load(os.path.join(out, "tasks.safetensors"))
    data = load(os.path.join(out, "batch.safetensors"))
    names = [n for n, _ in vit_shapes(ZOO, pooler=False)]
    # Per tensor, the task vectors stacked (T, *shape): the merge is one weighted sum per tensor (the fastest torch form
    # we found; a Python loop over tasks is slower).
    stacked = {n: torch.stack([tv[f"task{t}.{n}"] for t in range(TASKS)]) for n in names}
    lam = torch.full((TASKS, len(names)), 0.3, requires_grad=True)
    w = tv["head0.weight"].clone().requires_grad_(True)
    b = tv["head0.bias"].clone().requires_grad_(True)
    x, y = data["images"], data["individual_logits"].argmax(dim=1)
    opt = torch.optim.Adam([lam, w, b], lr=LR, betas=(0.9, 0.999))

    def step():
        opt.zero_grad(set_to_none=False)
        c = lam.clamp(0, 1)
        p = {}
        for l, n in enumerate(names):
            tau = stacked[n]
            p[n] = base[n] + (c[:, l].reshape([TASKS] + [1] * (tau.dim() - 1)) * tau).sum(0)
        _, emb = vit_forward(p, ZOO, x, pooler=False)
        loss = F.cross_entropy(emb @ w.t() + b, y)
        loss.backward()
        opt.step()
        return float(loss)

    losses = [step() for _ in range(10)]
    t0 = time.perf_counter()
    for _ in range(STEPS):
        step()
    s = (time.perf_counter() - t0) / STEPS
    print(f"torch first_loss {losses[0]:.6f} loss10 {losses[9]:.6f} step_ms {s * 1e3:.3f} threads {threads}")


if __name__ == "__main__":
    {"make": lambda: make(sys.argv[2]), "step": lambda: step_bench(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 2)}[sys.argv[1]]()
