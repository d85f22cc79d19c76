"""Generates the merge-throughput workload: a base + N fine-tuned checkpoints shaped like
CLIP ViT-B/32's vision tower (HF `CLIPVisionModel` names, ~88 M fp32 parameters), plus one
recipe YAML per method for `mlnetmerge merge`.

Run with Debian's python (numpy only):
    PYENV_VERSION=system python3 bench/merge/make_family.py --models 8 --out bench/out/family8

Synthetic weights (fixed seed; tensor i of file f is drawn from default_rng([seed, f, i]), so
task t is the same whatever N is and the 2-model family is a prefix of the 8-model one):
  base θ0         ~ N(0, 0.02); layer-norm weights ~ 1 + N(0, 0.02)
  task vector τt  = s_t · (0.70·L_t + 0.60·E_t + 0.35·S)          (entries ~1e-3)
    s_t  = 1e-3 · U(0.6, 1.4)            per-task magnitude, so EMR's rescalers differ
    L_t  = A_t B_t, rank r_t ∈ [16, 32]  task-specific low-rank part (2-D matrices only),
                                         unit entry std, as real fine-tuning deltas have
    E_t  = Laplace, unit std             heavy-tailed noise (TIES/EMR sign conflicts); Laplace
                                         rather than Student-t keeps the largest of 88 M entries
                                         near 15 std, not 100+
    S    = shared part, same for every task (low-rank for 2-D, Laplace otherwise): it gives
           task vectors a pairwise cosine of ~0.12, so signs agree a little more than chance
  fine-tuned θt   = θ0 + τt
"""
import argparse
import os
import time

import numpy as np

from safetensors_io import SafetensorsWriter

WIDTH, MLP, LAYERS, PATCH, POSITIONS, PROJECTION = 768, 3072, 12, 32, 50, 512
TASK_SCALE = 1e-3
LOW_RANK_WEIGHT, NOISE_WEIGHT, SHARED_WEIGHT = 0.70, 0.60, 0.35
SHARED_RANK = 8


def clip_vit_b32_vision_shapes():
    """[(name, shape)] of CLIPVisionModel ViT-B/32 plus CLIPVisionModelWithProjection's projection."""
    shapes = [
        ("vision_model.embeddings.class_embedding", [WIDTH]),
        ("vision_model.embeddings.patch_embedding.weight", [WIDTH, 3, PATCH, PATCH]),
        ("vision_model.embeddings.position_embedding.weight", [POSITIONS, WIDTH]),
        ("vision_model.pre_layrnorm.weight", [WIDTH]),
        ("vision_model.pre_layrnorm.bias", [WIDTH]),
    ]
    for i in range(LAYERS):
        p = f"vision_model.encoder.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            shapes += [(p + f"self_attn.{proj}.weight", [WIDTH, WIDTH]), (p + f"self_attn.{proj}.bias", [WIDTH])]
        for norm in ("layer_norm1", "layer_norm2"):
            shapes += [(p + f"{norm}.weight", [WIDTH]), (p + f"{norm}.bias", [WIDTH])]
        shapes += [
            (p + "mlp.fc1.weight", [MLP, WIDTH]), (p + "mlp.fc1.bias", [MLP]),
            (p + "mlp.fc2.weight", [WIDTH, MLP]), (p + "mlp.fc2.bias", [WIDTH]),
        ]
    shapes += [
        ("vision_model.post_layernorm.weight", [WIDTH]),
        ("vision_model.post_layernorm.bias", [WIDTH]),
        ("visual_projection.weight", [PROJECTION, WIDTH]),
    ]
    return sorted(shapes)


def is_layer_norm_weight(name):
    return ("layer_norm" in name or "layrnorm" in name or "layernorm" in name) and name.endswith(".weight")


def laplace(rng, shape):
    """Laplace with unit variance, float32: (E1 − E2) / sqrt(2), E ~ Exponential(1)."""
    x = rng.standard_exponential(shape, dtype=np.float32)
    x -= rng.standard_exponential(shape, dtype=np.float32)
    x *= np.float32(1 / np.sqrt(2))
    return x


def low_rank(rng, shape, rank):
    """A (m, r) @ B (r, n) with N(0, 1/sqrt(r)) factors: unit entry std, rank r."""
    m, n = shape
    a = rng.standard_normal((m, rank), dtype=np.float32)  # (m, r)
    b = rng.standard_normal((rank, n), dtype=np.float32)  # (r, n)
    return (a @ b) * np.float32(1.0 / np.sqrt(rank))


