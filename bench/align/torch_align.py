#!/usr/bin/env python3
"""PyTorch side of the AdaMerging step benchmark (Debian python3-torch 1.13, 2 threads).

  torch_align.py ZOO_DIR [BATCH] [STEPS]

One layer-wise AdaMerging step on the committed vision zoo, as the authors' code does it: per parameter tensor
theta = theta0 + sum_t clamp(lambda_t, 0, 1) * tau_t built inside autograd, for each task the functional ViT
(tools/make_engine_fixtures.vit_forward, no pooler) on its batch, its own head, the mean Shannon entropy; the sum over
tasks is back-propagated to the coefficients, then torch.optim.Adam (lr 1e-3) steps. Same weights and batches as ours
(the first BATCH test images of every task, x = uint8 / 127.5 - 1). Prints the first loss and the time per step.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from make_engine_fixtures import vit_forward  # noqa: E402


def load_safetensors(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        dtype = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[v["dtype"]]
        b, e = v["data_offsets"]
        out[k] = torch.frombuffer(bytearray(blob[b:e]), dtype=dtype).reshape(v["shape"]).float()
    return out


def main():
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    zoo = sys.argv[1]
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    manifest = json.load(open(os.path.join(zoo, "manifest.json")))
    cfg = json.load(open(os.path.join(zoo, manifest["config"])))
    strip = lambda d: {k[4:] if k.startswith("vit.") else k: v for k, v in d.items()}
    base = {k: v for k, v in strip(load_safetensors(os.path.join(zoo, manifest["base"]))).items() if not k.startswith("classifier.")}
    names = list(base.keys())
    taus, heads, xs = [], [], []
    for t in manifest["tasks"]:
        ck = strip(load_safetensors(os.path.join(zoo, t["checkpoint"])))
        taus.append({k: ck[k] - base[k] for k in names})
        heads.append((ck["classifier.weight"], ck["classifier.bias"]))
        img = np.load(os.path.join(zoo, t["test"]["images"]))[:batch].astype(np.float32) / 127.5 - 1.0
        xs.append(torch.from_numpy(img))
    lam = {k: torch.full((len(taus),), 0.3, requires_grad=True) for k in names}
    opt = torch.optim.Adam(list(lam.values()), lr=1e-3)

    def step():
        opt.zero_grad()
        p = {}
        for k in names:
            c = lam[k].clamp(0, 1)
            w = base[k]
            for t, tau in enumerate(taus):
                w = w + c[t] * tau[k]
            p[k] = w
        loss = 0.0
        for (hw, hb), x in zip(heads, xs):
            _, emb = vit_forward(p, cfg, x, pooler=False)
            logp = F.log_softmax(F.linear(emb, hw, hb), dim=-1)
            loss = loss + (-(logp.exp() * logp).sum(-1).mean())
        loss.backward()
        opt.step()
        return float(loss)

    first = step()
    for _ in range(5):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        last = step()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    print(f"torch first_loss {first:.6f} last_loss {last:.6f} steps {6 + steps} tasks {len(taus)} batch {batch} coefficients {len(taus) * len(names)} "
          f"step_ms_median {times[len(times) // 2]:.2f} step_ms_min {times[0]:.2f} threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
