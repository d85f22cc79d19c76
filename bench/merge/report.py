"""Prints the merge-throughput table from the files bench/merge/run.sh leaves in a family dir:
results/<method>.{ours,torch}.json (sample_rss.py), results/<method>.compare.json (compare.py),
results/ceiling.txt (ReadCeiling's RESULT line).

    python3 report.py FAMILY_DIR MODELS [METHOD...]
"""
import glob
import json
import os
import sys

NAMES = {"ta": "task arithmetic", "ties": "TIES", "emr": "EMR (+1 task)", "cart": "CART",
         "tsv_m": "TSV-M", "iso_c": "ISO-C", "iso_cts": "ISO-CTS", "wudi": "WUDI (30 steps)"}


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def safetensors_bytes(directory):
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(directory, "**", "*.safetensors"), recursive=True))


def read_ceiling(path):
    values = {}
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("RESULT "):
                    values = dict(item.split("=", 1) for item in line.split()[1:])
    except OSError:
        pass
    return {k: float(v) for k, v in values.items()}


def torch_in_process_seconds(log_path):
    """wall_s from the JSON line torch_merge.py prints last."""
    try:
        with open(log_path) as f:
            lines = [line for line in f if line.startswith("{")]
        return json.loads(lines[-1])["wall_s"] if lines else None
    except (OSError, ValueError, KeyError):
        return None


def max_difference(files):
    """The largest float difference over the compared files, plus differing mask bytes if any."""
    if not files:
        return "-"
    worst = max(c["max_abs_diff"] for c in files)
    text = "identical" if worst == 0 else f"{worst:.1e}"
    masks = sum(c.get("int_elements_differing", 0) for c in files)
    return text + (f" ({masks} mask B differ)" if masks else "")


def read_load(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def mb(kb):
    return f"{kb / 1024:.0f}"


def main():
    family, models = sys.argv[1], int(sys.argv[2])
    methods = sys.argv[3:] or ["ta", "ties", "emr", "cart"]
    results = os.path.join(family, "results")
    inputs = [os.path.join(family, "base.safetensors")] + [os.path.join(family, f"task{t}.safetensors") for t in range(models)]
    input_bytes = sum(os.path.getsize(p) for p in inputs)
    ceiling = read_ceiling(os.path.join(results, "ceiling.txt"))
    read_gbps, triad_gbps = ceiling.get("read_gbps"), ceiling.get("triad_gbps")

    print(f"\nMerge throughput: base + {models} CLIP ViT-B/32-shaped checkpoints "
          f"({input_bytes / 1e9:.2f} GB of inputs), page cache warm")
    if read_gbps:
        print(f"physical limits: file-read ceiling {read_gbps:.2f} GB/s (RandomAccess.Read, 64 MiB buffer, 1 thread), "
              f"memory bandwidth {triad_gbps:.2f} GB/s (triad, 2 threads)")
    header = ["method", "ours s", "torch s", "speed-up", "in+out GB", "ours GB/s", "of ceiling",
              "RssAnon MB ours/torch", "RssFile MB ours/torch", "max|ours-torch|"]
    load = read_load(os.path.join(results, "load.txt"))
    if load:
        print(f"load average before the run: {load} (other jobs on the machine skew every figure)")
    rows = []
    for m in methods:
        ours, torch = load_json(os.path.join(results, f"{m}.ours.json")), load_json(os.path.join(results, f"{m}.torch.json"))
        cmp = load_json(os.path.join(results, f"{m}.compare.json")) or {}
        ok_ours = ours is not None and ours["rc"] == 0
        ok_torch = torch is not None and torch["rc"] == 0
        out_bytes = safetensors_bytes(os.path.join(family, "ours" if ok_ours else "torch", m))
        moved = input_bytes + out_bytes
        row = [NAMES.get(m, m),
               f"{ours['wall_s']:.2f}" if ok_ours else ("failed" if ours else "-"),
               f"{torch['wall_s']:.2f}" if ok_torch else ("failed" if torch else "-"),
               f"{torch['wall_s'] / ours['wall_s']:.2f}x" if ok_ours and ok_torch else "-",
               f"{moved / 1e9:.2f}",
               f"{moved / ours['wall_s'] / 1e9:.2f}" if ok_ours else "-",
               f"{moved / ours['wall_s'] / 1e9 / read_gbps:.0%}" if ok_ours and read_gbps else "-",
               f"{mb(ours['peak_rss_anon_kb']) if ok_ours else '-'} / {mb(torch['peak_rss_anon_kb']) if ok_torch else '-'}",
               f"{mb(ours['peak_rss_file_kb']) if ok_ours else '-'} / {mb(torch['peak_rss_file_kb']) if ok_torch else '-'}",
               max_difference(cmp.get("files", []))]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    print("speed-up = torch wall / ours wall (process spawn to exit, both); in+out = input files once + the "
          "method's output safetensors; GB/s = in+out / ours wall; RSS = peak over ~20 ms samples of "
          "/proc/<pid>/status.")
    for m in methods:
        cmp = load_json(os.path.join(results, f"{m}.compare.json")) or {}
        for c in cmp.get("files", []):
            where = (f"{c['max_abs_diff']:.2e} at {c['worst_tensor']} (relative to max|torch| "
                     f"{c['max_diff_over_max_abs']:.1e})") if c["worst_tensor"] else "0 (bit-identical)"
            print(f"  {m} {c['file']}: max|ours-torch| {where}, {c['compared']} tensors compared, "
                  f"{c['skipped']} not comparable"
                  + (f"; packed masks: {c['int_elements_differing']} of {c['int_elements']} bytes differ"
                     if c.get("int_elements") else ""))
            if "update_rel_frobenius_model" in c and c["update_rel_frobenius_worst_tensor"] is None:
                print("    torch's update over θavg is zero (with 2 models exact CART is weight averaging): "
                      "the difference above is all ours")
            elif "update_rel_frobenius_model" in c:
                point = "θ0" if c.get("relative_to") == "base" else "θavg"
                print(f"    relative to the update over {point}: ‖ours − torch‖F / ‖torch − {point}‖F = "
                      f"{c['update_rel_frobenius_model']:.2e} over the model, max {c['update_rel_frobenius_max']:.2e} "
                      f"({c['update_rel_frobenius_worst_tensor']})")
        in_process = torch_in_process_seconds(os.path.join(results, f"{m}.torch.log"))
        if in_process is not None:
            print(f"  {m} torch time inside the process (after imports, as torch_merge.py prints it): {in_process:.2f} s")


if __name__ == "__main__":
    main()
