"""Compares two safetensors files tensor by tensor (numpy memmap): max |a − b| over the
tensors both files hold with the same name, dtype and element count.

    python3 compare.py REFERENCE.safetensors CANDIDATE.safetensors
    python3 compare.py --dirs REFERENCE_DIR CANDIDATE_DIR --json OUT.json RELATIVE_PATH...
The second form compares DIR/RELATIVE_PATH pairs and writes {"files": [result, ...]}.
"""
import os
import json
import sys

import numpy as np

from safetensors_io import open_tensors


def compare(reference_path, candidate_path):
    """Float tensors: max |a − b| (and over max |a|); integer tensors (packed masks): count of
    differing elements. Tensors match by name; other names are counted as skipped."""
    reference, candidate = open_tensors(reference_path, "r"), open_tensors(candidate_path, "r")
    worst, worst_name, worst_relative, compared, skipped = 0.0, None, 0.0, 0, []
    int_elements, int_differing = 0, 0
    for name, ref in sorted(reference.items()):
        cand = candidate.get(name)
        if cand is None or cand.dtype != ref.dtype or cand.size != ref.size:
            skipped.append(name)
            continue
        compared += 1
        if ref.dtype.kind != "f":
            int_elements += ref.size
            int_differing += int(np.count_nonzero(ref.reshape(-1) != cand.reshape(-1)))
            continue
        diff = float(np.max(np.abs(ref.reshape(-1).astype(np.float64) - cand.reshape(-1)))) if ref.size else 0.0
        scale = float(np.max(np.abs(ref))) if ref.size else 1.0
        if diff > worst:
            worst, worst_name = diff, name
        worst_relative = max(worst_relative, diff / (scale or 1.0))
    only_candidate = sorted(set(candidate) - set(reference))
    return {"max_abs_diff": worst, "worst_tensor": worst_name, "max_diff_over_max_abs": worst_relative,
            "compared": compared, "skipped": len(skipped), "only_in_candidate": len(only_candidate),
            "int_elements": int_elements, "int_elements_differing": int_differing,
            "skipped_names": skipped[:5], "only_in_candidate_names": only_candidate[:5]}


def main():
    if len(sys.argv) >= 7 and sys.argv[1] == "--dirs" and sys.argv[4] == "--json":
        reference_dir, candidate_dir, out = sys.argv[2], sys.argv[3], sys.argv[5]
        files = []
        for relative in sys.argv[6:]:
            a, b = os.path.join(reference_dir, relative), os.path.join(candidate_dir, relative)
            if os.path.exists(a) and os.path.exists(b):
                files.append({"file": relative, **compare(a, b)})
            else:
                print(f"compare: missing {a if not os.path.exists(a) else b}", file=sys.stderr)
        with open(out, "w") as f:
            json.dump({"files": files}, f)
        for r in files:
            print(f"{r['file']}: max |torch-ours| = {r['max_abs_diff']:.3e} ({r['worst_tensor']})"
                  + (f", {r['int_elements_differing']} of {r['int_elements']} mask bytes differ" if r["int_elements"] else "")
                  + (f", {r['skipped']} tensors not comparable" if r["skipped"] else ""))
        return
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    result = compare(sys.argv[1], sys.argv[2])
    print(f"max |a-b| = {result['max_abs_diff']:.3e} ({result['worst_tensor']}), "
              f"relative {result['max_diff_over_max_abs']:.3e}; {result['compared']} tensors compared, "
              f"{result['skipped']} only in/different in {sys.argv[1]}, {result['only_in_candidate']} only in {sys.argv[2]}")


if __name__ == "__main__":
    main()
