"""Reading and parsing one file, and reducing it to its summary (never raises on bad input)."""

from __future__ import annotations

import ast
import io
import os
import tokenize
from dataclasses import dataclass
from pathlib import Path

from wiringcheck.findings import Finding, Location, Severity
from wiringcheck.scan.model import ModuleSummary, summarize
from wiringcheck.scan.summary import summary_digest

__all__ = ["BROKEN", "Parsed", "parse_file", "skipped", "summary_of"]


@dataclass(slots=True)
class Parsed:
    """A file read and parsed, or the reason it could not be."""

    tree: ast.Module | None
    source: str
    error: Finding | None


def parse_file(path: Path, relpath: str, data: bytes | None = None) -> Parsed:
    """Read and parse one file; bad input becomes a WC300 finding."""
    try:
        raw = data if data is not None else path.read_bytes()
    except OSError as exc:
        return Parsed(None, "", skipped(relpath, None, None, f"cannot be read: {exc.strerror or exc}"))
    try:
        source = raw.decode("utf-8-sig") if not raw.startswith(b"#") or b"coding" not in raw[:200] else _decode(raw)
    except (UnicodeDecodeError, LookupError, SyntaxError) as exc:
        return Parsed(None, "", skipped(relpath, None, None, f"is not valid UTF-8 text ({exc})"))
    try:
        tree = ast.parse(source, filename=relpath)
    except SyntaxError as exc:
        return Parsed(None, source, skipped(relpath, exc.lineno, exc.offset, f"has a syntax error: {exc.msg}"))
    except (ValueError, RecursionError, MemoryError) as exc:
        return Parsed(None, source, skipped(relpath, None, None, f"cannot be parsed: {exc}"))
    return Parsed(tree, source, None)


def _decode(raw: bytes) -> str:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    return raw.decode(encoding)


def skipped(relpath: str, line: int | None, column: int | None, why: str) -> Finding:
    """The WC300 warning of a file that was not scanned, and why."""
    return Finding(
        code="WC300",
        message=f"{relpath} {why}; it was not scanned",
        location=Location(relpath, line, column),
        hint="fix the file, or exclude it from the scan",
        subject=relpath,
        severity=Severity.WARNING,
    )


BROKEN = ModuleSummary(dynamic_globals=True)
"""The summary of a file that does not parse: nothing can be said about its names."""


def summary_of(parsed: Parsed) -> tuple[ModuleSummary, str]:
    """The file's summary and its digest; a file that cannot be summarized counts as broken."""
    try:
        summary = summarize(parsed.tree) if parsed.tree is not None else BROKEN
    except Exception:  # RecursionError on absurd nesting, or a bug of ours: never stop the scan
        if os.environ.get("WIRINGCHECK_DEBUG"):
            raise
        summary = BROKEN
    return summary, summary_digest(summary)
