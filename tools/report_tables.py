#!/usr/bin/env python3
"""Markdown tables of a report.json (format mlnetmerge.report): the merge methods (Current and KNN per task, averages
and normalised averages), the protocols of each recipe that ran more than Current and KNN, the alignment stages, and
the validation sweeps. Standard library only.

  python3 tools/report_tables.py data/zoo/minilm/results/report.json
  python3 tools/report_tables.py --merge OUT.json A/report.json B/report.json ...   # one report from several
"""
import json
import sys


def pct(x):
    return "–" if x is None else f"{100 * x:.1f}"


# Methods whose merged model differs per task (a mask, a rescaler or a low-rank part per task).
PER_TASK = {"emr", "tall", "cart_indexing"}


def describe(h):
    if not h:
        return ""
    names = {"scale": "λ", "rank_ratio": "rank", "kappa": "κ"}
    return ", ".join(f"{names.get(k, k)} {v:g}" for k, v in h.items())


def merge(out, paths):
    recipes = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            recipes.extend(json.load(f)["recipes"])
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"format": "mlnetmerge.report", "version": 1, "recipes": recipes}, f, indent=2, ensure_ascii=False)
        f.write("\n")


def tables(path):
    with open(path, encoding="utf-8") as f:
        recipes = json.load(f)["recipes"]
    first = recipes[0]
    family, tasks = first["family"], first["tasks"]
    rows = first[family]
    knn = next((p for p in first["protocols"] if p.startswith("knn")), None)
    out = []
    out.append(f"| method (selected on validation) | {' | '.join(tasks)} | Current Avg | Current norm. | KNN Avg | KNN norm. |")
    out.append("|---|" + "---|" * (len(tasks) + 4))

    def line(name, row):
        cells = []
        for t in tasks:
            m = row["tasks"][t]
            cells.append(f"{pct(m['current']['Accuracy'])} / {pct(m[knn]['Accuracy']) if knn in m else '–'}")
        avg, norm = row["average"], row["normalized"]
        out.append(f"| {name} | {' | '.join(cells)} | {pct(avg['current'])} | {pct(norm['current'])} | {pct(avg.get(knn))} | {pct(norm.get(knn))} |")

    line("base", rows["base"])
    methods = [r for r in recipes if not any("+" in k for k in r[family])]
    for r in sorted(methods, key=lambda r: r[family][r["recipe"] if r["recipe"] in r[family] else next(iter(r[family]))]["normalized"]["current"]):
        name = next(k for k in r[family] if k not in ("base", "individual"))
        row = r[family][name]
        h = describe(row.get("hyperparameters"))
        label = name + (", per task" if name in PER_TASK else "")
        line(f"{label} ({h})" if h else label, row)
    line("individual", rows["individual"])
    out.append("")
    out.append("Cells: Current / KNN test accuracy %; normalised = merged / individual, per task, averaged.")
    out.append("")

    for r in recipes:
        rows = r[family]
        stages = [k for k in rows if "+" in k]
        extra = [p for p in r["protocols"] if p not in ("current", knn)]
        if not stages and not extra:
            continue
        method = next(k for k in rows if k not in ("base", "individual") and "+" not in k)
        out.append(f"**{r['recipe']}** ({method}, {describe(rows[method].get('hyperparameters')) or 'no sweep'}):")
        out.append("")
        out.append("| model | protocol | Avg % | norm. % |")
        out.append("|---|---|---|---|")
        for name in ["base", method] + stages + ["individual"]:
            row = rows[name]
            for p, v in row["average"].items():
                if name in ("base", "individual") and p not in r["protocols"]:
                    continue
                out.append(f"| {name} | {p} | {pct(v)} | {pct(row['normalized'].get(p))} |")
        out.append("")

    out.append("Validation sweeps (average validation accuracy %):")
    out.append("")
    for r in methods:
        name = next(k for k in r[family] if k not in ("base", "individual"))
        sweep = r[family][name].get("sweep") or []
        if sweep:
            out.append(f"- {name}: " + "; ".join(f"{describe(p['parameters'])} → {pct(p['validation_accuracy'])}" for p in sweep))
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--merge":
        merge(sys.argv[2], sys.argv[3:])
    else:
        print(tables(sys.argv[1]))
