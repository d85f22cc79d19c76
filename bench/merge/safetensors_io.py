"""Minimal safetensors reading and writing with numpy only (no `safetensors` package).

Format: 8-byte little-endian u64 N, then N bytes of JSON header
`{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}`
(optionally `"__metadata__": {str: str}`), padded with spaces, then the raw little-endian
tensor bytes; `data_offsets` are relative to the first byte after the header.
"""
import json
import struct

import numpy as np

NUMPY_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"), "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}


def read_header(path):
    """Returns (header dict without __metadata__, byte offset of the data section)."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    header.pop("__metadata__", None)
    return header, 8 + length


def open_tensors(path, mode="c"):
    """Maps the file and returns {name: numpy view} over the mapped bytes (nothing is read yet).

    mode "c" (copy-on-write) gives writable views, so torch.from_numpy accepts them without a
    warning; the file itself is never modified.
    """
    header, data_start = read_header(path)
    raw = np.memmap(path, dtype=np.uint8, mode=mode)
    views = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = NUMPY_DTYPES[info["dtype"]]
        views[name] = raw[data_start + begin:data_start + end].view(dtype).reshape(info["shape"])
    return views


class SafetensorsWriter:
    """Writes a safetensors file whose layout (names, dtypes, shapes) is fixed up front.

    The header goes out first; tensor data is then written, in any order, with `write`
    (whole tensor) or `patch` (a few elements), by seeking to the tensor's offsets.
    Tensors are laid out in sorted name order.
    """

    def __init__(self, path, specs, metadata=None):
        """specs: iterable of (name, dtype string such as "F32", shape list)."""
        self.path = path
        entries = {}
        offset = 0
        for name, dtype, shape in sorted(specs, key=lambda s: s[0]):
            nbytes = int(np.prod(shape, dtype=np.int64)) * NUMPY_DTYPES[dtype].itemsize
            entries[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
            offset += nbytes
        header = dict(entries)
        if metadata:
            header = {"__metadata__": metadata, **entries}
        text = json.dumps(header, separators=(",", ":")).encode("utf-8")
        text += b" " * ((8 - len(text) % 8) % 8)
        self.entries = entries
        self.data_start = 8 + len(text)
        self.file = open(path, "wb")
        self.file.write(struct.pack("<Q", len(text)))
        self.file.write(text)
        self.file.truncate(self.data_start + offset)

    def write(self, name, array):
        """Writes one whole tensor (a numpy array or anything with .numpy(), C-contiguous)."""
        info = self.entries[name]
        array = np.ascontiguousarray(array.numpy() if hasattr(array, "numpy") else array)
        expected = NUMPY_DTYPES[info["dtype"]]
        if array.dtype != expected or array.size != int(np.prod(info["shape"], dtype=np.int64)):
            raise ValueError(f"{self.path}: tensor {name}: expected {info['dtype']} {info['shape']}, "
                             f"got {array.dtype} {list(array.shape)}")
        begin, end = info["data_offsets"]
        if array.nbytes != end - begin:
            raise ValueError(f"{self.path}: tensor {name}: expected {end - begin} bytes, got {array.nbytes}")
        self.file.seek(self.data_start + begin)
        self.file.write(memoryview(array).cast("B"))

    def patch(self, name, flat_indices, values):
        """Overwrites single elements (flat indices) of an already written tensor."""
        info = self.entries[name]
        itemsize = NUMPY_DTYPES[info["dtype"]].itemsize
        values = np.asarray(values, dtype=NUMPY_DTYPES[info["dtype"]])
        for index, value in zip(np.asarray(flat_indices).tolist(), values):
            self.file.seek(self.data_start + info["data_offsets"][0] + index * itemsize)
            self.file.write(value.tobytes())

    def close(self):
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
