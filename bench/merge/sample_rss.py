"""Runs a command as a child process and samples its peak RssAnon and RssFile from
/proc/<pid>/status every ~20 ms; measures its wall time (spawn to exit).

    python3 sample_rss.py RESULT.json LOG.txt -- COMMAND ARGS...

Writes {"wall_s", "rc", "peak_rss_anon_kb", "peak_rss_file_kb", "samples"} to RESULT.json;
the child's stdout and stderr go to LOG.txt. Exits with the child's exit status.
"""
import json
import subprocess
import sys
import time

INTERVAL_S = 0.02


def read_rss(pid):
    """(RssAnon kB, RssFile kB) of a live process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["RssAnon"].split()[0]), int(fields["RssFile"].split()[0])
    except (OSError, KeyError, ValueError):
        return None


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit(__doc__)
    result_path, log_path, command = sys.argv[1], sys.argv[2], sys.argv[4:]
    peak_anon = peak_file = samples = 0
    with open(log_path, "w") as log:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        while child.poll() is None:
            rss = read_rss(child.pid)
            if rss is not None:
                peak_anon, peak_file = max(peak_anon, rss[0]), max(peak_file, rss[1])
                samples += 1
            time.sleep(INTERVAL_S)
        wall = time.perf_counter() - start
    with open(result_path, "w") as f:
        json.dump({"command": command, "wall_s": wall, "rc": child.returncode, "peak_rss_anon_kb": peak_anon,
                   "peak_rss_file_kb": peak_file, "samples": samples}, f)
    sys.exit(child.returncode)


if __name__ == "__main__":
    main()
