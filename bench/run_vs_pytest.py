"""Time `wiringcheck run` against a hand-written pytest test of the same five events.

Both are timed in the same session with hyperfine (median of many runs, warm-up
first), since this machine is slow and noisy: report the medians and their ratio.
A second part times the run in-process (no interpreter start-up) with and without
the boot trace, interleaved, to give the tracer's cost.

    python bench/run_vs_pytest.py [--runs 20]

Writes nothing; prints a Markdown table to paste into docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def hyperfine(commands: dict[str, str], runs: int) -> dict[str, float]:
    """Median wall time in seconds of each command, measured in one hyperfine session."""
    if shutil.which("hyperfine") is None:
        sys.exit("hyperfine is not installed: apt-get install hyperfine")
    with tempfile.TemporaryDirectory() as scratch:
        export = Path(scratch) / "result.json"
        args = ["hyperfine", "--warmup", "2", "--runs", str(runs), "--export-json", str(export), "--style", "basic"]
        for name, command in commands.items():
            args += ["--command-name", name, command]
        subprocess.run(args, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        results = json.loads(export.read_text())["results"]
    return {result["command"]: result["median"] for result in results}


def in_process(runs: int) -> dict[str, float]:
    """Median seconds of `run(settings)` in one process, with and without tracing, interleaved."""
    sys.path.insert(0, str(REPO))
    from dataclasses import replace

    from wiringcheck.config import load_settings
    from wiringcheck.runner import run

    traced = load_settings(REPO / "pyproject.toml")
    untraced = replace(traced, trace=False)
    run(traced)  # warm up imports
    times: dict[str, list[float]] = {"traced": [], "untraced": []}
    for _ in range(runs):
        for name, settings in (("traced", traced), ("untraced", untraced)):
            started = time.perf_counter()
            report = run(settings)
            times[name].append(time.perf_counter() - started)
            assert report.ok, name
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    medians = hyperfine(
        {
            "wiringcheck run": "wiringcheck run -q",
            "wiringcheck run --no-trace": "wiringcheck run -q --no-trace",
            "pytest (hand-written test)": "python -m pytest -q -p no:wiringcheck bench/handwritten/test_five_events.py",
        },
        args.runs,
    )
    base = medians["pytest (hand-written test)"]
    print("| command | median | vs hand-written pytest |")
    print("|---|---|---|")
    for name, seconds in medians.items():
        print(f"| `{name}` | {seconds * 1000:.0f} ms | {seconds / base:.2f}x |")

    inside = in_process(args.runs)
    print()
    print("| in-process `run(settings)` | median |")
    print("|---|---|")
    for name, seconds in inside.items():
        print(f"| {name} | {seconds * 1000:.1f} ms |")
    print(f"\ntracing cost: {(inside['traced'] - inside['untraced']) * 1000:+.1f} ms per run")


if __name__ == "__main__":
    main()
