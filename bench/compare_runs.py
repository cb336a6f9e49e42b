"""Compare `wiringcheck run` in two source trees, interleaved, by CPU time and wall time.

On a shared, loaded machine a whole-process wall time varies by tens of percent from
one minute to the next; alternating the two trees run by run, and reading the
children's CPU time, compares them under the same load::

    git archive BEFORE | tar -x -C /tmp/before ; git archive AFTER | tar -x -C /tmp/after
    python bench/compare_runs.py /tmp/before /tmp/after --runs 40

Each tree runs its own `[tool.wiringcheck]` (the reference backend) with
`python -m wiringcheck run`; `.pyc` files are written on the first run, as in an install.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    trees = {"before": args.before, "after": args.after}
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    cpu: dict[str, list[float]] = {name: [] for name in trees}
    wall: dict[str, list[float]] = {name: [] for name in trees}
    for tree in trees.values():  # warm-up: writes the .pyc files
        subprocess.run([sys.executable, "-m", "wiringcheck", "run"], cwd=tree, env=env, stdout=subprocess.DEVNULL)
    for index in range(args.runs):
        order = list(trees.items()) if index % 2 == 0 else list(reversed(trees.items()))
        for name, tree in order:
            before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "wiringcheck", "run"], cwd=tree, env=env, stdout=subprocess.DEVNULL, check=True
            )
            wall[name].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    for name in trees:
        print(
            f"{name:6}  cpu median {statistics.median(cpu[name]):.3f} s  mean {statistics.mean(cpu[name]):.3f} s  "
            f"| wall median {statistics.median(wall[name]):.3f} s  mean {statistics.mean(wall[name]):.3f} s"
        )


if __name__ == "__main__":
    main()