def base_tensor(seed, index, name, shape):
    rng = np.random.default_rng([seed, 0, index])
    w = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)
    if is_layer_norm_weight(name):
        w += np.float32(1.0)
    return w


def shared_component(seed, index, shape):
    rng = np.random.default_rng([seed, 100_000, index])
    return low_rank(rng, shape, SHARED_RANK) if len(shape) == 2 else laplace(rng, shape)


def task_vector(seed, task, index, shape, scale, rank, shared):
    rng = np.random.default_rng([seed, 1 + task, index])
    tau = laplace(rng, shape)
    tau *= np.float32(NOISE_WEIGHT)
    if len(shape) == 2:
        tau += np.float32(LOW_RANK_WEIGHT) * low_rank(rng, shape, rank)
    tau += np.float32(SHARED_WEIGHT) * shared
    tau *= np.float32(scale)
    return tau


def write_recipes(out, models):
    """One recipe per method for `mlnetmerge merge RECIPE --force`; outputs go to out/ours/<method>."""
    root = os.path.abspath(out)
    lines = [f"  - {{ name: task{t}, path: {root}/task{t}.safetensors }}" for t in range(models)]
    methods = {
        "ta": ("task_arithmetic", "{ scale: 0.3 }"),
        "ties": ("ties", "{ keep: 0.2, scale: 1.0 }"),
        "emr": ("emr", "{}"),
        "cart": ("cart", "{ rank_ratio: 0.12, scale: 2.0 }"),
        "tsv_m": ("tsv_m", "{ scale: 1.0, matrices: blocks }"),
        "iso_c": ("iso_c", "{ scale: 1.0, matrices: blocks }"),
        "iso_cts": ("iso_cts", "{ scale: 1.0, common_space_fraction: 0.8, matrices: blocks }"),
        "wudi": ("wudi", "{ iterations: 30, learning_rate: 1e-5, matrices: blocks }"),
        "pcb": ("pcb", "{ keep: 0.1, scale: 1.0 }"),
        "tatr": ("tatr", "{ quantile: 0.99, scale: 0.3 }"),
    }
    os.makedirs(os.path.join(out, "recipes"), exist_ok=True)
    for key, (method, parameters) in methods.items():
        text = (f"method: {method}\nbase: {root}/base.safetensors\nmodels:\n" + "\n".join(lines) + "\n"
                f"parameters: {parameters}\noutput: {root}/ours/{key}\n")
        with open(os.path.join(out, "recipes", f"{key}.yaml"), "w") as f:
            f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=8, help="number of fine-tuned checkpoints (2, 8, 16)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--recipes-only", action="store_true", help="(re)write the recipes of an existing family only")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.recipes_only:
        write_recipes(args.out, args.models)
        return

    shapes = clip_vit_b32_vision_shapes()
    specs = [(name, "F32", shape) for name, shape in shapes]
    task_rng = np.random.default_rng([args.seed, 200_000])
    task_scales = TASK_SCALE * task_rng.uniform(0.6, 1.4, size=64)[:args.models]
    task_ranks = task_rng.integers(16, 33, size=64)[:args.models]

    start = time.perf_counter()
    metadata = {"format": "pt", "generator": "bench/merge/make_family.py", "seed": str(args.seed)}
    writers = [SafetensorsWriter(os.path.join(args.out, "base.safetensors.tmp"), specs, metadata)]
    writers += [SafetensorsWriter(os.path.join(args.out, f"task{t}.safetensors.tmp"), specs, metadata)
                for t in range(args.models)]
    for index, (name, shape) in enumerate(shapes):
        base = base_tensor(args.seed, index, name, shape)
        writers[0].write(name, base)
        shared = shared_component(args.seed, index, shape)
        for t in range(args.models):
            tau = task_vector(args.seed, t, index, shape, task_scales[t], int(task_ranks[t]), shared)
            tau += base
            writers[1 + t].write(name, tau)
    for w in writers:
        w.close()
        os.replace(w.path, w.path[:-len(".tmp")])
    write_recipes(args.out, args.models)
    params = sum(int(np.prod(s)) for _, s in shapes)
    print(f"wrote base + {args.models} tasks ({params / 1e6:.2f} M params, {len(shapes)} tensors each, "
          f"{params * 4 / 1e6:.0f} MB each) to {args.out} in {time.perf_counter() - start:.1f} s")
    print("task scales:", " ".join(f"{s:.2e}" for s in task_scales), "| task ranks:", " ".join(map(str, task_ranks)))


if __name__ == "__main__":
    main()
