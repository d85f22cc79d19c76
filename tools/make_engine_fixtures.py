#!/usr/bin/env python3
"""Reference dumps for the MLNetMerge engine tests.

Run with Debian's torch:  PYENV_VERSION=system python3 tools/make_engine_fixtures.py
Writes tests/MLNetMerge.Tests/Fixtures/engine/{vit,clip_vision,mlp}.{safetensors,config.json,io.safetensors}.

The reference models are written here in plain functional torch following the published architectures
(Hugging Face ViTModel, CLIPVisionModelWithProjection) and use Hugging Face tensor names. Weights are drawn in
float32; the reference forward/backward runs in float64 on those exact values, so the dumps carry no float32
rounding of their own. The loss is  L = sum(hidden * dhidden) + sum(embedding * dembedding)  with fixed random
dhidden/dembedding, so its output gradients are those two tensors; every parameter gradient is saved as grad.<name>.
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "MLNetMerge.Tests", "Fixtures", "engine")


def write_safetensors(path, tensors):
    """safetensors by hand: u64 little-endian header length, JSON header (dtype, shape, data_offsets), raw bytes."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.float32:
            dtype, raw = "F32", t.numpy().astype("<f4").tobytes()
        elif t.dtype == torch.float16:
            dtype, raw = "F16", t.numpy().astype("<f2").tobytes()
        elif t.dtype == torch.int64:
            dtype, raw = "I64", t.numpy().astype("<i8").tobytes()
        else:
            raise ValueError(f"{name}: unsupported dtype {t.dtype}")
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def layer_norm(x, p, name, eps):
    return F.layer_norm(x, (x.shape[-1],), p[name + ".weight"], p[name + ".bias"], eps)


def linear(x, p, name, bias=True):
    return F.linear(x, p[name + ".weight"], p[name + ".bias"] if bias else None)


def self_attention(x, p, q, k, v, o, heads):
    b, t, c = x.shape
    d = c // heads
    def split(y):
        return y.view(b, t, heads, d).transpose(1, 2)  # (B, H, T, d)
    qh, kh, vh = split(linear(x, p, q)), split(linear(x, p, k)), split(linear(x, p, v))
    att = torch.softmax(qh @ kh.transpose(-1, -2) / math.sqrt(d), dim=-1)
    y = (att @ vh).transpose(1, 2).reshape(b, t, c)
    return linear(y, p, o)


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def vit_forward(p, cfg, pixels, pooler=True):
    """Hugging Face ViTModel: patch conv (+bias), cls token, position embeddings, pre-norm blocks, final layernorm, tanh pooler."""
    eps, heads = cfg["layer_norm_eps"], cfg["num_attention_heads"]
    x = F.conv2d(pixels, p["embeddings.patch_embeddings.projection.weight"], p["embeddings.patch_embeddings.projection.bias"],
                 stride=cfg["patch_size"]).flatten(2).transpose(1, 2)
    x = torch.cat([p["embeddings.cls_token"].expand(x.shape[0], -1, -1), x], dim=1) + p["embeddings.position_embeddings"]
    for i in range(cfg["num_hidden_layers"]):
        n = f"encoder.layer.{i}."
        x = x + self_attention(layer_norm(x, p, n + "layernorm_before", eps), p, n + "attention.attention.query",
                               n + "attention.attention.key", n + "attention.attention.value", n + "attention.output.dense", heads)
        h = F.gelu(linear(layer_norm(x, p, n + "layernorm_after", eps), p, n + "intermediate.dense"))
        x = x + linear(h, p, n + "output.dense")
    hidden = layer_norm(x, p, "layernorm", eps)
    embedding = torch.tanh(linear(hidden[:, 0], p, "pooler.dense")) if pooler else hidden[:, 0]
    return hidden, embedding


