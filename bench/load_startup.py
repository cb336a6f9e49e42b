"""What `wiringcheck load` costs to start its client processes: this tree against another.

Times ``python -m wiringcheck load -u 4 --runs 1`` (the reference backend, two client
processes, one run each: the cost is the boot and the clients' start, not the load) of
this tree and of `--against` (say a `git archive` of main), interleaved, after a warm-up
round. CPU is that of every process the command started, grandchildren included: this
process makes itself their subreaper (Linux's PR_SET_CHILD_SUBREAPER), so a client or a
fork server whose parent exited first is still waited for, and counted, here.

    python bench/load_startup.py --against /tmp/wc-main [--runs 15]

Linux only. Writes nothing in the repository; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from descendants import become_subreaper, measure

REPO = Path(__file__).resolve().parents[1]


def load_once(tree: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (every descendant) of one load run of `tree`."""
    # `python -c` with the tree first on sys.path: `-m` would put the working directory (this repository) first.
    script = f"import sys; sys.path.insert(0, {str(tree)!r}); from wiringcheck.cli import entry; entry()"
    command = [sys.executable, "-c", script, "load", "-u", "4", "--runs", "1", "--workers", "2", "-q"]
    wall, cpu, _ = measure(command, cwd=REPO, env=env)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="another tree holding a wiringcheck package")
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    become_subreaper()
    trees = {"this tree": REPO, "--against": options.against.resolve()}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as cache:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache  # compiled once, as an installed package is
        for round_ in range(options.runs + 1):
            for name, tree in trees.items():
                figures = load_once(tree, env)
                if round_:
                    results[name].append(figures)
    base_wall = statistics.median(wall for wall, _ in results["--against"])
    base_cpu = statistics.median(cpu for _, cpu in results["--against"])
    print(f"`wiringcheck load -u 4 --runs 1 --workers 2`, median of {options.runs} interleaved runs\n")
    print("| tree | wall | CPU (all processes) | wall ratio | CPU ratio |")
    print("|---|---|---|---|---|")
    for name, figures in results.items():
        wall = statistics.median(w for w, _ in figures)
        cpu = statistics.median(c for _, c in figures)
        print(
            f"| {name} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms | {wall / base_wall:.2f}x | {cpu / base_cpu:.2f}x |"
        )


if __name__ == "__main__":
    main()
