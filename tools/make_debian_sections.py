#!/usr/bin/env python3
"""Snapshot of Debian package short descriptions with their Section, for the MiniLM zoo's debian_section task.

Run:  PYENV_VERSION=system python3 tools/make_debian_sections.py
Reads the apt list of Debian 12 "bookworm" main amd64 (/var/lib/apt/lists/*_debian_dists_bookworm_main_binary-amd64_Packages.lz4,
decompressed with apt's own /usr/lib/apt/apt-helper cat-file) and writes data/zoo/minilm/sources/debian_sections.tsv:
a header comment naming the list's SHA-256 and its Release date, then one line per package of the sections kept:
source package, package, section, short description (tab-separated, sorted by package).

Kept: packages of SECTIONS whose name does not mark a helper split (-dbg, -dbgsym, -doc, -data, -common, -dev, lib*);
within a section, a description already seen is dropped (keeps the first package by name); then at most CAP packages per
section, the first by SHA-256 of their name (a fixed pseudo-random subset, keeping the file small). The zoo builder pins the TSV
by SHA-256, so a regenerated snapshot that differs fails the build loudly instead of changing the task silently.
"""
import glob
import hashlib
import os
import re
import subprocess

SECTIONS = ["admin", "games", "graphics", "net", "science", "sound", "text", "utils"]
CAP = 700  # packages kept per section: the first by SHA-256 of the package name
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "data", "zoo", "minilm", "sources", "debian_sections.tsv")
SKIP = re.compile(r"(^lib)|(-(dbg|dbgsym|doc|data|common|dev)$)")


def main():
    lists = glob.glob("/var/lib/apt/lists/*_debian_dists_bookworm_main_binary-amd64_Packages.lz4")
    if len(lists) != 1:
        raise SystemExit(f"expected one bookworm main Packages list, found {lists}; run apt-get update")
    path = lists[0]
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    release = path.replace("_main_binary-amd64_Packages.lz4", "_InRelease")
    date = next((l.split(":", 1)[1].strip() for l in open(release, encoding="utf-8") if l.startswith("Date:")), "unknown")
    text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", path], check=True, capture_output=True).stdout.decode("utf-8")
    rows, seen = [], set()
    for record in text.split("\n\n"):
        fields = {}
        for line in record.splitlines():
            if line and not line[0].isspace() and ":" in line:
                k, v = line.split(":", 1)
                fields[k] = v.strip()
        name, section, desc = fields.get("Package"), fields.get("Section"), fields.get("Description")
        if not name or section not in SECTIONS or not desc or SKIP.search(name):
            continue
        source = fields.get("Source", name).split(" ")[0]
        rows.append((name, source, section, desc.replace("\t", " ")))
    rows.sort()
    kept = []
    for name, source, section, desc in rows:
        if (section, desc.lower()) in seen:
            continue
        seen.add((section, desc.lower()))
        kept.append((source, name, section, desc))
    capped = []
    for s in SECTIONS:
        rows_s = sorted((r for r in kept if r[2] == s), key=lambda r: hashlib.sha256(r[1].encode("utf-8")).hexdigest())
        capped.extend(rows_s[:CAP])
    kept = sorted(capped, key=lambda r: r[1])
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# {os.path.basename(path)} sha256 {digest}; Release date {date}; sections {' '.join(SECTIONS)}\n")
        for row in kept:
            f.write("\t".join(row) + "\n")
    counts = {s: sum(1 for r in kept if r[2] == s) for s in SECTIONS}
    print(f"wrote {OUT}: {len(kept)} packages {counts}")


if __name__ == "__main__":
    main()
