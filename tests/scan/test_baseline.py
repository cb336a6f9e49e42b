"""Baselines: record today's findings, then fail only on new ones."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from wiringcheck.findings import Finding, Location, Status
from wiringcheck.scan import scan_paths
from wiringcheck.scan.baseline import BaselineError, apply_baseline, fingerprint, load_baseline, write_baseline


def _finding(line: int, message: str = "registry is Registry (assigned at app.py:{line})") -> Finding:
    return Finding("WC301", message.format(line=line), Location("app.py", line, 5), subject="registry.x")


def test_fingerprint_ignores_line_moves() -> None:
    """The same finding three lines lower has the same fingerprint."""
    assert fingerprint(_finding(10)) == fingerprint(_finding(13))


def test_fingerprint_changes_with_the_subject() -> None:
    """A different code, file, subject or message is a different finding."""
    other = Finding("WC301", "registry is Registry (assigned at app.py:10)", Location("app.py", 10), subject="x.y")

    assert fingerprint(_finding(10)) != fingerprint(other)


def test_round_trip(tmp_path: Path) -> None:
    """write_baseline then load_baseline gives the counts of each fingerprint."""
    path = tmp_path / "baseline.json"
    write_baseline(path, [_finding(1), _finding(2), _finding(3, "other")])

    assert Counter({fingerprint(_finding(1)): 2, fingerprint(_finding(3, "other")): 1}) == load_baseline(path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "baseline file not found"),
        ("{", "is not valid JSON"),
        ('{"version": 1}', "no 'findings' list"),
        ('{"version": 9, "findings": []}', "has version 9"),
        ('{"version": 1, "findings": [{}]}', "entry without a fingerprint"),
    ],
)
def test_bad_baseline(tmp_path: Path, content: str | None, problem: str) -> None:
    """A missing or malformed baseline raises BaselineError with a clear message."""
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError, match=problem):
        load_baseline(path)


def test_only_new_findings_fail(tmp_path: Path) -> None:
    """Known findings are excused; a new one still fails its check."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "app.py").write_text("class A: ...\ndef f(a: A):\n    a.old()\n", encoding="utf-8")
    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, scan_paths([tmp_path], cache=False).findings)
    (tmp_path / "app.py").write_text("class A: ...\n\n\ndef f(a: A):\n    a.old()\n    a.new()\n", encoding="utf-8")
    report = apply_baseline(scan_paths([tmp_path], cache=False), load_baseline(baseline))

    assert ["a.new"] == [f.subject for f in report.findings]
    assert Status.FAILED == report.checks[0].status
    assert {"excused": 1, "new": 1} == report.extra["baseline"]


def test_all_known_passes(tmp_path: Path) -> None:
    """With every finding in the baseline, the checks pass."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "app.py").write_text("class A: ...\ndef f(a: A):\n    a.old()\n", encoding="utf-8")
    report = scan_paths([tmp_path], cache=False)
    baseline = tmp_path / "b.json"
    write_baseline(baseline, report.findings)
    document = json.loads(baseline.read_text(encoding="utf-8"))

    assert 1 == len(document["findings"])
    assert apply_baseline(report, load_baseline(baseline)).ok
