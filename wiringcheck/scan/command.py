"""`wiringcheck scan` behind the CLI: load the configuration, scan, render, return the exit code.

The Typer command in `wiringcheck.cli` only calls `scan_command`.  Bad input (a path
that does not exist, a bad baseline or configuration) prints one line,
``wiringcheck: error: ...``, on stderr and returns 2; never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from wiringcheck.findings import Finding
from wiringcheck.report import ExitCode, Report

__all__ = ["scan_command"]

FORMATS = ("console", "json", "sarif", "github", "junit")


class _UsageError(Exception):
    pass


def _error(message: str) -> int:
    sys.stderr.write(f"wiringcheck: error: {message}\n")
    return int(ExitCode.USAGE_ERROR)


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
    from wiringcheck.config import ConfigError, load_settings

    try:
        if config is not None:
            return load_settings(config)
        found = _find_config(paths)
        return load_settings(found) if found is not None else None
    except ConfigError as exc:
        raise _UsageError(str(exc)) from None


def _render(report: Report, fmt: str, verbose: int) -> str:
    if fmt == "json":
        try:
            from wiringcheck.render.json import render as render_json
        except ImportError:  # pragma: no cover - render/json.py ships with the package
            return _json(report)
        return render_json(report)
    if fmt == "sarif":
        from wiringcheck.render.sarif import render as render_sarif

        return render_sarif(report)
    if fmt == "github":
        from wiringcheck.render.github import render as render_github

        return render_github(report)
    if fmt == "junit":
        from wiringcheck.render.junit import render as render_junit

        return render_junit(report)
    return _console(report, verbose)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _console(report: Report, verbose: int) -> str:
    lines: list[str] = []
    for finding in report.findings:
        lines.append(finding.oneline())
        if verbose:
            if finding.hint:
                lines.append(f"    hint: {finding.hint}")
            for item in finding.evidence:
                lines.append(f"    {item}")
    counts = report.counts()
    errors = sum(len(check.errors) for check in report.checks)
    warnings = len(report.findings) - errors
    files = len(report.checks)
    lines_scanned = report.extra.get("lines", 0)
    summary = (
        f"wiringcheck scan: {_plural(errors, 'error')}, {_plural(warnings, 'warning')} "
        f"in {_plural(files, 'file')} ({lines_scanned} lines, {report.duration:.2f}s"
    )
    if counts:
        skipped = counts.get(next(iter(counts)).__class__("skipped"), 0)
        if skipped:
            summary += f", {skipped} skipped"
    baseline = report.extra.get("baseline")
    if isinstance(baseline, dict):
        summary += f", {baseline.get('excused', 0)} in baseline"
    lines.append(summary + ")")
    return "\n".join(lines) + "\n"


def _json(report: Report) -> str:
    def finding(f: Finding) -> dict[str, Any]:
        return {
            "code": f.code,
            "title": f.title,
            "message": f.message,
            "path": f.location.path if f.location else None,
            "line": f.location.line if f.location else None,
            "column": f.location.column if f.location else None,
            "subject": f.subject,
            "hint": f.hint,
            "severity": f.severity.value,
        }

    document = {
        "kind": report.kind,
        "target": report.target,
        "ok": report.ok,
        "checks": [
            {"name": c.name, "status": c.status.value, "findings": [finding(f) for f in c.findings]}
            for c in report.checks
        ],
    }
    return json.dumps(document, indent=2) + "\n"


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
    except (_UsageError, BaselineError) as exc:
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
        sys.stderr.write(f"wiringcheck: recorded {_plural(count, 'finding')} in {baseline}\n")
        return int(ExitCode.OK)
    if known is not None:
        report = apply_baseline(report, known)

    text = _render(report, fmt, verbose)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            return _error(f"cannot write {output}: {exc.strerror or exc}")
    else:
        sys.stdout.write(text)
    return int(report.exit_code)
