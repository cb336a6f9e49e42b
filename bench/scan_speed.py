"""Speed and memory of `wiringcheck scan`: cold, warm, an edit rescanned in a new process, one file.

The corpus is a copy of the installed sources listed in `scan_corpus.PACKAGES` (or
`--packages`), plus the applications of `--extra` folders (wheels unpacked anywhere:
never vendored here), plus a test suite under ``tests/`` made of `--tests-from` packages.

- *cold*: a fresh process scans the whole tree with no cache, as `wiringcheck scan .`
  would the first time: its wall time, and the peak memory of its whole process tree
  (the parent and its workers, sampled every 20 ms from /proc: the sum of their resident
  sets, which counts the pages they share once per process, and the proportional set
  size, which counts them once);
- *cold, 1 process*: the same scan with ``jobs=1``, in this process (CPU time);
- *warm*: nothing changed, the cache answers (this process);
- *edit, new process*: one function body edited, then the whole tree scanned again in a
  *new* process with another ``PYTHONHASHSEED``: only that file may be checked again;
- *one file, no cache*: a fresh process scans one file of a tree with no cache at all
  (the lazy mode, what a pre-commit hook on a fresh clone pays).

Each figure is the median of `--runs` runs.  Add ~0.15 s for the console script's
start-up to the in-process figures.

    python bench/scan_speed.py --runs 3
    python bench/scan_speed.py --extra /tmp/apps --tests-from _pytest,mypy,rich
"""

from __future__ import annotations

import argparse
import json
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

REPO = Path(__file__).resolve().parent.parent

STARTUP_MODULE = "starlette/applications.py"
"""The "one startup module": an application object that wires routes, middleware and lifespan."""

EDITED_FUNCTION = "    def build_middleware_stack(self) -> ASGIApp:\n"
"""The function whose body the edit benchmark changes (a line is added after this one)."""


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


# -- a scan in a fresh process, with the memory of its whole process tree ---------------------------

_SCAN = """
import json, sys
from pathlib import Path
from wiringcheck.scan import scan_paths
root, target, jobs, cache = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4] == "cache"
report = scan_paths([target], root=root, jobs=int(jobs) if jobs != "-" else None, cache=cache)
keys = ("mode", "parsed", "cached", "checked", "workers", "lines")
print(json.dumps({**{k: report.extra[k] for k in keys}, "findings": len(report.findings)}))
"""


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as stream:
            return [int(item) for item in stream.read().split()]
    except OSError:
        return []