def clip_forward(p, cfg, pixels):
    """Hugging Face CLIPVisionModelWithProjection: bias-free patch conv, class_embedding, position_embedding, pre_layrnorm,
    pre-norm blocks with quick_gelu, post_layernorm on the CLS token, bias-free visual_projection."""
    v = cfg["vision_config"]
    eps, heads = v["layer_norm_eps"], v["num_attention_heads"]
    m = "vision_model."
    x = F.conv2d(pixels, p[m + "embeddings.patch_embedding.weight"], None, stride=v["patch_size"]).flatten(2).transpose(1, 2)
    cls = p[m + "embeddings.class_embedding"].expand(x.shape[0], 1, -1)
    x = torch.cat([cls, x], dim=1) + p[m + "embeddings.position_embedding.weight"][None]
    x = layer_norm(x, p, m + "pre_layrnorm", eps)
    for i in range(v["num_hidden_layers"]):
        n = f"{m}encoder.layers.{i}."
        x = x + self_attention(layer_norm(x, p, n + "layer_norm1", eps), p, n + "self_attn.q_proj", n + "self_attn.k_proj",
                               n + "self_attn.v_proj", n + "self_attn.out_proj", heads)
        h = quick_gelu(linear(layer_norm(x, p, n + "layer_norm2", eps), p, n + "mlp.fc1"))
        x = x + linear(h, p, n + "mlp.fc2")
    pooled = layer_norm(x[:, 0], p, m + "post_layernorm", eps)
    return x, linear(pooled, p, "visual_projection", bias=False)


def openclip_forward(p, cfg, pixels):
    """OpenCLIP VisionTransformer (visual.*): bias-free conv1, class_embedding, positional_embedding, ln_pre, residual
    attention blocks built on torch's own nn.MultiheadAttention math (fused in_proj_weight rows [W_q; W_k; W_v]),
    quick_gelu MLP (c_fc, c_proj), ln_post on the CLS token, then x @ proj."""
    eps, heads, c = 1e-5, cfg["heads"], cfg["width"]
    m = "visual."
    x = F.conv2d(pixels, p[m + "conv1.weight"], None, stride=cfg["patch_size"]).flatten(2).transpose(1, 2)
    x = torch.cat([p[m + "class_embedding"].expand(x.shape[0], 1, -1), x], dim=1) + p[m + "positional_embedding"]
    x = layer_norm(x, p, m + "ln_pre", eps)
    for i in range(cfg["layers"]):
        n = f"{m}transformer.resblocks.{i}."
        h = layer_norm(x, p, n + "ln_1", eps).transpose(0, 1)  # (T, B, C), nn.MultiheadAttention's default layout
        a, _ = F.multi_head_attention_forward(h, h, h, c, heads, p[n + "attn.in_proj_weight"], p[n + "attn.in_proj_bias"],
                                              None, None, False, 0.0, p[n + "attn.out_proj.weight"], p[n + "attn.out_proj.bias"],
                                              training=False, need_weights=False)
        x = x + a.transpose(0, 1)
        x = x + linear(quick_gelu(linear(layer_norm(x, p, n + "ln_2", eps), p, n + "mlp.c_fc")), p, n + "mlp.c_proj")
    pooled = layer_norm(x[:, 0], p, m + "ln_post", eps)
    return x, pooled @ p[m + "proj"]


def text_forward(p, cfg, inputs):
    """Hugging Face BertModel / RobertaModel: word + position + token-type embeddings, LayerNorm, post-norm blocks with
    the additive attention mask (finfo.min on padded keys), tanh pooler on token 0. RoBERTa's position ids are
    create_position_ids_from_input_ids: padding_idx + cumsum(ids != pad) on real tokens, padding_idx on padding."""
    ids, mask = inputs[0].long(), inputs[1]
    eps, heads, pad = cfg["layer_norm_eps"], cfg["num_attention_heads"], cfg["pad_token_id"]
    b, t = ids.shape
    if cfg["model_type"] == "roberta":
        real = (ids != pad).long()
        pos = torch.cumsum(real, dim=1) * real + pad
    else:
        pos = torch.arange(t)[None].expand(b, t)
    x = p["embeddings.word_embeddings.weight"][ids] + p["embeddings.position_embeddings.weight"][pos] \
        + p["embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)]
    x = layer_norm(x, p, "embeddings.LayerNorm", eps)
    c = x.shape[-1]
    d = c // heads
    additive = (1.0 - mask.double())[:, None, None, :] * torch.finfo(torch.float64).min
    for i in range(cfg["num_hidden_layers"]):
        n = f"encoder.layer.{i}."
        def split(y):
            return y.view(b, t, heads, d).transpose(1, 2)
        q, k, v = (split(linear(x, p, n + "attention.self." + w)) for w in ("query", "key", "value"))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + additive, dim=-1)
        a = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = layer_norm(x + linear(a, p, n + "attention.output.dense"), p, n + "attention.output.LayerNorm", eps)
        h = linear(F.gelu(linear(x, p, n + "intermediate.dense")), p, n + "output.dense")
        x = layer_norm(x + h, p, n + "output.LayerNorm", eps)
    return x, torch.tanh(linear(x[:, 0], p, "pooler.dense"))


