"""Helpers for the scan's rule tests: write code strings as a temporary project, scan, compare.

``check_silent(tmp_path, code)`` asserts that a scan finds nothing (of the given codes);
``check_finds(tmp_path, code, ["WC301"])`` asserts exactly those codes, in order.  `code`
is either one module's source (written as ``pkg/mod.py``) or a ``{path: source}`` dict;
every folder holding Python files gets an ``__init__.py`` unless the dict provides one.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from wiringcheck.findings import Finding
from wiringcheck.report import Report
from wiringcheck.scan import scan_paths


def write_project(tmp_path: Path, code: str | Mapping[str, str]) -> Path:
    """Write `code` under ``tmp_path/proj`` (with a pyproject.toml) and return that root."""
    root = tmp_path / "proj"
    root.mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text('[project]\nname = "proj"\n', encoding="utf-8")
    files = {"pkg/mod.py": code} if isinstance(code, str) else dict(code)
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    for path in list(root.rglob("*.py")):
        folder = path.parent
        while folder != root:
            init = folder / "__init__.py"
            if not init.exists():
                init.write_text("", encoding="utf-8")
            folder = folder.parent
    return root


def scan(
    tmp_path: Path,
    code: str | Mapping[str, str],
    *,
    paths: Sequence[str] | None = None,
    **options: Any,
) -> Report:
    """Scan the project written from `code` (all of it, or `paths` relative to its root)."""
    root = write_project(tmp_path, code)
    targets = [root / p for p in paths] if paths is not None else [root]
    options.setdefault("cache", False)
    options.setdefault("jobs", 1)
    return scan_paths(targets, root=root, **options)


def _shown(findings: Sequence[Finding]) -> list[str]:
    return [f.oneline() for f in findings]


def check_silent(
    tmp_path: Path, code: str | Mapping[str, str], codes: Sequence[str] | None = None, **options: Any
) -> None:
    """Assert that scanning `code` reports nothing (of `codes`, when given; never a skipped file)."""
    report = scan(tmp_path, code, **options)
    found = [f for f in report.findings if codes is None or f.code in codes or f.code == "WC300"]

    assert [] == _shown(found)


def check_finds(
    tmp_path: Path, code: str | Mapping[str, str], expected: Sequence[str], **options: Any
) -> list[Finding]:
    """Assert that scanning `code` reports exactly the `expected` codes (in location order)."""
    report = scan(tmp_path, code, **options)
    found = report.findings

    assert list(expected) == [f.code for f in found], _shown(found)
    return found
