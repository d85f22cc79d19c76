#!/usr/bin/env python3
"""Writes a sharded PyTorch checkpoint into tests/MLNetMerge.Tests/Fixtures/torch/sharded/: two torch.save shards
(pytorch_model-00001-of-00002.bin, pytorch_model-00002-of-00002.bin) and pytorch_model.bin.index.json in Hugging Face's
layout ({"metadata": {"total_size": bytes}, "weight_map": {tensor: shard}}), plus expected.json with each tensor's
dtype, shape and values, for ShardedCheckpointTests.

Run from the repository root with Debian's torch:  PYENV_VERSION=system python3 tools/make_sharded_torch_fixture.py
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "MLNetMerge.Tests", "Fixtures", "torch", "sharded")


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    shards = [
        {"embeddings.weight": torch.randn(5, 4, generator=g), "layer.0.weight": torch.randn(4, 4, generator=g).half()},
        {"layer.1.weight": torch.randn(3, 4, generator=g), "layer.1.bias": torch.arange(3, dtype=torch.float64),
         "position_ids": torch.arange(5, dtype=torch.int64)},
    ]
    weight_map, expected, total = {}, {}, 0
    for i, state in enumerate(shards):
        name = f"pytorch_model-{i + 1:05d}-of-{len(shards):05d}.bin"
        torch.save(state, os.path.join(OUT, name))
        for key, t in state.items():
            weight_map[key] = name
            total += t.numel() * t.element_size()
            expected[key] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                             "values": [float(v) for v in t.flatten().tolist()]}
    with open(os.path.join(OUT, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=1)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
