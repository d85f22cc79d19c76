#!/usr/bin/env python3
"""Checks every .onnx file under a directory with onnx.checker.check_model(full_check=True) (Debian's python3-onnx).

Usage: PYENV_VERSION=system python3 tools/onnx-check/check_models.py DIR
Prints one line per model; exits 1 if any model fails. Models are checked by path, so external data is found.
"""
import os
import sys

import onnx


def main():
    root = sys.argv[1]
    paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".onnx"))
    if not paths:
        print(f"no .onnx files under {root}")
        return 1
    failed = 0
    for p in paths:
        try:
            onnx.checker.check_model(p, full_check=True)
            m = onnx.load(p, load_external_data=False)
            print(f"checker ok: {os.path.relpath(p, root)} (opset {m.opset_import[0].version}, ir {m.ir_version}, {len(m.graph.node)} nodes)")
        except Exception as e:  # noqa: BLE001 - report every failure by file
            failed += 1
            print(f"checker FAILED: {os.path.relpath(p, root)}: {e}")
    print(f"onnx checker: {len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