def text_shapes(c, layers, inter, vocab, positions, types):
    s = [("embeddings.word_embeddings.weight", [vocab, c]), ("embeddings.position_embeddings.weight", [positions, c]),
         ("embeddings.token_type_embeddings.weight", [types, c]), ("embeddings.LayerNorm.weight", [c]), ("embeddings.LayerNorm.bias", [c])]
    for i in range(layers):
        n = f"encoder.layer.{i}."
        for w in ("query", "key", "value"):
            s += [(n + f"attention.self.{w}.weight", [c, c]), (n + f"attention.self.{w}.bias", [c])]
        s += [(n + "attention.output.dense.weight", [c, c]), (n + "attention.output.dense.bias", [c]),
              (n + "attention.output.LayerNorm.weight", [c]), (n + "attention.output.LayerNorm.bias", [c]),
              (n + "intermediate.dense.weight", [inter, c]), (n + "intermediate.dense.bias", [inter]),
              (n + "output.dense.weight", [c, inter]), (n + "output.dense.bias", [c]),
              (n + "output.LayerNorm.weight", [c]), (n + "output.LayerNorm.bias", [c])]
    return s + [("pooler.dense.weight", [c, c]), ("pooler.dense.bias", [c])]


def mlp_forward(p, cfg, x):
    sizes = [cfg["input_size"], *cfg["hidden_sizes"], cfg["output_size"]]
    for i in range(len(sizes) - 1):
        x = linear(x, p, f"layers.{i}")
        if i + 2 < len(sizes):
            x = F.gelu(x, approximate="tanh")  # hidden_act gelu_new
    return x, None


def random_params(shapes, gen):
    p = {}
    for name, shape in shapes:
        module = name.rsplit(".", 1)[0].rsplit(".", 1)[-1]
        if name.endswith(".weight") and ("norm" in module or "layrnorm" in module):
            t = 1.0 + 0.1 * torch.randn(shape, generator=gen)  # layer-norm scales near 1
        else:
            t = 0.2 * torch.randn(shape, generator=gen)
        p[name] = t.float()
    return p


def block_shapes(names, c, inter):
    ln1, q, k, v, o, ln2, fc1, fc2 = names
    s = [(ln1 + ".weight", [c]), (ln1 + ".bias", [c])]
    for n in (q, k, v, o):
        s += [(n + ".weight", [c, c]), (n + ".bias", [c])]
    s += [(ln2 + ".weight", [c]), (ln2 + ".bias", [c]), (fc1 + ".weight", [inter, c]), (fc1 + ".bias", [inter]),
          (fc2 + ".weight", [c, inter]), (fc2 + ".bias", [c])]
    return s


