#!/usr/bin/env python3
"""ONNX-in fixtures for MLNetMerge: a base model and two fine-tuned copies exported by torch.onnx.export, the same
weights as safetensors, and a few edge cases.

Run with Debian's torch and onnx:  PYENV_VERSION=system python3 tools/make_onnx_fixtures.py
Writes tests/MLNetMerge.Tests/Fixtures/onnx/:
  base.onnx, task_a.onnx, task_b.onnx           the family (opset 17, dynamic batch axis, input "x", output "logits")
  base.safetensors, task_a.safetensors, ...      the same weights by their state-dict names
  other_graph.onnx                               the base with GELU replaced by ReLU (a different graph)
  external.onnx + external.onnx.data             task_a saved with every initializer in external data
  typed_fields.onnx                              a tiny model whose initializers use float_data / int64_data
  io.safetensors                                 inputs "x" (4, 8) and each model's torch logits "logits.<model>"

The network has 2-D activations only, so every nn.Linear exports as Gemm and keeps its state-dict weight name.
Fine-tuned copies are the base plus small seeded perturbations (a different one per task, heads included).
"""
import json
import os

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, TensorProto

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "MLNetMerge.Tests", "Fixtures", "onnx")


class Net(torch.nn.Module):
    def __init__(self, gelu=True):
        super().__init__()
        self.fc1 = torch.nn.Linear(8, 16)
        self.norm = torch.nn.LayerNorm(16)
        self.fc2 = torch.nn.Linear(16, 16)
        self.classifier = torch.nn.Linear(16, 3)
        self.gelu = gelu

    def forward(self, x):
        h = self.fc1(x)
        h = torch.nn.functional.gelu(h) if self.gelu else torch.relu(h)
        h = self.norm(h)
        h = torch.relu(self.fc2(h)) + h
        return self.classifier(h)


def write_safetensors(path, tensors):
    """safetensors by hand: u64 little-endian header length, JSON header, raw little-endian float32 bytes."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for b in blobs:
            f.write(b)


def export(model, path):
    x = torch.zeros(2, 8)
    torch.onnx.export(model, (x,), path, opset_version=17, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    names = {t.name for t in m.graph.initializer}
    for k in model.state_dict():
        assert k in names, f"{path}: initializer {k} was renamed by the exporter ({sorted(names)})"


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    base = Net().eval()
    models = {"base": base}
    for i, task in enumerate(["task_a", "task_b"]):
        g = torch.Generator().manual_seed(100 + i)
        ft = Net().eval()
        ft.load_state_dict({k: v + 0.05 * torch.randn(v.shape, generator=g) for k, v in base.state_dict().items()})
        models[task] = ft
    x = torch.randn(4, 8, generator=torch.Generator().manual_seed(7))
    io = {"x": x}
    for name, m in models.items():
        export(m, os.path.join(OUT, name + ".onnx"))
        write_safetensors(os.path.join(OUT, name + ".safetensors"), m.state_dict())
        with torch.no_grad():
            io["logits." + name] = m(x)
    write_safetensors(os.path.join(OUT, "io.safetensors"), io)

    other = Net(gelu=False).eval()
    other.load_state_dict(base.state_dict())
    export(other, os.path.join(OUT, "other_graph.onnx"))

    ext = onnx.load(os.path.join(OUT, "task_a.onnx"))
    onnx.save_model(ext, os.path.join(OUT, "external.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="external.onnx.data", size_threshold=0)
    onnx.checker.check_model(os.path.join(OUT, "external.onnx"), full_check=True)

    # y = x @ w + b, then Reshape to (-1, 2) with an int64 shape: initializers in typed fields, not raw_data.
    w = np.arange(6, dtype=np.float32).reshape(3, 2) * 0.5 - 1.0
    b = np.array([0.25, -0.75], dtype=np.float32)
    inits = [helper.make_tensor("w", TensorProto.FLOAT, [3, 2], w.flatten().tolist(), raw=False),
             helper.make_tensor("b", TensorProto.FLOAT, [2], b.tolist(), raw=False),
             helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 2], raw=False),
             helper.make_tensor("h", TensorProto.FLOAT16, [2], [1.5, -2.0], raw=False)]
    nodes = [helper.make_node("MatMul", ["x", "w"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y0"]),
             helper.make_node("Reshape", ["y0", "shape"], ["y"])]
    graph = helper.make_graph(nodes, "typed", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])], inits)
    typed = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="make_onnx_fixtures")
    typed.ir_version = 8
    onnx.checker.check_model(typed, full_check=True)
    onnx.save(typed, os.path.join(OUT, "typed_fields.onnx"))


if __name__ == "__main__":
    main()
