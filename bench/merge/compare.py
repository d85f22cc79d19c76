"""Compares two safetensors files tensor by tensor (numpy memmap): max |a − b| over the
tensors both files hold with the same name, dtype and element count.

    python3 compare.py REFERENCE.safetensors CANDIDATE.safetensors
    python3 compare.py --dirs REFERENCE_DIR CANDIDATE_DIR --json OUT.json [--family DIR --models N] RELATIVE_PATH...
The second form compares DIR/RELATIVE_PATH pairs and writes {"files": [result, ...]}. With
--family (CART), it also measures the difference relative to the merge's own update over the
average: ‖cand − ref‖F / ‖ref − θavg‖F, θavg = mean of the family's task checkpoints, over the
tensors whose update is not zero (the low-rank block matrices); with --relative-to base (the
subspace methods) the update is measured over the base checkpoint θ0 instead.
"""
import argparse
import os
import json
import sys

import numpy as np

from safetensors_io import open_tensors


def update_difference(reference_path, candidate_path, family, models, relative_to="average"):
    """Relative Frobenius difference of the update over θavg (or θ0): per tensor (max) and over the model."""
    reference, candidate = open_tensors(reference_path, "r"), open_tensors(candidate_path, "r")
    tasks = [open_tensors(os.path.join(family, f"task{t}.safetensors"), "r") for t in range(models)]
    base = open_tensors(os.path.join(family, "base.safetensors"), "r")
    worst, worst_name, diff_sq, update_sq = 0.0, None, 0.0, 0.0
    for name, ref in sorted(reference.items()):
        ref = ref.astype(np.float64)
        if relative_to == "base":
            average = base[name].astype(np.float64)
        else:
            average = np.mean([t[name] for t in tasks], axis=0, dtype=np.float64)
        update = np.linalg.norm(ref - average)
        if update <= 1e-4 * np.linalg.norm(ref):
            continue  # θavg (up to rounding): no update to compare against
        diff = np.linalg.norm(ref - candidate[name])
        diff_sq, update_sq = diff_sq + diff ** 2, update_sq + update ** 2
        if diff / update > worst:
            worst, worst_name = diff / update, name
    return {"update_rel_frobenius_max": worst, "update_rel_frobenius_worst_tensor": worst_name,
            "update_rel_frobenius_model": float(np.sqrt(diff_sq / update_sq)) if update_sq else 0.0}


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
    if len(sys.argv) > 1 and sys.argv[1] != "--dirs":
        if len(sys.argv) < 3:
            sys.exit(__doc__)
        result = compare(sys.argv[1], sys.argv[2])
        print(f"max |a-b| = {result['max_abs_diff']:.3e} ({result['worst_tensor']}), "
              f"relative {result['max_diff_over_max_abs']:.3e}; {result['compared']} tensors compared, "
              f"{result['skipped']} only in/different in {sys.argv[1]}, {result['only_in_candidate']} only in {sys.argv[2]}")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dirs", nargs=2, required=True, metavar=("REFERENCE_DIR", "CANDIDATE_DIR"))
    parser.add_argument("--json", required=True)
    parser.add_argument("--family")
    parser.add_argument("--models", type=int)
    parser.add_argument("--relative-to", choices=["average", "base"], default="average")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    files = []
    for relative in args.files:
        a, b = (os.path.join(d, relative) for d in args.dirs)
        if not (os.path.exists(a) and os.path.exists(b)):
            print(f"compare: missing {a if not os.path.exists(a) else b}", file=sys.stderr)
            continue
        result = {"file": relative, **compare(a, b)}
        if args.family:
            result.update(update_difference(a, b, args.family, args.models, args.relative_to))
            result["relative_to"] = args.relative_to
        files.append(result)
    with open(args.json, "w") as f:
        json.dump({"files": files}, f)
    for r in files:
        print(f"{r['file']}: max |torch-ours| = {r['max_abs_diff']:.3e} ({r['worst_tensor']})"
              + (f", {r['int_elements_differing']} of {r['int_elements']} mask bytes differ" if r["int_elements"] else "")
              + (f", {r['skipped']} tensors not comparable" if r["skipped"] else "")
              + (f"; ‖ours − torch‖F / ‖torch − {'θ0' if r.get('relative_to') == 'base' else 'θavg'}‖F = {r['update_rel_frobenius_model']:.2e} over the model, "
                 f"max {r['update_rel_frobenius_max']:.2e} ({r['update_rel_frobenius_worst_tensor']})"
                 if "update_rel_frobenius_model" in r else ""))


if __name__ == "__main__":
    main()
