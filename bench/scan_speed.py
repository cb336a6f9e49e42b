"""Speed of `wiringcheck scan`: a cold scan of ~300k lines of real Python, a warm one, and one file.

The corpus is a copy of the installed sources listed in `scan_corpus.PACKAGES`.  Each
figure is the median of several runs in this process (the interpreter is already up;
add ~0.15 s for the `wiringcheck` console script's start-up).  For the single file, the
same file is also checked with ``ruff check`` and ``mypy`` when they are installed, as
a yardstick: the tools do different jobs, but a pre-commit hook pays for each.

    python bench/scan_speed.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_corpus import PACKAGES, count_lines, make_corpus

from wiringcheck.scan import scan_paths

STARTUP_MODULE = "starlette/applications.py"
"""The "one startup module": an application object that wires routes, middleware and lifespan."""


CPU: dict[int, float] = {}
"""The median CPU time of this process for each `median_of` call (by id of the action):
on a loaded machine the wall time grows with the load, the CPU time much less."""


def median_of(runs: int, action: Callable[[], object], before: Callable[[], object] | None = None) -> float:
    times = []
    cpu = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        cpu_started = time.process_time()
        action()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    CPU[id(action)] = statistics.median(cpu)
    return statistics.median(times)


def cpu_of(action: Callable[[], object]) -> str:
    return f"cpu {CPU[id(action)]:5.2f} s"


def external(command: list[str], runs: int) -> float | None:
    if shutil.which(command[0]) is None and not Path(command[0]).is_file():
        return None
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


_PEAK = """
import resource, sys
from pathlib import Path
from wiringcheck.scan import scan_paths
root = Path(sys.argv[1])
jobs = int(sys.argv[2]) if sys.argv[2] != "-" else None
scan_paths([root], root=root, jobs=jobs, cache=False)
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(own + children)
"""


def peak_memory(root: Path, jobs: int | None) -> float:
    """Peak resident memory (MB) of a cold scan in a fresh process: its own, plus its largest worker's."""
    result = subprocess.run(
        [sys.executable, "-c", _PEAK, str(root), str(jobs) if jobs else "-"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    return int(result.stdout.split()[-1]) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--packages", default=",".join(PACKAGES), help="comma-separated installed packages")
    args = parser.parse_args(argv)
    packages = tuple(name for name in args.packages.split(",") if name)

    root = make_corpus(Path(tempfile.mkdtemp(prefix="wiringcheck-speed-")) / "corpus", packages)
    counts = count_lines(root, packages)
    total = sum(counts.values())
    print(f"corpus: {root}")
    for name, lines in counts.items():
        print(f"  {name:12} {lines:>8,} lines")
    print(f"  {'total':12} {total:>8,} lines in {sum(1 for _ in root.rglob('*.py'))} files; {os.cpu_count()} cores")

    cache = root / ".wiringcheck_cache"

    def clear() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def full() -> object:
        return scan_paths([root], root=root, jobs=args.jobs)

    peak = peak_memory(root, args.jobs)
    clear()
    cold = median_of(args.runs, full, clear)

    def serial() -> object:
        return scan_paths([root], root=root, jobs=1)

    cold_serial = median_of(1, serial, clear)
    full()
    warm = median_of(max(args.runs, 5), full)

    startup = root / STARTUP_MODULE
    original = startup.read_text(encoding="utf-8")
    edits = iter(range(1_000_000))

    def touch() -> None:
        startup.write_text(original + f"\n# edit {next(edits)}\n", encoding="utf-8")

    def one_file() -> object:
        return scan_paths([startup], root=root, jobs=args.jobs)

    def one_file_again() -> object:
        return scan_paths([startup], root=root, jobs=args.jobs)

    def one_file_cold() -> object:
        return scan_paths([startup], root=root, jobs=args.jobs)

    one = median_of(max(args.runs, 5), one_file, touch)
    startup.write_text(original, encoding="utf-8")
    one_cached = median_of(max(args.runs, 5), one_file_again)
    one_cold = median_of(max(args.runs, 3), one_file_cold, clear)

    workers = f"{args.jobs or os.cpu_count()} workers"
    print(f"\n{'cold scan, ' + workers:22} : {cold:6.2f} s  ({total / cold:,.0f} lines/s)")
    print(f"cold scan, 1 process   : {cold_serial:6.2f} s  {cpu_of(serial)}")
    print(f"warm scan (cache)      : {warm:6.2f} s  {cpu_of(full)}")
    print(f"one file, edited       : {one:6.2f} s  {cpu_of(one_file)}  ({STARTUP_MODULE}; the rest cached)")
    print(f"one file, unchanged    : {one_cached:6.2f} s  {cpu_of(one_file_again)}")
    print(f"one file, no cache yet : {one_cold:6.2f} s  {cpu_of(one_file_cold)}  (lazy: only what it reaches)")
    print(f"peak memory, cold scan : {peak:6.0f} MB  (max RSS of the process plus its largest worker)")

    scan_paths([root], root=root)  # the cache is warm again for the command-line figure
    command = external(
        [sys.executable, "-m", "wiringcheck", "scan", str(startup), "--root", str(root)], max(args.runs, 3)
    )
    if command is not None:
        print(f"one file, command line : {command:6.2f} s  (python -m wiringcheck scan FILE, subprocess)")
    ruff = external(["ruff", "check", "--isolated", "--no-cache", str(startup)], args.runs)
    mypy = external(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-incremental",
            "--follow-imports=silent",
            "--ignore-missing-imports",
            str(startup),
        ],
        1,
    )
    if ruff is not None:
        print(f"ruff check (same file) : {ruff:6.2f} s  (subprocess)")
    if mypy is not None:
        print(f"mypy (same file)       : {mypy:6.2f} s  (subprocess, --no-incremental)")
    shutil.rmtree(root.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
