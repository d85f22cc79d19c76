#!/usr/bin/env python3
"""PyTorch side of the engine benchmark (Debian python3-torch, 2 threads).

  torch_engine.py make OUT     write the tiny-ViT weights (HF ViTModel names), head, images and labels as safetensors
  torch_engine.py train OUT    AdamW train steps of that model in torch; prints the first loss and samples/s
  torch_engine.py clip BATCH   ViT-B/32-shaped CLIP vision inference (random weights); prints images/s

The model is tools/make_engine_fixtures.py's functional reference (the one the engine tests compare against).
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from make_engine_fixtures import (block_shapes, clip_forward, random_params, vit_forward,  # noqa: E402
                                  write_safetensors)

TINY = {"model_type": "vit", "hidden_size": 64, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 256,
        "hidden_act": "gelu", "layer_norm_eps": 1e-12, "image_size": 32, "patch_size": 4, "num_channels": 3, "qkv_bias": True}
BATCH, CLASSES, STEPS = 32, 10, 30


def vit_shapes(cfg, pooler):
    c, t = cfg["hidden_size"], (cfg["image_size"] // cfg["patch_size"]) ** 2 + 1
    ps, inter = cfg["patch_size"], cfg["intermediate_size"]
    s = [("embeddings.cls_token", [1, 1, c]), ("embeddings.position_embeddings", [1, t, c]),
         ("embeddings.patch_embeddings.projection.weight", [c, cfg["num_channels"], ps, ps]),
         ("embeddings.patch_embeddings.projection.bias", [c])]
    for i in range(cfg["num_hidden_layers"]):
        n = f"encoder.layer.{i}."
        s += block_shapes([n + "layernorm_before", n + "attention.attention.query", n + "attention.attention.key",
                           n + "attention.attention.value", n + "attention.output.dense", n + "layernorm_after",
                           n + "intermediate.dense", n + "output.dense"], c, inter)
    s += [("layernorm.weight", [c]), ("layernorm.bias", [c])]
    if pooler:
        s += [("pooler.dense.weight", [c, c]), ("pooler.dense.bias", [c])]
    return s


def make(out):
    os.makedirs(out, exist_ok=True)
    gen = torch.Generator().manual_seed(7)
    p = random_params(vit_shapes(TINY, pooler=False), gen)
    write_safetensors(os.path.join(out, "tiny_vit.safetensors"), p)
    with open(os.path.join(out, "tiny_vit.config.json"), "w") as f:
        json.dump(TINY, f)
    head = {"weight": (0.1 * torch.randn(CLASSES, TINY["hidden_size"], generator=gen)).float()}
    write_safetensors(os.path.join(out, "tiny_head.safetensors"), head)
    data = {"images": torch.randn(BATCH, 3, 32, 32, generator=gen).float(),
            "labels": (torch.arange(BATCH) % CLASSES).long()}
    write_safetensors(os.path.join(out, "tiny_batch.safetensors"), data)


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


def train(out):
    torch.set_num_threads(2)
    p = {k: v.clone().requires_grad_(True) for k, v in load(os.path.join(out, "tiny_vit.safetensors")).items()}
    head = load(os.path.join(out, "tiny_head.safetensors"))["weight"].clone().requires_grad_(True)
    data = load(os.path.join(out, "tiny_batch.safetensors"))
    x, y = data["images"], data["labels"]
    opt = torch.optim.AdamW(list(p.values()) + [head], lr=1e-3, weight_decay=0.01)

    def step():
        opt.zero_grad(set_to_none=False)
        hidden, _ = vit_forward(p, TINY, x, pooler=False)
        loss = F.cross_entropy(hidden[:, 0] @ head.t(), y)
        loss.backward()
        opt.step()
        return float(loss)

    first = step()
    for _ in range(2):
        step()
    t = time.perf_counter()
    for _ in range(STEPS):
        step()
    s = (time.perf_counter() - t) / STEPS
    print(f"torch first_loss {first:.6f} step_ms {s * 1e3:.2f} samples_per_s {BATCH / s:.1f}")


def clip(batch):
    torch.set_num_threads(2)
    cfg = {"vision_config": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
                             "layer_norm_eps": 1e-5, "image_size": 224, "patch_size": 32, "num_channels": 3}}
    gen = torch.Generator().manual_seed(1)
    m, c, t = "vision_model.", 768, 50
    shapes = [(m + "embeddings.class_embedding", [c]), (m + "embeddings.patch_embedding.weight", [c, 3, 32, 32]),
              (m + "embeddings.position_embedding.weight", [t, c]), (m + "pre_layrnorm.weight", [c]), (m + "pre_layrnorm.bias", [c])]
    for i in range(12):
        n = f"{m}encoder.layers.{i}."
        shapes += block_shapes([n + "layer_norm1", n + "self_attn.q_proj", n + "self_attn.k_proj", n + "self_attn.v_proj",
                                n + "self_attn.out_proj", n + "layer_norm2", n + "mlp.fc1", n + "mlp.fc2"], c, 3072)
    shapes += [(m + "post_layernorm.weight", [c]), (m + "post_layernorm.bias", [c]), ("visual_projection.weight", [512, c])]
    p = random_params(shapes, gen)
    x = torch.randn(batch, 3, 224, 224, generator=gen)
    with torch.no_grad():
        clip_forward(p, cfg, x)
        t0 = time.perf_counter()
        reps = 3
        for _ in range(reps):
            clip_forward(p, cfg, x)
        s = (time.perf_counter() - t0) / reps
    print(f"torch clip_b32 batch {batch} ms {s * 1e3:.1f} images_per_s {batch / s:.2f}")


if __name__ == "__main__":
    {"make": lambda: make(sys.argv[2]), "train": lambda: train(sys.argv[2]), "clip": lambda: clip(int(sys.argv[2]))}[sys.argv[1]]()