def run_case(name, cfg, shapes, forward, inputs, gen, extra_weights=None):
    params32 = random_params(shapes, gen)
    p64 = {k: v.double().requires_grad_(True) for k, v in params32.items()}
    hidden, embedding = forward(p64, cfg, inputs.double())
    dhidden = torch.randn(hidden.shape, generator=gen).float()
    loss = (hidden * dhidden.double()).sum()
    io = {"input": inputs, "hidden": hidden.float(), "dhidden": dhidden}
    if embedding is not None:
        dembedding = torch.randn(embedding.shape, generator=gen).float()
        loss = loss + (embedding * dembedding.double()).sum()
        io.update({"embedding": embedding.float(), "dembedding": dembedding})
    loss.backward()
    for k in params32:
        io["grad." + k] = p64[k].grad.float()
    weights = dict(params32)
    if extra_weights:
        weights.update(extra_weights)
    write_safetensors(os.path.join(OUT, name + ".safetensors"), weights)
    write_safetensors(os.path.join(OUT, name + ".io.safetensors"), io)
    with open(os.path.join(OUT, name + ".config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    print(name, "loss", float(loss), "params", sum(v.numel() for v in params32.values()))
    return params32


def merge_case(name, cfg, base, forward, inputs, gen, tasks=2):
    """Differentiable merge: theta = base + sum_t clamp(lambda_t^l, 0, 1) * tau_t^l per tensor l. Task vectors are stored
    as float16 (exact in float32 and float64); the dump holds lambda.<name> (T,) and grad.lambda.<name> (T,)."""
    taus = [{k: (0.05 * torch.randn(v.shape, generator=gen)).half() for k, v in base.items()} for _ in range(tasks)]
    lambdas = {k: (0.1 + 0.8 * torch.rand(tasks, generator=gen)).float() for k in base}
    # Two coefficients outside [0, 1]: clamped in the forward pass, so their gradient is zero.
    names = list(base)
    lambdas[names[3]][0] = 1.25
    lambdas[names[-1]][1] = -0.5
    lam64 = {k: v.double().requires_grad_(True) for k, v in lambdas.items()}
    theta = {k: base[k].double() + sum(lam64[k][t].clamp(0, 1) * taus[t][k].double() for t in range(tasks)) for k in base}
    hidden, embedding = forward(theta, cfg, inputs.double())
    dhidden = torch.randn(hidden.shape, generator=gen).float()
    dembedding = torch.randn(embedding.shape, generator=gen).float()
    loss = (hidden * dhidden.double()).sum() + (embedding * dembedding.double()).sum()
    loss.backward()
    io = {"input": inputs, "hidden": hidden.float(), "dhidden": dhidden, "embedding": embedding.float(), "dembedding": dembedding}
    for k in base:
        io["lambda." + k] = lambdas[k]
        io["grad.lambda." + k] = lam64[k].grad.float()
    write_safetensors(os.path.join(OUT, name + ".tasks.safetensors"),
                      {f"task{t}.{k}": taus[t][k] for t in range(tasks) for k in base})
    write_safetensors(os.path.join(OUT, name + ".io.safetensors"), io)
    print(name, "loss", float(loss))


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(20261122)
    c, layers, heads, inter, img, ps, cin, batch = 24, 2, 4, 48, 16, 4, 3, 2
    t = (img // ps) ** 2 + 1

    vit_cfg = {"model_type": "vit", "hidden_size": c, "num_hidden_layers": layers, "num_attention_heads": heads,
               "intermediate_size": inter, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "image_size": img,
               "patch_size": ps, "num_channels": cin, "qkv_bias": True}
    shapes = [("embeddings.cls_token", [1, 1, c]), ("embeddings.position_embeddings", [1, t, c]),
              ("embeddings.patch_embeddings.projection.weight", [c, cin, ps, ps]), ("embeddings.patch_embeddings.projection.bias", [c])]
    for i in range(layers):
        n = f"encoder.layer.{i}."
        shapes += block_shapes([n + "layernorm_before", n + "attention.attention.query", n + "attention.attention.key",
                                n + "attention.attention.value", n + "attention.output.dense", n + "layernorm_after",
                                n + "intermediate.dense", n + "output.dense"], c, inter)
    shapes += [("layernorm.weight", [c]), ("layernorm.bias", [c]), ("pooler.dense.weight", [c, c]), ("pooler.dense.bias", [c])]
    pixels = torch.randn(batch, cin, img, img, generator=gen).float()
    vit_params = run_case("vit", vit_cfg, shapes, vit_forward, pixels, gen)

    proj = 16
    clip_cfg = {"model_type": "clip", "projection_dim": proj,
                "vision_config": {"model_type": "clip_vision_model", "hidden_size": c, "num_hidden_layers": layers,
                                  "num_attention_heads": heads, "intermediate_size": inter, "hidden_act": "quick_gelu",
                                  "layer_norm_eps": 1e-5, "image_size": img, "patch_size": ps, "num_channels": cin}}
    m = "vision_model."
    shapes = [(m + "embeddings.class_embedding", [c]), (m + "embeddings.patch_embedding.weight", [c, cin, ps, ps]),
              (m + "embeddings.position_embedding.weight", [t, c]), (m + "pre_layrnorm.weight", [c]), (m + "pre_layrnorm.bias", [c])]
    for i in range(layers):
        n = f"{m}encoder.layers.{i}."
        shapes += block_shapes([n + "layer_norm1", n + "self_attn.q_proj", n + "self_attn.k_proj", n + "self_attn.v_proj",
                                n + "self_attn.out_proj", n + "layer_norm2", n + "mlp.fc1", n + "mlp.fc2"], c, inter)
    shapes += [(m + "post_layernorm.weight", [c]), (m + "post_layernorm.bias", [c]), ("visual_projection.weight", [proj, c])]
    pixels = torch.randn(batch, cin, img, img, generator=gen).float()
    # Older CLIP checkpoints carry the int64 position_ids buffer; the engine must ignore it.
    run_case("clip_vision", clip_cfg, shapes, clip_forward, pixels, gen,
             extra_weights={m + "embeddings.position_ids": torch.arange(t, dtype=torch.int64)[None]})

    # OpenCLIP has no config.json; the engine infers this from the shapes (heads = width / head width).
    oc_cfg = {"width": c, "layers": layers, "heads": heads, "patch_size": ps, "image_size": img, "head_width": c // heads}
    m = "visual."
    shapes = [(m + "class_embedding", [c]), (m + "positional_embedding", [t, c]), (m + "proj", [c, proj]),
              (m + "conv1.weight", [c, cin, ps, ps]), (m + "ln_pre.weight", [c]), (m + "ln_pre.bias", [c])]
    for i in range(layers):
        n = f"{m}transformer.resblocks.{i}."
        shapes += [(n + "ln_1.weight", [c]), (n + "ln_1.bias", [c]), (n + "attn.in_proj_weight", [3 * c, c]),
                   (n + "attn.in_proj_bias", [3 * c]), (n + "attn.out_proj.weight", [c, c]), (n + "attn.out_proj.bias", [c]),
                   (n + "ln_2.weight", [c]), (n + "ln_2.bias", [c]), (n + "mlp.c_fc.weight", [inter, c]),
                   (n + "mlp.c_fc.bias", [inter]), (n + "mlp.c_proj.weight", [c, inter]), (n + "mlp.c_proj.bias", [c])]
    shapes += [(m + "ln_post.weight", [c]), (m + "ln_post.bias", [c])]
    pixels = torch.randn(batch, cin, img, img, generator=gen).float()
    # A full OpenCLIP checkpoint also holds the text tower; the engine skips everything outside visual.*.
    run_case("openclip_visual", oc_cfg, shapes, openclip_forward, pixels, gen,
             extra_weights={"logit_scale": torch.tensor(4.6052), "token_embedding.weight": torch.zeros(8, c)})

    # Differentiable merge over the ViT fixture's weights as the base (merge_vit.* files).
    merge_case("merge_vit", vit_cfg, vit_params, vit_forward, torch.randn(batch, cin, img, img, generator=gen).float(), gen)

    # BERT and RoBERTa: batch of 2 sequences of 7 tokens, the second padded after 5 tokens (mask 0, pad id).
    vocab, t_text = 30, 7
    for kind, pad, eps, positions, types in (("bert", 0, 1e-12, 16, 2), ("roberta", 1, 1e-5, 18, 1)):
        cfg = {"model_type": kind, "vocab_size": vocab, "hidden_size": c, "num_hidden_layers": layers,
               "num_attention_heads": heads, "intermediate_size": inter, "hidden_act": "gelu", "layer_norm_eps": eps,
               "max_position_embeddings": positions, "type_vocab_size": types, "pad_token_id": pad}
        ids = torch.randint(2, vocab, (2, t_text), generator=gen)
        mask = torch.ones(2, t_text)
        ids[1, 5:] = pad
        mask[1, 5:] = 0
        inputs = torch.stack([ids.float(), mask])  # (2, B, T): ids and mask, as float32 for the dump
        run_case(kind, cfg, text_shapes(c, layers, inter, vocab, positions, types), text_forward, inputs, gen,
                 extra_weights={"embeddings.position_ids": torch.arange(positions, dtype=torch.int64)[None]})

    mlp_cfg = {"model_type": "mlp", "input_size": 12, "hidden_sizes": [16, 8], "output_size": 5, "hidden_act": "gelu_new"}
    sizes = [12, 16, 8, 5]
    shapes = []
    for i in range(3):
        shapes += [(f"layers.{i}.weight", [sizes[i + 1], sizes[i]]), (f"layers.{i}.bias", [sizes[i + 1]])]
    x = torch.randn(4, 12, generator=gen).float()
    run_case("mlp", mlp_cfg, shapes, mlp_forward, x, gen)


if __name__ == "__main__":
    main()
