"""What the supervising process costs a healthy `wiringcheck run`: wall time, interleaved, medians and ratios.

Three commands on the bundled reference backend (this repository's ``[tool.wiringcheck]``),
each a fresh interpreter, run in turn N times (so the machine's drift hits all three alike):

- ``supervised``: ``python -m wiringcheck run -q``, the script as users run it (the check in
  a forked child, the parent waiting);
- ``in one process``: the same command line through ``wiringcheck.cli.main`` without the
  supervisor, as this version runs it when called from Python;
- ``before`` (with ``--before PATH``): ``python -m wiringcheck run -q`` from another
  checkout, e.g. the main branch before the supervisor existed.

    python bench/supervisor_overhead.py --runs 21 [--before /path/to/main/checkout]

Prints a Markdown table to paste into docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

UNSUPERVISED = "from wiringcheck.cli import main; raise SystemExit(main(['run', '-q']))"


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"{' '.join(command)} in {cwd} exited {completed.returncode}:\n{completed.stdout}{completed.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--before", type=Path, help="another checkout to compare with (its `python -m wiringcheck`)")
    args = parser.parse_args()
    commands: dict[str, tuple[list[str], Path]] = {
        "supervised": ([sys.executable, "-m", "wiringcheck", "run", "-q"], REPO),
        "in one process": ([sys.executable, "-c", UNSUPERVISED], REPO),
    }
    if args.before is not None:
        commands["before"] = ([sys.executable, "-m", "wiringcheck", "run", "-q"], args.before.resolve())
    for command, cwd in commands.values():  # warm up: .pyc files, the page cache
        timed(command, cwd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, (command, cwd) in commands.items():
            times[name].append(timed(command, cwd))
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians.get("before", medians["in one process"])
    print(f"| `wiringcheck run -q`, reference backend ({args.runs} interleaved runs) | median | ratio |")
    print("|---|---|---|")
    for name, median in medians.items():
        print(f"| {name} | {median * 1000:.0f} ms | {median / base:.2f}x |")
    paired = [s - u for s, u in zip(times["supervised"], times["in one process"], strict=True)]
    difference = statistics.median(paired) * 1000
    print(f"\nmedian of the paired differences, supervised minus in one process: {difference:+.1f} ms")


if __name__ == "__main__":
    main()
