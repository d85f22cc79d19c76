#!/usr/bin/env python3
"""Writes the small .npy fixtures that NpyFileTests reads, with the expected values in expected.json.

Run with Debian's numpy:  PYENV_VERSION=system python3 tools/make_npy_fixtures.py
Output: tests/MLNetMerge.Tests/Fixtures/npy/*.npy and expected.json (values flattened in C order).
"""
import json
import os

import numpy as np
from numpy.lib import format as npformat

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "MLNetMerge.Tests", "Fixtures", "npy")


def save(name, array, version=None, expected=True):
    path = os.path.join(OUT, name + ".npy")
    with open(path, "wb") as f:
        npformat.write_array(f, array, version=version)
    if not expected:
        return None
    flat = np.ascontiguousarray(array).reshape(-1)
    if array.dtype.kind == "f":
        values = [float(x) for x in flat]          # exact double of each stored element
    elif array.dtype.kind == "b":
        values = [bool(x) for x in flat]
    else:
        values = [int(x) for x in flat]
    return {"descr": array.dtype.str, "shape": list(array.shape), "values": values,
            "version": list(version) if version else [1, 0]}


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    # 2-D float32: arange(6) / 3 - 1 -> -1, -2/3, -1/3, 0, 1/3, 2/3 (rounded to float32)
    expected["f4_2d"] = save("f4_2d", (np.arange(6, dtype="<f4") / np.float32(3) - np.float32(1)).reshape(2, 3))
    # 0-d scalar: shape ()
    expected["f4_scalar"] = save("f4_scalar", np.array(3.25, dtype="<f4"))
    # float64, read back as float32
    expected["f8_1d"] = save("f8_1d", np.array([0.1, -2.5, 1e-3, 123456789.0], dtype="<f8"))
    # float16
    expected["f2_1d"] = save("f2_1d", np.array([1.5, -0.25, 65504.0, 0.0009765625], dtype="<f2"))
    # int64 with values beyond 32 bits
    expected["i8_2d"] = save("i8_2d", np.array([[1, -2, 3], [2 ** 40, -(2 ** 62), 0]], dtype="<i8"))
    # int32
    expected["i4_1d"] = save("i4_1d", np.array([7, -7, 2 ** 31 - 1], dtype="<i4"))
    # uint8 (numpy writes descr '|u1')
    expected["u1_1d"] = save("u1_1d", np.array([0, 255, 7], dtype="u1"))
    # bool (descr '|b1')
    expected["b1_1d"] = save("b1_1d", np.array([True, False, True, True]))
    # explicit version 2.0 and 3.0 headers (u32 header length)
    expected["f4_v2"] = save("f4_v2", np.array([[1.0, 2.0], [3.0, 4.5]], dtype="<f4"), version=(2, 0))
    expected["i8_v3"] = save("i8_v3", np.array([5, 6, 7], dtype="<i8"), version=(3, 0))
    # empty array with a zero dimension
    expected["f4_empty"] = save("f4_empty", np.zeros((0, 4), dtype="<f4"))
    # files the reader must refuse
    save("fortran", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)), expected=False)
    save("big_endian", np.array([1.0, 2.0], dtype=">f4"), expected=False)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
