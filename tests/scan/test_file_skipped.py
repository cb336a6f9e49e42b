"""WC300: files that cannot be decoded or parsed are reported as skipped, never crash the scan."""

from __future__ import annotations

from pathlib import Path

from tests.scan.tools import check_silent, scan, write_project
from wiringcheck.findings import Severity, Status


def test_silent_on_valid_files(tmp_path: Path) -> None:
    """A file that parses is not skipped."""
    check_silent(tmp_path, "x = 1\n", ["WC300"])


def test_syntax_error(tmp_path: Path) -> None:
    """A syntax error is a warning at its line, and the file's check is skipped."""
    report = scan(tmp_path, {"pkg/bad.py": "def broken(:\n    pass\n"}, paths=["pkg/bad.py"])
    (check,) = report.checks
    (found,) = check.findings

    assert ("WC300", Severity.WARNING, 1) == (found.code, found.severity, found.location.line)
    assert Status.SKIPPED == check.status
    assert report.ok


def test_undecodable_file(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are reported, not raised."""
    root = write_project(tmp_path, {"pkg/ok.py": "x = 1\n"})
    (root / "pkg" / "latin.py").write_bytes(b"name = '\xe9t\xe9'\n")
    report = scan(tmp_path, {}, paths=["pkg/latin.py"])
    (found,) = report.findings

    assert "WC300" == found.code
    assert "not valid UTF-8" in found.message


def test_declared_encoding_is_honoured(tmp_path: Path) -> None:
    """A PEP 263 coding line is respected."""
    root = write_project(tmp_path, {"pkg/ok.py": "x = 1\n"})
    (root / "pkg" / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n")
    report = scan(tmp_path, {}, paths=["pkg/latin.py"])

    assert [] == report.findings


def test_null_bytes(tmp_path: Path) -> None:
    """A file with NUL bytes cannot be parsed; it is skipped with a warning."""
    root = write_project(tmp_path, {"pkg/ok.py": "x = 1\n"})
    (root / "pkg" / "nul.py").write_bytes(b"x = 1\x00\n")
    report = scan(tmp_path, {}, paths=["pkg/nul.py"])

    assert ["WC300"] == [f.code for f in report.findings]


def test_absurd_nesting_never_crashes(tmp_path: Path) -> None:
    """Code too deeply nested for the parser is skipped with a warning, never a crash."""
    deep = "x = " + "a." * 3000 + "b\n"
    calls = "y = " + "f(" * 150 + ")" * 150 + "\n"
    report = scan(tmp_path, {"pkg/deep.py": deep, "pkg/calls.py": calls})

    assert all(f.code == "WC300" for f in report.findings)
    assert report.ok
