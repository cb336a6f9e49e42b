"""Renderers: a `Report` in, text out.  Only `console` imports rich.

Each module exposes `render(report) -> str` (the console renderer also prints live
progress), so a new format is one new module and one entry in `FORMATS`.
"""

from __future__ import annotations

import os
from pathlib import Path

from wiringcheck.findings import Location

__all__ = ["FORMATS", "shown_location", "shown_path"]

FORMATS = ("console", "json", "github", "junit", "sarif")
"""The names `--format` accepts."""


def shown_path(path: str, root: Path | None = None) -> str:
    """A path as a user reads it: relative to `root` (default: the working directory) when inside it."""
    base = os.path.realpath(root or Path.cwd())
    real = os.path.realpath(path)
    if real == base or real.startswith(base + os.sep):
        return os.path.relpath(real, base)
    return path


def shown_location(location: Location | None, root: Path | None = None) -> str:
    """``path:line[:col]`` with the path relative to the working directory, or '' when unknown."""
    if location is None:
        return ""
    return str(Location(shown_path(location.path, root), location.line, location.column))
