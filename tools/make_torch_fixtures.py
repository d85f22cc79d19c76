#!/usr/bin/env python3
"""Writes the PyTorch checkpoint fixtures for PyTorchCheckpointTests into tests/MLNetMerge.Tests/Fixtures/torch/.

Run from the repository root with Debian's torch:  PYENV_VERSION=system python3 tools/make_torch_fixtures.py

Each real checkpoint X.pt comes with X.json: for every tensor, in state-dict order, its name, dtype (safetensors
spelling), shape, absolute file offset of its first element, whether it is contiguous, and its values in row-major
order as Python floats (exact for every dtype used here). The hand-built files exercise the reader's defences:
malicious pickles (GLOBAL posix.system + REDUCE, STACK_GLOBAL builtins.eval + REDUCE), an unknown opcode, a view
outside its storage, a ZIP64 container, big-endian data and a deflated entry. legacy*.pt use the pre-1.6 format.
The malicious files are never loaded here; they are only written. Their payload would merely create the file
MLNETMERGE_PICKLE_EXECUTED in the working directory, which the tests check does not appear.
"""
import collections
import io
import json
import os
import pickle
import struct
import zipfile
import zlib

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "MLNetMerge.Tests", "Fixtures", "torch")
DTYPE_NAMES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "Bool",
}
MARKER = "MLNETMERGE_PICKLE_EXECUTED"


def data_offset(path, entry_name):
    """Absolute offset of a stored zip entry's data: local header offset + 30 + name length + extra length."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(entry_name)
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len


class _StorageOrder(pickle.Pickler):
    """Pickles like torch.save but only records the storages' data pointers in first-seen order, which is how
    torch.save numbers its storage entries data/0, data/1, ..."""

    def __init__(self):
        super().__init__(io.BytesIO(), protocol=2)
        self.keys = {}

    def persistent_id(self, obj):
        if isinstance(obj, torch.storage.TypedStorage) or torch.is_storage(obj):
            self.keys.setdefault(obj.data_ptr(), str(len(self.keys)))
            return "storage"
        return None


def describe(path, obj, named_tensors, metadata=None, legacy=False):
    """Writes path's .json: expected names, dtypes, shapes, offsets and values of the tensors
    (offsets null for the legacy format, whose storage keys are memory addresses)."""
    if not legacy:
        with zipfile.ZipFile(path) as z:
            prefix = [n for n in z.namelist() if n.endswith("/data.pkl")][0][: -len("data.pkl")]
        order = _StorageOrder()
        order.dump(obj)
        key_of = order.keys
    tensors = []
    for name, t in named_tensors:
        t = t.detach()
        offset = None
        if not legacy:
            entry = prefix + "data/" + key_of[t.storage().data_ptr()]
            offset = data_offset(path, entry) + t.storage_offset() * t.element_size()
        tensors.append({
            "name": name,
            "dtype": DTYPE_NAMES[t.dtype],
            "shape": list(t.shape),
            "offset": offset,
            "contiguous": t.is_contiguous(),
            "values": [float(v) for v in t.reshape(-1).double().tolist()],
        })
    doc = {"tensors": tensors, "metadata": metadata or {}}
    with open(os.path.splitext(path)[0] + ".json", "w") as f:
        json.dump(doc, f, indent=1)


def save(obj, name, named_tensors, metadata=None, legacy=False):
    path = os.path.join(OUT, name)
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    describe(path, obj, named_tensors, metadata, legacy)
    return path


def write_zip(path, entries, compression=zipfile.ZIP_STORED):
    """A zip with the given (name, bytes) entries, written by Python's zipfile."""
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data, compress_type=compression)


def write_zip64(path, entries, comment=b"zip64 fixture"):
    """A stored zip that uses ZIP64 everywhere: 0xFFFFFFFF sizes and offsets with ZIP64 extra fields in local and
    central headers, a ZIP64 end-of-central-directory record and locator, 0xFFFF counts in the classic record
    (disk numbers stay 0: torch's miniz refuses 0xFFFF there as multi-disk),
    64-byte-aligned data (as torch.save aligns it) and an archive comment (APPNOTE.TXT 4.3.7-4.3.16, 4.5.3)."""
    out = bytearray()
    central = bytearray()
    for name, data in entries:
        name_b = name.encode()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        local_offset = len(out)
        zip64_local = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        base = local_offset + 30 + len(name_b) + len(zip64_local) + 4
        pad = (-base) % 64
        padding = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
        extra = zip64_local + padding
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name_b), len(extra))
        out += name_b + extra
        assert len(out) % 64 == 0
        out += data
        zip64_central = struct.pack("<HHQQQ", 1, 24, len(data), len(data), local_offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(name_b), len(zip64_central), 0, 0, 0, 0, 0xFFFFFFFF)
        central += name_b + zip64_central
    cd_offset = len(out)
    out += central
    eocd64_offset = len(out)
    n = len(entries)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, eocd64_offset, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment))
    out += comment
    with open(path, "wb") as f:
        f.write(out)


