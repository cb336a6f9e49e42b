"""Time `wiringcheck run` against a hand-written pytest test of the same five events.

The commands are timed *interleaved* in one session (one run of each, in turn, then
again: a load that comes and goes on this shared machine hits them all alike), after a
warm-up round; the medians and their ratios are reported, with the targets of issue 22:
`wiringcheck run -q` at most 0.45x the hand-written pytest probe, and `wiringcheck
--help` at most 1.1x `python -c "import typer"` (the floor of any Typer CLI).
A second part times the run in-process (no interpreter start-up) with and without
the boot trace, interleaved, to give the tracer's cost.

    python bench/run_vs_pytest.py [--runs 20]

Writes nothing; prints a Markdown table to paste into docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def interleaved(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall time in seconds of each command, one run of each in turn, `runs` rounds after a warm-up."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(runs + 1):
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            if round_:  # the first round warms the file cache and the .pyc files
                times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


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

    script = str(Path(sys.executable).with_name("wiringcheck"))
    pytest_probe = "pytest (hand-written test)"
    medians = interleaved(
        {
            "wiringcheck run -q": [script, "run", "-q"],
            "wiringcheck run -q --no-trace": [script, "run", "-q", "--no-trace"],
            pytest_probe: [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:wiringcheck",
                "bench/handwritten/test_five_events.py",
            ],
            "wiringcheck --help": [script, "--help"],
            "wiringcheck run --help": [script, "run", "--help"],
            'python -c "import typer"': [sys.executable, "-c", "import typer"],
        },
        args.runs,
    )
    base = medians[pytest_probe]
    typer_floor = medians['python -c "import typer"']
    print("| command | median | vs hand-written pytest | vs `import typer` |")
    print("|---|---|---|---|")
    for name, seconds in medians.items():
        print(f"| `{name}` | {seconds * 1000:.0f} ms | {seconds / base:.2f}x | {seconds / typer_floor:.2f}x |")
    run_ratio = medians["wiringcheck run -q"] / base
    help_ratio = medians["wiringcheck --help"] / typer_floor
    print(f"\nrun -q / pytest probe: {run_ratio:.2f}x (target <= 0.45x)")
    print(f"--help / import typer: {help_ratio:.2f}x (target <= 1.1x)")

    inside = in_process(args.runs)
    print()
    print("| in-process `run(settings)` | median |")
    print("|---|---|")
    for name, seconds in inside.items():
        print(f"| {name} | {seconds * 1000:.1f} ms |")
    print(f"\ntracing cost: {(inside['traced'] - inside['untraced']) * 1000:+.1f} ms per run")


if __name__ == "__main__":
    main()
