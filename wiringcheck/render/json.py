"""The JSON report: a documented, versioned schema (`wiringcheck/schemas/report.schema.json`).

`schema_version` changes only on an incompatible change; fields may be added.
"""

from __future__ import annotations

import json
import math
from typing import Any

from wiringcheck import __version__
from wiringcheck.findings import CheckResult, Finding
from wiringcheck.render import shown_path
from wiringcheck.report import SCHEMA_VERSION, Report

__all__ = ["render", "to_dict"]


def _finding(finding: Finding) -> dict[str, Any]:
    location = finding.location
    return {
        "code": finding.code,
        "title": finding.title,
        "severity": finding.severity.value,
        "subject": finding.subject,
        "message": finding.message,
        "location": (
            {"path": shown_path(location.path), "line": location.line, "column": location.column} if location else None
        ),
        "hint": finding.hint,
        "why": finding.why,
        "evidence": list(finding.evidence),
    }


def _check(check: CheckResult) -> dict[str, Any]:
    return {
        "name": check.name,
        "phase": check.phase,
        "status": check.status.value,
        "duration_ms": round(check.duration * 1000, 3),
        "reason": check.reason,
        "findings": [_finding(f) for f in check.findings],
    }


def to_dict(report: Report) -> dict[str, Any]:
    """The report as plain data, following the published schema."""
    counts = report.counts()
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "wiringcheck",
        "version": __version__,
        "kind": report.kind,
        "target": report.target,
        "ok": report.ok,
        "exit_code": int(report.exit_code),
        "duration_ms": round(report.duration * 1000, 3),
        "summary": {status.value: count for status, count in counts.items()},
        "checks": [_check(c) for c in report.checks],
        "events": [
            {
                "index": e.index,
                "type": e.type,
                "run_id": e.run_id,
                "at_ms": e.at_ms,
                "latency_ms": e.latency_ms,
                "ours": e.ours,
                "emitted_at_ms": e.emitted_at_ms,
                "sent_at_ms": e.sent_at_ms,
                "emission_ms": e.emission_ms,
                "implied": e.implied or None,
            }
            for e in report.events
        ],
        "clock": report.clock,
        "budget_ms": report.budget_ms,
        "timings": report.timings,
        "logs": [
            {
                "phase": r.phase,
                "level": r.level,
                "logger": r.logger,
                "message": r.message,
                "location": r.location,
                "count": r.count,
            }
            for r in report.logs
        ],
        "output": [
            {"phase": o.phase, "stream": o.stream, "lines": list(o.lines), "dropped": o.dropped} for o in report.output
        ],
        "extra": report.extra,
    }


def render(report: Report) -> str:
    return json.dumps(_finite(to_dict(report)), indent=2, default=str, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    """`value` with every NaN or infinite number replaced by null: JSON has no such numbers, the schema none."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