def _memory(pid: int) -> tuple[int, int]:
    """(resident, proportional) bytes of one process; (0, 0) once it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/statm") as stream:
            rss = int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        with open(f"/proc/{pid}/smaps_rollup") as stream:
            for line in stream:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    return rss, pss


def scan_in_new_process(
    root: Path, target: Path, *, jobs: int | None, cache: bool, seed: str = "0"
) -> tuple[float, int, int, dict[str, int]]:
    """(wall seconds, peak tree RSS bytes, peak tree PSS bytes, the report's figures) of a scan in a new process."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": seed}
    command = [sys.executable, "-c", _SCAN, str(root), str(target), str(jobs) if jobs else "-"]
    started = time.perf_counter()
    process = subprocess.Popen([*command, "cache" if cache else "no-cache"], stdout=subprocess.PIPE, env=env)
    peak_rss = peak_pss = 0
    while process.poll() is None:
        pids = [process.pid]
        for pid in pids:
            pids.extend(_children(pid))
        sizes = [_memory(pid) for pid in pids]
        peak_rss = max(peak_rss, sum(rss for rss, _ in sizes))
        peak_pss = max(peak_pss, sum(pss for _, pss in sizes))
        time.sleep(0.02)
    wall = time.perf_counter() - started
    assert process.stdout is not None
    figures = json.loads(process.stdout.read())
    return wall, peak_rss, peak_pss, figures


def median_in_new_process(
    runs: int, root: Path, target: Path, *, jobs: int | None, cache: bool, before: Callable[[int], object]
) -> tuple[float, float, float, dict[str, int]]:
    walls, rss, pss = [], [], []
    figures: dict[str, int] = {}
    for run in range(runs):
        before(run)
        wall, peak_rss, peak_pss, figures = scan_in_new_process(root, target, jobs=jobs, cache=cache, seed=str(run + 1))
        walls.append(wall)
        rss.append(peak_rss / 2**20)
        pss.append(peak_pss / 2**20)
    return statistics.median(walls), statistics.median(rss), statistics.median(pss), figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--packages", default=",".join(PACKAGES), help="comma-separated installed packages")
    parser.add_argument("--extra", type=Path, action="append", default=[], help="a folder of applications to add")
    parser.add_argument("--tests-from", default="", help="installed packages copied under tests/")
    parser.add_argument("--one-file", default=STARTUP_MODULE, help="the file of the one-file figures")
    args = parser.parse_args(argv)
    packages = tuple(name for name in args.packages.split(",") if name)
    tests = tuple(name for name in args.tests_from.split(",") if name)

    work = Path(tempfile.mkdtemp(prefix="wiringcheck-speed-"))
    root = make_corpus(work / "corpus", packages, extra=args.extra, tests=tests)
    counts = count_lines(root)
    total = sum(counts.values())
    test_lines = counts.get("tests", 0)
    print(f"corpus: {root}")
    for name, lines in counts.items():
        print(f"  {name:14} {lines:>9,} lines")
    files = sum(1 for _ in root.rglob("*.py"))
    print(f"  {'total':14} {total:>9,} lines in {files} files ({test_lines:,} in tests/); {os.cpu_count()} cores")

    cache = root / ".wiringcheck_cache"

    def clear(_run: int = 0) -> None:
        shutil.rmtree(cache, ignore_errors=True)

    cold, peak_rss, peak_pss, cold_figures = median_in_new_process(
        args.runs, root, root, jobs=args.jobs, cache=False, before=clear
    )

    def serial() -> object:
        return scan_paths([root], root=root, jobs=1, cache=False)

    cold_serial = median_of(1, serial)

    def full() -> object:
        return scan_paths([root], root=root, jobs=args.jobs)

    full()
    warm = median_of(max(args.runs, 5), full)

    # an edit of one function body, rescanned whole in a new process (another hash seed)
    edited = root / STARTUP_MODULE
    original = edited.read_text(encoding="utf-8")
    if EDITED_FUNCTION not in original:
        raise SystemExit(f"{STARTUP_MODULE} no longer has {EDITED_FUNCTION.strip()!r}: update the benchmark")

    def edit(run: int) -> None:
        edited.write_text(original.replace(EDITED_FUNCTION, f"{EDITED_FUNCTION}        edit = {run}\n"), "utf-8")

    scan_in_new_process(root, root, jobs=args.jobs, cache=True)  # the cache, as another process left it
    rescan, _, _, rescan_figures = median_in_new_process(args.runs, root, root, jobs=args.jobs, cache=True, before=edit)
    edited.write_text(original, encoding="utf-8")

    one = root / args.one_file

    def one_file() -> object:
        return scan_paths([one], root=root, jobs=args.jobs)

    full()
    one_cached = median_of(max(args.runs, 5), one_file)
    one_cold, one_rss, _, one_figures = median_in_new_process(
        args.runs, root, one, jobs=args.jobs, cache=True, before=clear
    )

    workers = f"{cold_figures['workers']} workers"
    print(f"\ncold scan, new process  : {cold:6.2f} s wall ({total / cold:,.0f} lines/s, {workers}, incl. start-up)")
    print(f"  peak memory, all procs : {peak_rss:6.0f} MB resident (sum over the tree), {peak_pss:.0f} MB proportional")
    print(f"cold scan, 1 process    : {cold_serial:6.2f} s  {cpu_of(serial)}")
    print(f"warm scan (cache)       : {warm:6.2f} s  {cpu_of(full)}")
    checked = f"{rescan_figures['checked']} checked, {rescan_figures['parsed']} parsed"
    print(f"edit, new process       : {rescan:6.2f} s wall ({checked}, {rescan_figures['cached']} from the cache)")
    print(f"one file, unchanged     : {one_cached:6.2f} s  {cpu_of(one_file)}  ({args.one_file})")
    lazy = f"{one_figures['mode']}: {one_figures['parsed']} files summarized"
    print(f"one file, no cache yet  : {one_cold:6.2f} s wall, new process ({lazy}, {one_rss:.0f} MB)")

    scan_paths([root], root=root)  # the cache is warm again for the command-line figure
    command = external([sys.executable, "-m", "wiringcheck", "scan", str(one), "--root", str(root)], max(args.runs, 3))
    if command is not None:
        print(f"one file, command line  : {command:6.2f} s  (python -m wiringcheck scan FILE, subprocess)")
    ruff = external(["ruff", "check", "--isolated", "--no-cache", str(one)], args.runs)
    mypy = external(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-incremental",
            "--follow-imports=silent",
            "--ignore-missing-imports",
            str(one),
        ],
        1,
    )
    if ruff is not None:
        print(f"ruff check (same file)  : {ruff:6.2f} s  (subprocess)")
    if mypy is not None:
        print(f"mypy (same file)        : {mypy:6.2f} s  (subprocess, --no-incremental)")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
