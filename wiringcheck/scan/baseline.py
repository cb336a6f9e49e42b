"""Baselines: record today's findings, then fail only on new ones.

A baseline file is JSON: ``{"version": 1, "tool": "wiringcheck scan", "findings": [...]}``
where each entry has a ``fingerprint`` and, for the reader, the code, path, subject and
message.  The fingerprint hashes the code, the file, the subject and the message with
every line number taken out (``registry.py:12`` becomes ``registry.py``), so a finding
keeps its fingerprint when code above it moves.  Matching counts: two identical
findings in the baseline excuse two, not three.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from wiringcheck import boundedjson
from wiringcheck.findings import CheckResult, Finding, Severity, Status
from wiringcheck.report import Report

__all__ = ["BaselineError", "apply_baseline", "fingerprint", "load_baseline", "write_baseline"]

VERSION = 1
_LINE_NUMBERS = re.compile(r"(\.py|\.toml):\d+(?::\d+)?|\bline \d+")


class BaselineError(Exception):
    """The baseline file cannot be read or is not a wiringcheck baseline."""


def fingerprint(finding: Finding) -> str:
    """A hash of what the finding is about, robust to line moves."""
    path = finding.location.path if finding.location else ""
    message = _LINE_NUMBERS.sub(lambda m: m.group(1) or "line", finding.message)
    text = "\0".join((finding.code, path, finding.subject, message))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Write `findings` to `path`; returns how many were recorded."""
    entries = [
        {
            "fingerprint": fingerprint(f),
            "code": f.code,
            "path": f.location.path if f.location else "",
            "subject": f.subject,
            "message": f.message,
        }
        for f in findings
    ]
    entries.sort(key=lambda e: (e["path"], e["code"], e["fingerprint"]))
    document = {"version": VERSION, "tool": "wiringcheck scan", "findings": entries}
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"cannot write baseline {path}: {exc.strerror or exc}") from None
    return len(entries)


def load_baseline(path: Path) -> Counter[str]:
    """The fingerprints recorded in `path`, with their counts.

    Raises:
        BaselineError: missing, unreadable, not JSON, or not a baseline.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"baseline file not found: {path} (create it with --update-baseline)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc}") from None
    try:
        document = boundedjson.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"baseline {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list):
        raise BaselineError(f"baseline {path} is not a wiringcheck baseline (no 'findings' list)")
    if document.get("version") != VERSION:
        raise BaselineError(f"baseline {path} has version {document.get('version')!r}; expected {VERSION}")
    counts: Counter[str] = Counter()
    for entry in document["findings"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise BaselineError(f"baseline {path} has an entry without a fingerprint: {entry!r}")
        counts[entry["fingerprint"]] += 1
    return counts


def apply_baseline(report: Report, known: Counter[str]) -> Report:
    """A copy of `report` without the findings the baseline knows; statuses recomputed."""
    remaining = Counter(known)
    excused = 0
    result = Report(kind=report.kind, target=report.target, duration=report.duration, extra=dict(report.extra))
    for check in report.checks:
        kept: list[Finding] = []
        for item in check.findings:
            key = fingerprint(item)
            if remaining[key] > 0:
                remaining[key] -= 1
                excused += 1
                continue
            kept.append(item)
        status = check.status
        if status is not Status.SKIPPED:
            failed = any(f.severity is Severity.ERROR for f in kept)
            status = Status.FAILED if failed else Status.PASSED
        result.add(CheckResult(check.name, check.phase, status, tuple(kept), check.duration, check.reason))
    result.extra["baseline"] = {"excused": excused, "new": len(result.findings)}
    return result
