"""Time `wiringcheck run` against a hand-written pytest test of the same five events.

The commands are timed *interleaved* in one session (one run of each, in turn, then
again: a load that comes and goes on this shared machine hits them all alike), after a
warm-up round; the medians and their ratios are reported, with the targets of issue 22:
`wiringcheck run -q` at most 0.45x the hand-written pytest probe, and `wiringcheck
--help` at most 1.1x `python -c "import typer"` (the floor of any Typer CLI).
A second part times the run in-process (no interpreter start-up) with and without
the boot trace, interleaved, to give the tracer's cost.

`--against DIR` also times `--help` of another tree (say a `git archive` of main) and of
this one, both through `python -c` with the tree first on `sys.path`, in the same
rounds; `--help-only` leaves out the runs, whose seconds would drown the milliseconds
of `--help` on a busy machine.

    python bench/run_vs_pytest.py [--runs 20] [--against /tmp/wc-main] [--help-only]

Bytecode is cached in a temporary ``PYTHONPYCACHEPREFIX`` (as an installed package has
its ``.pyc`` files), even where ``PYTHONDONTWRITEBYTECODE`` is set.

Writes nothing in the repository; prints a Markdown table to paste into docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def interleaved(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall time in seconds of each command, one run of each in turn, `runs` rounds after a warm-up."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as cache:
        # An installed package has its .pyc files: where PYTHONDONTWRITEBYTECODE is set, every
        # run would compile wiringcheck's sources (typer's come compiled), about 20 ms for cli.py.
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        for round_ in range(runs + 1):
            for name, command in commands.items():
                started = time.perf_counter()
                subprocess.run(
                    command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
                )
                if round_:  # the first round warms the file cache and writes the .pyc files
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


def help_from(tree: Path) -> list[str]:
    """`wiringcheck --help` of the sources in `tree`, whatever this interpreter has installed."""
    return [
        sys.executable,
        "-c",
        f"import sys; sys.path.insert(0, {str(tree)!r}); import wiringcheck.cli as c; c.entry()",
        "--help",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--against", type=Path, help="Another tree whose --help to time beside this one's.")
    parser.add_argument("--help-only", action="store_true", help="Time --help and import typer only.")
    args = parser.parse_args()

    script = str(Path(sys.executable).with_name("wiringcheck"))
    pytest_probe = "pytest (hand-written test)"
    runs = {
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
    }
    helps = {
        "wiringcheck --help": [script, "--help"],
        "wiringcheck run --help": [script, "run", "--help"],
        'python -c "import typer"': [sys.executable, "-c", "import typer"],
    }
    if args.against is not None:
        helps[f"--help of {REPO.name} (python -c)"] = help_from(REPO)
        helps[f"--help of {args.against} (python -c)"] = help_from(args.against.resolve())
    medians = interleaved(helps if args.help_only else {**runs, **helps}, args.runs)
    base = medians.get(pytest_probe)
    typer_floor = medians['python -c "import typer"']
    print("| command | median | vs hand-written pytest | vs `import typer` |")
    print("|---|---|---|---|")
    for name, seconds in medians.items():
        versus_pytest = f"{seconds / base:.2f}x" if base else "-"
        print(f"| `{name}` | {seconds * 1000:.0f} ms | {versus_pytest} | {seconds / typer_floor:.2f}x |")
    if base:
        print(f"\nrun -q / pytest probe: {medians['wiringcheck run -q'] / base:.2f}x (target <= 0.45x)")
    print(f"--help / import typer: {medians['wiringcheck --help'] / typer_floor:.2f}x (target <= 1.1x)")
    if args.help_only:
        return

    inside = in_process(args.runs)
    print()
    print("| in-process `run(settings)` | median |")
    print("|---|---|")
    for name, seconds in inside.items():
        print(f"| {name} | {seconds * 1000:.1f} ms |")
    print(f"\ntracing cost: {(inside['traced'] - inside['untraced']) * 1000:+.1f} ms per run")


if __name__ == "__main__":
    main()
