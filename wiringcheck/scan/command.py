"""`wiringcheck scan` behind the CLI: load the configuration, scan, render, return the exit code.

The Typer command in `wiringcheck.cli` only calls `scan_command`.  Bad input (a path
that does not exist, a bad baseline or configuration) prints one line,
``wiringcheck: error: ...``, on stderr and returns 2; never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from wiringcheck.errors import UsageError, print_error
from wiringcheck.report import ExitCode

__all__ = ["scan_command"]

FORMATS = ("console", "json", "sarif", "github", "junit")
"""The formats `scan` writes: every `wiringcheck.render.Format`."""


def _error(message: str) -> int:
    return print_error(UsageError(message))


def _find_config(paths: list[Path]) -> Path | None:
    """The nearest wiringcheck.toml from the first scanned path upward, else pyproject.toml with the table."""
    from wiringcheck.config import find_config

    first = paths[0].resolve()
    start = first if first.is_dir() else first.parent
    for folder in (start, *start.parents):
        candidate = folder / "wiringcheck.toml"
        if candidate.is_file():
            return candidate
    return find_config(start)


def _settings(paths: list[Path], config: Path | None) -> Any:
    from wiringcheck.config import load_settings

    if config is not None:
        return load_settings(config)
    found = _find_config(paths)
    return load_settings(found) if found is not None else None


def scan_command(
    *,
    paths: list[Path],
    root: Path | None,
    config: Path | None,
    fmt: str,
    baseline: Path | None,
    update_baseline: bool,
    output: Path | None,
    cache: bool,
    jobs: int | None,
    verbose: int,
) -> int:
    """Run ``wiringcheck scan`` and return its exit code (0 clean, 1 findings, 2 usage error)."""
    from wiringcheck.render import Format, Outputs, write_outputs
    from wiringcheck.scan import ScanError, scan_paths
    from wiringcheck.scan.baseline import BaselineError, apply_baseline, load_baseline, write_baseline

    if fmt not in FORMATS:
        return _error(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not paths:
        return _error("nothing to scan: give at least one path")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        return _error(f"path does not exist: {', '.join(missing)}")
    if root is not None and not root.is_dir():
        return _error(f"--root is not a directory: {root}")
    if jobs is not None and jobs < 1:
        return _error(f"--jobs must be at least 1, got {jobs}")
    if update_baseline and baseline is None:
        return _error("--update-baseline needs --baseline FILE")
    try:
        settings = _settings(paths, config)
        known = load_baseline(baseline) if baseline is not None and not update_baseline else None
    except (UsageError, BaselineError) as exc:
        return _error(str(exc))

    roles: dict[str, Any] = {}
    must_call: tuple[str, ...] = ()
    startup: list[str] = []
    pythonpath: list[Path] = []
    if settings is not None:
        roles = dict(settings.roles)
        must_call = tuple(settings.must_call)
        startup = [target for target in (settings.app, settings.boot) if target]
        pythonpath = list(settings.pythonpath)
    try:
        report = scan_paths(
            paths,
            root=root,
            roles=roles,
            must_call=must_call,
            startup_modules=startup,
            cache=cache,
            jobs=jobs,
            pythonpath=pythonpath,
        )
    except ScanError as exc:
        return _error(str(exc))
    if settings is not None and settings.source is not None:
        report.extra["config"] = str(settings.source)

    if update_baseline:
        assert baseline is not None
        try:
            count = write_baseline(baseline, report.findings)
        except BaselineError as exc:
            return _error(str(exc))
        sys.stderr.write(f"wiringcheck: recorded {count} finding{'' if count == 1 else 's'} in {baseline}\n")
        return int(ExitCode.OK)
    if known is not None:
        report = apply_baseline(report, known)

    try:
        write_outputs(report, Outputs(format=Format(fmt), output=output, verbosity=verbose))
    except UsageError as exc:
        return print_error(exc)
    return int(report.exit_code)