def entries_of(path, prefix):
    """The entries of a torch.save archive, renamed under a new archive prefix."""
    with zipfile.ZipFile(path) as z:
        old = [n for n in z.namelist() if n.endswith("/data.pkl")][0][: -len("data.pkl")]
        return [(prefix + n[len(old):], z.read(n)) for n in z.namelist()]


class _Storage:
    """Stands in for a storage when hand-writing a tensor pickle; pickled by persistent id."""

    def __init__(self, key, storage_type, numel):
        self.key, self.storage_type, self.numel = key, storage_type, numel


class _View:
    """Pickles as REDUCE(torch._utils._rebuild_tensor_v2, (storage, offset, size, stride, False, OrderedDict()))."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", obj.storage_type, obj.key, "cpu", obj.numel)
        return None


def hand_pickle(obj):
    buf = io.BytesIO()
    _Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def binunicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)

    # 1. One tensor of each dtype, including a 0-d scalar; values exactly representable in their dtype.
    dtypes = collections.OrderedDict()
    dtypes["f32"] = torch.tensor([[1.5, -2.25, 3.0], [0.125, 100.0, -0.0078125]], dtype=torch.float32)
    dtypes["f16"] = torch.tensor([0.5, -1.0, 65504.0, 6.103515625e-05], dtype=torch.float16)
    dtypes["bf16"] = torch.tensor([[1.0, -3.5], [1.5e10, 0.01171875]], dtype=torch.bfloat16)
    dtypes["f64"] = torch.tensor([0.1, -2.5, 1e-300], dtype=torch.float64)
    dtypes["i64"] = torch.tensor([[1, -2], [3000000000, 4]], dtype=torch.int64)
    dtypes["mask"] = torch.tensor([True, False, True], dtype=torch.bool)
    dtypes["scalar"] = torch.tensor(2.75, dtype=torch.float32)
    dtypes_path = save(dtypes, "dtypes.pt", list(dtypes.items()))

    # 2. Views of one storage: two slices at different offsets, a transpose and a column (non-contiguous).
    flat = torch.arange(24, dtype=torch.float32) * 0.5 - 3.0
    views = collections.OrderedDict()
    views["head"] = flat[0:4]
    views["middle"] = flat[6:12].view(2, 3)
    views["transposed"] = flat[12:24].view(3, 4).t()
    views["column"] = flat[12:24].view(3, 4)[:, 1]
    save(views, "views.pt", list(views.items()))

    # 3. A training checkpoint: the state dict nested under "state_dict", plus scalars the reader reports as metadata.
    inner = collections.OrderedDict()
    inner["encoder.weight"] = torch.randn(3, 2)
    inner["encoder.bias"] = torch.randn(3)
    inner["head"] = {"weight": torch.randn(2, 3).half()}
    nested = {"state_dict": inner, "epoch": 7, "arch": "tiny", "lr": 0.5, "optimizer_name": None}
    save(nested, "nested.pt",
         [("state_dict.encoder.weight", inner["encoder.weight"]), ("state_dict.encoder.bias", inner["encoder.bias"]),
          ("state_dict.head.weight", inner["head"]["weight"])],
         {"epoch": "7", "arch": "tiny", "lr": "0.5"})

    # 4. A whole pickled module: names must be those of model.state_dict() (the non-persistent buffer is left out).
    class Scale(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.gain = nn.Parameter(torch.randn(n))
            self.register_buffer("running", torch.arange(n, dtype=torch.float32))
            self.register_buffer("scratch", torch.ones(n), persistent=False)
            self.register_buffer("steps", torch.tensor(5, dtype=torch.int64))

        def forward(self, x):
            return x * self.gain

    Scale.__module__ = "fixtures"  # pickled by name only; the reader never imports it
    Scale.__qualname__ = "Scale"
    model = nn.Sequential(nn.Linear(4, 3), nn.LayerNorm(3), Scale(3), nn.Sequential(nn.ReLU(), nn.Linear(3, 2, bias=False)))
    import sys
    import types
    sys.modules["fixtures"] = types.ModuleType("fixtures")
    sys.modules["fixtures"].Scale = Scale
    save(model, "module.pt", list(model.state_dict().items()))

    # 5. The same tensors as dtypes.pt in a ZIP64 container under the prefix "archive/", with byteorder "little";
    #    torch itself must read it back identically (checks the hand-written container).
    entries = entries_of(dtypes_path, "archive/")
    zip64_path = os.path.join(OUT, "zip64.pt")
    write_zip64(zip64_path, entries[:1] + [("archive/byteorder", b"little")] + entries[1:])
    again = torch.load(zip64_path)
    assert list(again) == list(dtypes) and all(torch.equal(again[k], dtypes[k]) for k in dtypes)
    with open(os.path.join(OUT, "zip64.json"), "w") as f:
        doc = json.load(open(os.path.join(OUT, "dtypes.json")))
        for t in doc["tensors"]:
            t["offset"] = None  # moved by the re-packing; checked in dtypes.json
        json.dump(doc, f, indent=1)

    # 6. Big-endian byte order, and a deflated entry: both must be refused.
    write_zip64(os.path.join(OUT, "big_endian.pt"), [("archive/byteorder", b"big")] + entries)
    write_zip(os.path.join(OUT, "deflated.pt"), entries, zipfile.ZIP_DEFLATED)

    # 7. Malicious pickles. GLOBAL 'posix system' + REDUCE (protocol 2), and STACK_GLOBAL builtins.eval + REDUCE
    #    inside a state dict (protocol 4). Written as bytes; never unpickled here.
    system_pkl = (b"\x80\x02" + b"cposix\nsystem\n" + binunicode("touch " + MARKER) + b"\x85" + b"R" + b".")
    write_zip(os.path.join(OUT, "malicious_system.pt"), [("archive/data.pkl", system_pkl), ("archive/version", b"3\n")])
    eval_pkl = (b"\x80\x04" + b"}" + b"\x8c\x06weight"
                + b"\x8c\x08builtins" + b"\x8c\x04eval" + b"\x93"
                + binunicode("__import__('os').system('touch " + MARKER + "')") + b"\x85" + b"R"
                + b"s" + b".")
    write_zip(os.path.join(OUT, "malicious_eval.pt"), [("archive/data.pkl", eval_pkl), ("archive/version", b"3\n")])

    # 8. An opcode this reader does not know: 0xff at byte 5 (PROTO 2, EMPTY_DICT, BINPUT 0, then 0xff).
    write_zip(os.path.join(OUT, "bad_opcode.pt"), [("archive/data.pkl", b"\x80\x02}q\x00\xff."), ("archive/version", b"3\n")])

    # 9. A view outside its storage: storage of 4 floats, offset 3, size (2,) reaches element 5.
    storage = _Storage("0", torch.FloatStorage, 4)
    bad_view = hand_pickle(collections.OrderedDict([("w", _View(storage, 3, (2,), (1,)))]))
    write_zip(os.path.join(OUT, "bad_storage_offset.pt"),
              [("archive/data.pkl", bad_view), ("archive/data/0", struct.pack("<4f", 1, 2, 3, 4)), ("archive/version", b"3\n")])

    # 10. The legacy (pre-1.6) format: a state dict with a shared storage, a transpose and three dtypes, and a module.
    #     Its storage keys are memory addresses, so these two files differ from run to run (their JSON does not).
    legacy = collections.OrderedDict()
    legacy["slice"] = flat[6:12].view(2, 3)
    legacy["transposed"] = flat[12:24].view(3, 4).t()
    legacy["half"] = dtypes["f16"]
    legacy["ids"] = dtypes["i64"]
    legacy["epoch"] = 3
    save(legacy, "legacy.pt", [(k, v) for k, v in legacy.items() if torch.is_tensor(v)], {"epoch": "3"}, legacy=True)
    # Legacy module pickles embed each class's source; leave it out (torch warns and stores None) to keep the file small.
    import warnings
    real_source = torch.serialization.get_source_lines_and_file
    torch.serialization.get_source_lines_and_file = lambda obj: (_ for _ in ()).throw(OSError("source omitted"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        save(model, "legacy_module.pt", list(model.state_dict().items()), legacy=True)
    torch.serialization.get_source_lines_and_file = real_source

    for name in sorted(os.listdir(OUT)):
        print(f"{name:28s} {os.path.getsize(os.path.join(OUT, name)):6d} bytes")


if __name__ == "__main__":
    main()
