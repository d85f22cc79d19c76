"""Prints the merge-throughput table from the files bench/merge/run.sh leaves in a family dir, per instruction set:
results/<isa>/<method>.{ours,torch}.<run>.json (sample_rss.py, one per run), <method>.ours.<run>.sha256 (digests of our
outputs), <method>.compare.json (compare.py), ceiling.txt (ReadCeiling's RESULT line), isa.txt (bench/isa.sh's header).
Times are the median over the runs (with the range), RSS the largest peak over the runs.

    python3 report.py FAMILY_DIR MODELS ISA [METHOD...]
"""
import statistics
import glob
import json
import os
import sys

NAMES = {"ta": "task arithmetic", "ties": "TIES", "emr": "EMR (+1 task)", "cart": "CART",
         "tsv_m": "TSV-M", "iso_c": "ISO-C", "iso_cts": "ISO-CTS", "wudi": "WUDI (30 steps)", "pcb": "PCB", "tatr": "TATR"}


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


def runs(results, method, side):
    """The successful runs' sample_rss.py records, in run order (None when a run failed or is missing)."""
    paths = sorted(glob.glob(os.path.join(results, f"{method}.{side}.*.json")),
                   key=lambda p: int(p.rsplit(".", 2)[-2]) if p.rsplit(".", 2)[-2].isdigit() else 0)
    records = [load_json(p) for p in paths]
    return [r for r in records if r is not None and r.get("rc") == 0], len(records)


def summary(records):
    """(median wall, text 'median (min–max)', largest RssAnon kB, largest RssFile kB) of a side's runs."""
    walls = [r["wall_s"] for r in records]
    med = statistics.median(walls)
    text = f"{med:.2f}" + (f" ({min(walls):.2f}–{max(walls):.2f})" if len(walls) > 1 else "")
    return med, text, max(r["peak_rss_anon_kb"] for r in records), max(r["peak_rss_file_kb"] for r in records)


def host_line(ours, torch):
    """'CPU s … ; host steal …' from the runs' CPU time and the hypervisor's steal over each run (sample_rss.py), or
    None for records that predate them. Steal is the share of the machine's CPU time given to other guests while this
    one wanted it: a run with much of it is slow for reasons outside the code."""
    def side(records, key, fmt):
        values = [r[key] for r in records if r.get(key) is not None]
        return "/".join(fmt.format(v) for v in values) if values else None
    cpu_o, cpu_t = side(ours, "cpu_s", "{:.1f}"), side(torch, "cpu_s", "{:.1f}")
    st_o, st_t = side(ours, "steal_pct", "{:.0f}"), side(torch, "steal_pct", "{:.0f}")
    if not (cpu_o or cpu_t or st_o or st_t):
        return None
    return (f"CPU time (user + system) ours {cpu_o or '-'} s, torch {cpu_t or '-'} s; host steal during the runs "
            f"ours {st_o or '-'} %, torch {st_t or '-'} %")


def digests_agree(results, method):
    """'same bytes in N runs', 'DIFFER' or None from the per-run sha256 files of our outputs."""
    texts = []
    for p in glob.glob(os.path.join(results, f"{method}.ours.*.sha256")):
        try:
            with open(p) as f:
                t = f.read().strip()
        except OSError:
            continue
        if t:
            texts.append(t)
    if not texts:
        return None
    return f"same bytes in all {len(texts)} runs" if len(set(texts)) == 1 else f"OUTPUTS DIFFER between runs ({len(set(texts))} variants)"


def main():
    family, models, isa = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    methods = sys.argv[4:] or ["ta", "ties", "emr", "cart"]
    results = os.path.join(family, "results", isa)
    inputs = [os.path.join(family, "base.safetensors")] + [os.path.join(family, f"task{t}.safetensors") for t in range(models)]
    input_bytes = sum(os.path.getsize(p) for p in inputs)
    ceiling = read_ceiling(os.path.join(results, "ceiling.txt"))
    read_gbps, triad_gbps = ceiling.get("read_gbps"), ceiling.get("triad_gbps")

    print(f"\nMerge throughput: base + {models} CLIP ViT-B/32-shaped checkpoints "
          f"({input_bytes / 1e9:.2f} GB of inputs), page cache warm, instruction set {isa}")
    try:
        with open(os.path.join(results, "isa.txt")) as f:
            print(f.read().rstrip())
    except OSError:
        pass
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
        ours_runs, ours_n = runs(results, m, "ours")
        torch_runs, torch_n = runs(results, m, "torch")
        cmp = load_json(os.path.join(results, f"{m}.compare.json")) or {}
        ok_ours = len(ours_runs) == ours_n and ours_n > 0
        ok_torch = len(torch_runs) == torch_n and torch_n > 0
        o_med, o_text, o_anon, o_file = summary(ours_runs) if ok_ours else (None, "failed" if ours_n else "-", None, None)
        t_med, t_text, t_anon, t_file = summary(torch_runs) if ok_torch else (None, "failed" if torch_n else "-", None, None)
        out_bytes = safetensors_bytes(os.path.join(family, "ours" if ok_ours else "torch", m))
        moved = input_bytes + out_bytes
        row = [NAMES.get(m, m), o_text, t_text,
               f"{t_med / o_med:.2f}x" if ok_ours and ok_torch else "-",
               f"{moved / 1e9:.2f}",
               f"{moved / o_med / 1e9:.2f}" if ok_ours else "-",
               f"{moved / o_med / 1e9 / read_gbps:.0%}" if ok_ours and read_gbps else "-",
               f"{mb(o_anon) if ok_ours else '-'} / {mb(t_anon) if ok_torch else '-'}",
               f"{mb(o_file) if ok_ours else '-'} / {mb(t_file) if ok_torch else '-'}",
               max_difference(cmp.get("files", []))]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    print("times: median (min–max) over the runs, each process spawn to exit; speed-up = torch median / ours median; "
          "in+out = input files once + the method's output safetensors; GB/s = in+out / ours median; RSS = largest peak "
          "over the runs of ~20 ms samples of /proc/<pid>/status.")
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
        agree = digests_agree(results, m)
        if agree:
            print(f"  {m} ours: {agree}")
        host = host_line(runs(results, m, "ours")[0], runs(results, m, "torch")[0])
        if host:
            print(f"  {m} {host}")
        inside = [torch_in_process_seconds(p) for p in sorted(glob.glob(os.path.join(results, f"{m}.torch.*.log")))]
        inside = [x for x in inside if x is not None]
        if inside:
            print(f"  {m} torch time inside the process (after imports, as torch_merge.py prints it): "
                  + " / ".join(f"{x:.2f}" for x in inside) + " s")


if __name__ == "__main__":
    main()
