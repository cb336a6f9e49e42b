"""GitHub Actions workflow commands: findings with a file become annotations on that line.

Findings without a file go into one summary notice, so nothing is lost from the job log.
See https://docs.github.com/actions/reference/workflow-commands-for-github-actions.
"""

from __future__ import annotations

from wiringcheck import __version__
from wiringcheck.findings import Finding, Severity
from wiringcheck.render import shown_path
from wiringcheck.report import Report

__all__ = ["render"]

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    """One `::error file=...,line=...::message` line."""
    properties = [f"title={_escape_property(f'{finding.code} {finding.title}')}"]
    if finding.location is not None:
        properties.insert(0, f"file={_escape_property(shown_path(finding.location.path))}")
        if finding.location.line is not None:
            properties.insert(1, f"line={finding.location.line}")
        if finding.location.column is not None:
            properties.insert(2, f"col={finding.location.column}")
    body = finding.message + (f"\n{finding.hint}" if finding.hint else "")
    return f"::{_LEVELS[finding.severity]} {','.join(properties)}::{_escape_data(body)}"


def render(report: Report) -> str:
    lines = [annotation(f) for f in report.findings if f.location is not None]
    unplaced = [f for f in report.findings if f.location is None]
    if unplaced:
        summary = "\n".join(f"{f.code} {f.subject}: {f.message}" for f in unplaced)
        level = "error" if any(f.severity is Severity.ERROR for f in unplaced) else "notice"
        lines.append(f"::{level} title=wiringcheck::{_escape_data(summary)}")
    verdict = "passed" if report.ok else "failed"
    counts = ", ".join(f"{n} {s.value}" for s, n in report.counts().items())
    lines.append(f"wiringcheck {__version__} {verdict}: {counts}")
    return "\n".join(lines) + "\n"
