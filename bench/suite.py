"""The test suite's wall time and CPU, every process it starts counted: `python -m pytest`, as CI runs it.

`/usr/bin/time` counts the CPU of the processes it waits for; a process whose parent
exited first (a fork server, a server forked from, a backend's child) is reparented and
never counted. This script makes itself their subreaper (Linux's PR_SET_CHILD_SUBREAPER),
so every descendant is waited for, and counted, here. The suite's own arguments follow
`--`; each configuration is run `--runs` times, interleaved with the others.

    python bench/suite.py [--runs 3] [--workers 4 5]  [-- PYTEST ARGS]

Linux only. Writes nothing in the repository; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PR_SET_CHILD_SUBREAPER = 36


def reap_all() -> None:
    """Wait for every descendant left to this subreaper."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def measure(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds of every descendant, and pytest's last line, of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    reap_all()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [line for line in done.stdout.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    return wall, cpu, lines[-1].strip("= ") if lines else f"exit {done.returncode}"


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", nargs="*", default=[], help="pytest-xdist worker counts to compare (-n)")
    options = parser.parse_args(own)
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("this benchmark needs Linux's PR_SET_CHILD_SUBREAPER")
    configurations = {
        (f"-n {n}" if n else "as configured"): [sys.executable, "-m", "pytest", "-q", *(["-n", n] if n else []), *extra]
        for n in (options.workers or [""])
    }
    results: dict[str, list[tuple[float, float, str]]] = {name: [] for name in configurations}
    for _ in range(options.runs):
        for name, command in configurations.items():
            results[name].append(measure(command))
    print("| `python -m pytest` | wall, each run | CPU, each run | median wall | median CPU | last run |")
    print("|---|---|---|---:|---:|---|")
    for name, runs in results.items():
        walls = ", ".join(f"{wall:.1f}" for wall, _, _ in runs)
        cpus = ", ".join(f"{cpu:.1f}" for _, cpu, _ in runs)
        wall = statistics.median(w for w, _, _ in runs)
        cpu = statistics.median(c for _, c, _ in runs)
        print(f"| {name} | {walls} s | {cpus} s | {wall:.1f} s | {cpu:.1f} s | {runs[-1][2]} |")


if __name__ == "__main__":
    main()
