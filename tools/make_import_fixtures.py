#!/usr/bin/env python3
"""torch.onnx exports of the project's own tiny HF-named encoders, for the ONNX import tests.

Run with Debian's torch:  PYENV_VERSION=system python3 tools/make_import_fixtures.py
Reads tests/MLNetMerge.Tests/Fixtures/engine/{bert,vit,clip_vision}.{safetensors,config.json} and writes
tests/MLNetMerge.Tests/Fixtures/import/{bert,vit,clip_vision}.onnx.

Each model is an nn.Module tree laid out as Hugging Face lays out BertModel, ViTModel and CLIPVisionModelWithProjection
(same attribute paths, so the same parameter names), with forward passes written as Hugging Face writes them
(`x @ W^T + b` through nn.Linear on 3-D activations, attention scores divided by sqrt(head size) — CLIP multiplies the
query by head_size^-0.5 —, the BERT mask as (1 - mask) * -10000, layer norms through nn.LayerNorm). torch.onnx.export
at opset 13 then does what it did to all-MiniLM-L6-v2: every Linear weight used on a 3-D activation becomes a
constant-folded, anonymous, transposed [in, out] initializer consumed by MatMul, while biases, layer norms and
embeddings keep their names; Linear layers on 2-D activations with a bias (the poolers) become Gemm(transB=1) on the
named weight; CLIP's bias-free projection becomes MatMul on an anonymous transposed weight.
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "MLNetMerge.Tests", "Fixtures")
ENGINE = os.path.join(ROOT, "engine")
OUT = os.path.join(ROOT, "import")


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        a, b = h["data_offsets"]
        raw = bytearray(data[8 + n + a:8 + n + b])
        dtype = {"F32": torch.float32, "I64": torch.int64}[h["dtype"]]
        out[name] = torch.frombuffer(raw, dtype=dtype).reshape(h["shape"]).clone()
    return out


class SelfAttention(nn.Module):
    """BertSelfAttention / ViTSelfAttention: query, key, value."""

    def __init__(self, c, heads):
        super().__init__()
        self.heads, self.d = heads, c // heads
        self.query, self.key, self.value = nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c)

    def split(self, x):
        return x.view(x.size(0), x.size(1), self.heads, self.d).permute(0, 2, 1, 3)

    def forward(self, x, mask=None):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d)
        if mask is not None:
            scores = scores + mask
        y = torch.matmul(torch.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).contiguous()
        return y.view(y.size(0), y.size(1), self.heads * self.d)


class Dense(nn.Module):
    def __init__(self, cin, cout, norm=None):
        super().__init__()
        self.dense = nn.Linear(cin, cout)
        if norm is not None:
            self.LayerNorm = nn.LayerNorm(cout, eps=norm)


class BertAttention(nn.Module):
    def __init__(self, c, heads, eps):
        super().__init__()
        self.self = SelfAttention(c, heads)
        self.output = Dense(c, c, eps)


class BertLayer(nn.Module):
    def __init__(self, c, inter, heads, eps):
        super().__init__()
        self.attention = BertAttention(c, heads, eps)
        self.intermediate = Dense(c, inter)
        self.output = Dense(inter, c, eps)

    def forward(self, x, mask):
        a = self.attention.output.LayerNorm(self.attention.output.dense(self.attention.self(x, mask)) + x)
        h = F.gelu(self.intermediate.dense(a))
        return self.output.LayerNorm(self.output.dense(h) + a)


class BertEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg["hidden_size"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], c)
        self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], c)
        self.token_type_embeddings = nn.Embedding(cfg["type_vocab_size"], c)
        self.LayerNorm = nn.LayerNorm(c, eps=cfg["layer_norm_eps"])
        self.register_buffer("position_ids", torch.arange(cfg["max_position_embeddings"]).expand((1, -1)))

    def forward(self, ids, types):
        pos = self.position_ids[:, :ids.size(1)]
        x = self.word_embeddings(ids) + self.token_type_embeddings(types) + self.position_embeddings(pos)
        return self.LayerNorm(x)


class BertEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(cfg["hidden_size"], cfg["intermediate_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"])
                                    for _ in range(cfg["num_hidden_layers"])])


class BertModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = BertEncoder(cfg)
        self.pooler = Dense(cfg["hidden_size"], cfg["hidden_size"])

    def forward(self, input_ids, attention_mask, token_type_ids):
        mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        x = self.embeddings(input_ids, token_type_ids)
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return x, torch.tanh(self.pooler.dense(x[:, 0]))


class PatchEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.projection = nn.Conv2d(cfg["num_channels"], cfg["hidden_size"], cfg["patch_size"], stride=cfg["patch_size"])


class VitEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c, patches = cfg["hidden_size"], (cfg["image_size"] // cfg["patch_size"]) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, c))
        self.position_embeddings = nn.Parameter(torch.zeros(1, patches + 1, c))
        self.patch_embeddings = PatchEmbeddings(cfg)

    def forward(self, pixels):
        x = self.patch_embeddings.projection(pixels).flatten(2).transpose(1, 2)
        x = torch.cat((self.cls_token.expand(x.size(0), -1, -1), x), dim=1)
        return x + self.position_embeddings


class VitAttention(nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.attention = SelfAttention(c, heads)
        self.output = Dense(c, c)


class VitLayer(nn.Module):
    def __init__(self, c, inter, heads, eps):
        super().__init__()
        self.layernorm_before = nn.LayerNorm(c, eps=eps)
        self.attention = VitAttention(c, heads)
        self.layernorm_after = nn.LayerNorm(c, eps=eps)
        self.intermediate = Dense(c, inter)
        self.output = Dense(inter, c)

    def forward(self, x):
        x = self.attention.output.dense(self.attention.attention(self.layernorm_before(x))) + x
        return self.output.dense(F.gelu(self.intermediate.dense(self.layernorm_after(x)))) + x


class VitEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([VitLayer(cfg["hidden_size"], cfg["intermediate_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"])
                                    for _ in range(cfg["num_hidden_layers"])])


class ViTModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = VitEmbeddings(cfg)
        self.encoder = VitEncoder(cfg)
        self.layernorm = nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])
        self.pooler = Dense(cfg["hidden_size"], cfg["hidden_size"])

    def forward(self, pixel_values):
        x = self.embeddings(pixel_values)
        for layer in self.encoder.layer:
            x = layer(x)
        x = self.layernorm(x)
        return x, torch.tanh(self.pooler.dense(x[:, 0]))


class ClipAttention(nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.heads, self.d = heads, c // heads
        self.scale = self.d ** -0.5
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c)

    def split(self, x):
        return x.view(x.size(0), x.size(1), self.heads, self.d).transpose(1, 2)

    def forward(self, x):
        q = self.split(self.q_proj(x) * self.scale)
        k, v = self.split(self.k_proj(x)), self.split(self.v_proj(x))
        y = torch.matmul(torch.softmax(torch.matmul(q, k.transpose(-1, -2)), dim=-1), v).transpose(1, 2)
        return self.out_proj(y.reshape(x.size(0), x.size(1), self.heads * self.d))


class ClipMlp(nn.Module):
    def __init__(self, c, inter):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(c, inter), nn.Linear(inter, c)

    def forward(self, x):
        h = self.fc1(x)
        return self.fc2(h * torch.sigmoid(1.702 * h))


class ClipLayer(nn.Module):
    def __init__(self, c, inter, heads, eps):
        super().__init__()
        self.self_attn = ClipAttention(c, heads)
        self.layer_norm1 = nn.LayerNorm(c, eps=eps)
        self.mlp = ClipMlp(c, inter)
        self.layer_norm2 = nn.LayerNorm(c, eps=eps)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class ClipEmbeddings(nn.Module):
    def __init__(self, v):
        super().__init__()
        c, tokens = v["hidden_size"], (v["image_size"] // v["patch_size"]) ** 2 + 1
        self.class_embedding = nn.Parameter(torch.zeros(c))
        self.patch_embedding = nn.Conv2d(v["num_channels"], c, v["patch_size"], stride=v["patch_size"], bias=False)
        self.position_embedding = nn.Embedding(tokens, c)
        self.register_buffer("position_ids", torch.arange(tokens).expand((1, -1)))

    def forward(self, pixels):
        x = self.patch_embedding(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.expand(x.size(0), 1, -1), x], dim=1)
        return x + self.position_embedding(self.position_ids)


class ClipEncoder(nn.Module):
    def __init__(self, v):
        super().__init__()
        self.layers = nn.ModuleList([ClipLayer(v["hidden_size"], v["intermediate_size"], v["num_attention_heads"], v["layer_norm_eps"])
                                     for _ in range(v["num_hidden_layers"])])


class ClipVisionTransformer(nn.Module):
    def __init__(self, v):
        super().__init__()
        self.embeddings = ClipEmbeddings(v)
        self.pre_layrnorm = nn.LayerNorm(v["hidden_size"], eps=v["layer_norm_eps"])
        self.encoder = ClipEncoder(v)
        self.post_layernorm = nn.LayerNorm(v["hidden_size"], eps=v["layer_norm_eps"])


class ClipVisionModelWithProjection(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        v = cfg["vision_config"]
        self.vision_model = ClipVisionTransformer(v)
        self.visual_projection = nn.Linear(v["hidden_size"], cfg["projection_dim"], bias=False)

    def forward(self, pixel_values):
        m = self.vision_model
        x = m.pre_layrnorm(m.embeddings(pixel_values))
        for layer in m.encoder.layers:
            x = layer(x)
        return x, self.visual_projection(m.post_layernorm(x[:, 0, :]))


def load(model, name):
    weights = read_safetensors(os.path.join(ENGINE, name + ".safetensors"))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected or [m for m in missing if not m.endswith("position_ids")]:
        raise SystemExit(f"{name}: missing {missing}, unexpected {unexpected}")
    return model.eval()


def export(model, name, args, inputs, outputs, axes):
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, args, path, input_names=inputs, output_names=outputs, dynamic_axes=axes, opset_version=13,
                      do_constant_folding=True)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    cfg = json.load(open(os.path.join(ENGINE, "bert.config.json")))
    ids = torch.randint(1, cfg["vocab_size"], (2, 7))
    text_axes = {n: {0: "batch", 1: "sequence"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]}
    text_axes["pooler_output"] = {0: "batch"}
    export(load(BertModel(cfg), "bert"), "bert", (ids, torch.ones_like(ids), torch.zeros_like(ids)),
           ["input_ids", "attention_mask", "token_type_ids"], ["last_hidden_state", "pooler_output"], text_axes)
    for name, cls in [("vit", ViTModel), ("clip_vision", ClipVisionModelWithProjection)]:
        cfg = json.load(open(os.path.join(ENGINE, name + ".config.json")))
        v = cfg.get("vision_config", cfg)
        pixels = torch.randn(2, v["num_channels"], v["image_size"], v["image_size"])
        second = "pooler_output" if name == "vit" else "image_embeds"
        export(load(cls(cfg), name), name, (pixels,), ["pixel_values"], ["last_hidden_state", second],
               {"pixel_values": {0: "batch"}, "last_hidden_state": {0: "batch"}, second: {0: "batch"}})


if __name__ == "__main__":
    main()
