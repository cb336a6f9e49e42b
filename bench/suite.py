"""The test suite's wall time and CPU, every process it starts counted: `python -m pytest`, as CI runs it.

Every descendant is counted (`descendants.py`: `/usr/bin/time` misses a process whose
parent exited first, such as a fork server). The suite's own arguments follow `--`; each
configuration is run `--runs` times, interleaved with the others.

A shared machine's speed drifts: the same CPU-bound loop took 2.6 s and, half an hour
later, 3.5 s on this one, with nothing else running in it. Before each run of the suite a
fixed pure-Python loop is timed (`reference`, the fastest of three), and again after it;
the table also gives the suite's wall time in those loops (their mean): a figure the
drift changes less, so runs made at different hours compare roughly. The drift comes in
bursts, so a loop timed beside a run only estimates the speed during it.

    python bench/suite.py [--runs 3] [--workers 4 5] [--against /tmp/wc-before]  [-- PYTEST ARGS]

`--against` runs the suite of another checkout too (say `git worktree add /tmp/wc-before
COMMIT`), interleaved with this one's: before and after, measured on the same minutes.

Linux only. Writes nothing in the repository; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

from descendants import become_subreaper, measure

REPO = Path(__file__).resolve().parents[1]


def reference() -> float:
    """Seconds of the fastest of three runs of a fixed pure-Python loop: how fast this machine is right now."""

    def loop() -> float:
        started = time.perf_counter()
        table: dict[int, str] = {}
        for number in range(1_500_000):
            table[number % 1024] = str(number)
        return time.perf_counter() - started

    return min(loop() for _ in range(3))


def suite_once(command: list[str], tree: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds of every descendant, and pytest's last line, of one run of `command` in `tree`."""
    wall, cpu, done = measure(command, cwd=tree)
    lines = [line for line in done.stdout.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    return wall, cpu, lines[-1].strip("= ") if lines else f"exit {done.returncode}"


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", nargs="*", default=[], help="pytest-xdist worker counts to compare (-n)")
    parser.add_argument("--against", type=Path, help="another checkout whose suite is run too, interleaved")
    options = parser.parse_args(own)
    become_subreaper()
    trees = {"": REPO} if options.against is None else {"this tree, ": REPO, "--against, ": options.against.resolve()}
    configurations = {
        f"{label}{f'-n {n}' if n else 'as configured'}": (
            [sys.executable, "-m", "pytest", "-q", *(["-n", n] if n else []), *extra],
            tree,
        )
        for label, tree in trees.items()
        for n in (options.workers or [""])
    }
    results: dict[str, list[tuple[float, float, str, float]]] = {name: [] for name in configurations}
    for _ in range(options.runs):
        for name, (command, tree) in configurations.items():
            before = reference()
            wall, cpu, last = suite_once(command, tree)
            results[name].append((wall, cpu, last, (before + reference()) / 2))
    print(
        "| `python -m pytest` | wall, each run | CPU, each run | reference loop | median wall | median CPU |"
        " median wall in loops | last run |"
    )
    print("|---|---|---|---|---:|---:|---:|---|")
    for name, runs in results.items():
        walls = ", ".join(f"{wall:.1f}" for wall, _, _, _ in runs)
        cpus = ", ".join(f"{cpu:.1f}" for _, cpu, _, _ in runs)
        speeds = ", ".join(f"{speed * 1000:.0f}" for _, _, _, speed in runs)
        wall = statistics.median(w for w, _, _, _ in runs)
        cpu = statistics.median(c for _, c, _, _ in runs)
        loops = statistics.median(w / speed for w, _, _, speed in runs)
        print(
            f"| {name} | {walls} s | {cpus} s | {speeds} ms | {wall:.1f} s | {cpu:.1f} s | {loops:.0f} |"
            f" {runs[-1][2]} |"
        )


if __name__ == "__main__":
    main()
