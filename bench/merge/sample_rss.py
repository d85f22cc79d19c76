"""Runs a command as a child process and samples its peak RssAnon and RssFile from
/proc/<pid>/status every ~20 ms; measures its wall time (spawn to exit), its CPU time (user + system, from the
kernel's accounting of this script's children) and the host's steal over the run (the share of the machine's CPU
time that the hypervisor gave to others while the guest wanted it, from /proc/stat: on a shared VM the figure that
says how far a wall time is the code's own).

    python3 sample_rss.py RESULT.json LOG.txt -- COMMAND ARGS...

Writes {"wall_s", "cpu_s", "steal_pct", "rc", "peak_rss_anon_kb", "peak_rss_file_kb", "samples"} to RESULT.json;
the child's stdout and stderr go to LOG.txt. Exits with the child's exit status.
"""
import json
import resource
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


def cpu_times():
    """The machine's aggregate CPU time counters from /proc/stat (user nice system idle iowait irq softirq steal …),
    or None where there is no such file."""
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu "):
                    return [int(v) for v in line.split()[1:]]
    except (OSError, ValueError):
        return None
    return None


def steal_pct(before, after):
    """Steal's share of all CPU time between two /proc/stat readings, in percent (None without both)."""
    if before is None or after is None or len(before) < 8 or len(after) < 8:
        return None
    total = sum(after[:8]) - sum(before[:8])
    return 100.0 * (after[7] - before[7]) / total if total > 0 else None


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit(__doc__)
    result_path, log_path, command = sys.argv[1], sys.argv[2], sys.argv[4:]
    peak_anon = peak_file = samples = 0
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    stat0 = cpu_times()
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
    stat1 = cpu_times()
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    with open(result_path, "w") as f:
        json.dump({"command": command, "wall_s": wall, "cpu_s": cpu, "steal_pct": steal_pct(stat0, stat1),
                   "rc": child.returncode, "peak_rss_anon_kb": peak_anon, "peak_rss_file_kb": peak_file,
                   "samples": samples}, f)
    sys.exit(child.returncode)


if __name__ == "__main__":
    main()
