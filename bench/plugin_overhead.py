"""What the pytest plugin costs a pytest session that does not use it.

Installing wiringcheck registers `wiringcheck.pytest_plugin` through the pytest11
entry point, so every pytest session of every user loads it. On a tiny test
directory, this compares ``python -m pytest -p no:wiringcheck`` with ``python -m
pytest`` (the plugin loaded, not enabled), other installed plugins as they are:

- in one hyperfine session (warm-up first, median of many runs of each command);
- interleaved, one run of each in turn, as the median of the paired differences:
  hyperfine runs all of one command before the other, so on a shared machine drift
  between the two batches can be larger than the effect measured;

and reads ``python -X importtime`` for the module itself (median over many imports,
after pytest is imported, as pytest imports it).

Bytecode is cached in a temporary ``PYTHONPYCACHEPREFIX`` (as an installed package
has its ``.pyc`` files), even where ``PYTHONDONTWRITEBYTECODE`` is set.

    python bench/plugin_overhead.py [--runs 60]

Writes nothing in the repository; prints a Markdown table for docs/performance.md.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

TINY_TEST = '''
def test_nothing():
    """A session with one trivial test: what a plugin adds shows up plainly."""
'''


def environment(cache: Path, **extra: str) -> dict[str, str]:
    """The environment of every timed command: bytecode cached in `cache`, nothing else changed."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPYCACHEPREFIX=str(cache), **extra)
    return env


def hyperfine(commands: dict[str, str], *, runs: int, cwd: Path, env: dict[str, str]) -> dict[str, float]:
    """Median wall time in seconds of each command, measured in one hyperfine session."""
    if shutil.which("hyperfine") is None:
        sys.exit("hyperfine is not installed: apt-get install hyperfine")
    export = cwd / "hyperfine.json"
    args = ["hyperfine", "--warmup", "5", "--runs", str(runs), "--export-json", str(export), "--style", "basic"]
    for name, command in commands.items():
        args += ["--command-name", name, command]
    subprocess.run(args, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return {result["command"]: result["median"] for result in json.loads(export.read_text())["results"]}


def paired(without: list[str], with_: list[str], *, runs: int, cwd: Path, env: dict[str, str]) -> float:
    """Median of (with - without) in seconds over `runs` pairs, alternating which command goes first."""
    differences = []
    for index in range(runs):
        order = (without, with_) if index % 2 else (with_, without)
        times = {}
        for command in order:
            started = time.perf_counter()
            subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=True)
            times[id(command)] = time.perf_counter() - started
        differences.append(times[id(with_)] - times[id(without)])
    return statistics.median(differences)


def import_time(*, runs: int, cwd: Path, env: dict[str, str]) -> float:
    """Median cumulative import time of wiringcheck.pytest_plugin in microseconds, pytest already imported."""
    samples = []
    for _ in range(runs):
        completed = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import pytest; import wiringcheck.pytest_plugin"],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        line = next(line for line in completed.stderr.splitlines() if line.endswith("| wiringcheck.pytest_plugin"))
        samples.append(int(line.split("|")[1]))
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="timed runs per command (default 60)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "test_tiny.py").write_text(TINY_TEST)
        (folder / "pytest.ini").write_text("[pytest]\n")
        cache = folder / "pycache"
        python = f"{sys.executable} -m pytest -q -p no:cacheprovider"

        env = environment(cache)
        medians = hyperfine(
            {"without": f"{python} -p no:wiringcheck", "with": python}, runs=args.runs, cwd=folder, env=env
        )
        command = python.split()
        difference = paired([*command, "-p", "no:wiringcheck"], command, runs=args.runs, cwd=folder, env=env)
        imported = import_time(runs=max(args.runs // 2, 10), cwd=folder, env=env)

    print("| pytest session on one trivial test | median |")
    print("|---|---|")
    print(f"| `python -m pytest -p no:wiringcheck` (hyperfine) | {medians['without'] * 1000:.0f} ms |")
    print(f"| `python -m pytest`, plugin loaded, not enabled (hyperfine) | {medians['with'] * 1000:.0f} ms |")
    print(f"| difference of the hyperfine medians | {(medians['with'] - medians['without']) * 1000:+.1f} ms |")
    print(f"| median of {args.runs} interleaved paired differences | {difference * 1000:+.1f} ms |")
    print(f"| `-X importtime` of `wiringcheck.pytest_plugin` (cumulative) | {imported / 1000:.2f} ms |")


if __name__ == "__main__":
    main()
