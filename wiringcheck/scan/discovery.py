"""Step 1 of a scan: which files make up the project, which are to be checked, and their module names.

The project is every ``.py`` file under the root, except virtual environments, caches,
build output and hidden directories.  Module names are relative to the first *search
path* that contains the file: ``root/src`` in a src layout, the root, then the
configured ``pythonpath`` entries.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Project",
    "ScanError",
    "discover",
    "find_root",
    "module_name",
    "python_files",
    "relpath",
    "search_paths",
]

SKIP_DIRS = frozenset(
    {
        "__pycache__",
        "node_modules",
        "site-packages",
        "venv",
        "env",
        "build",
        "dist",
        ".wiringcheck_cache",
    }
)


class ScanError(Exception):
    """Bad input to the scan itself (a path that does not exist); the CLI exits 2."""


def find_root(paths: Sequence[Path]) -> Path:
    """The project root: the nearest directory with a pyproject.toml, else the top of the package tree."""
    first = paths[0].resolve() if paths else Path.cwd().resolve()
    start = first if first.is_dir() else first.parent
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    folder = start
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        folder = folder.parent
    return folder


def _skip_dir(name: str) -> bool:
    return name.startswith(".") or name in SKIP_DIRS or name.endswith(".egg-info")


def python_files(path: Path) -> list[Path]:
    """``path`` itself if it is a file, else every ``.py`` file below it (sorted)."""
    if path.is_file():
        return [path]
    found: list[Path] = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not _skip_dir(d))
        found.extend(Path(folder, name) for name in sorted(files) if name.endswith(".py"))
    return found


def search_paths(root: Path, extra: Iterable[Path] = ()) -> list[Path]:
    paths = []
    src = root / "src"
    if src.is_dir() and not (src / "__init__.py").exists():
        paths.append(src)
    paths.append(root)
    paths.extend(p.resolve() for p in extra)
    return paths


def module_name(path: Path, bases: Sequence[Path]) -> tuple[str, bool]:
    """The dotted module name of `path` relative to the first search path containing it."""
    for base in bases:
        try:
            relative = path.relative_to(base)
        except ValueError:
            continue
        parts = list(relative.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        return ".".join(parts), is_package
    # outside every search path: name it from the top of its package tree
    folder = path.parent
    parts = [] if path.stem == "__init__" else [path.stem]
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), path.stem == "__init__"


def relpath(path: Path, root: Path) -> str:
    """`path` relative to `root`, with forward slashes (``..`` when outside it)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, root)).as_posix()


@dataclass(frozen=True, slots=True)
class Project:
    """The files of a scan: all of the project's (by relpath), and the ones to check and report."""

    root: Path
    bases: tuple[Path, ...]
    files: dict[str, Path]
    targets: dict[str, Path]


def discover(paths: Sequence[Path], *, root: Path | None, pythonpath: Sequence[Path] = ()) -> Project:
    """The `Project` of a scan of `paths`; raises `ScanError` on a path that does not exist."""
    resolved: list[Path] = []
    for path in paths:
        if not path.exists():
            raise ScanError(f"path does not exist: {path}")
        resolved.append(path.resolve())
    if not resolved:
        raise ScanError("nothing to scan: give at least one path")
    root = (root or find_root(resolved)).resolve()
    if not root.is_dir():
        raise ScanError(f"root is not a directory: {root}")
    targets: dict[str, Path] = {}
    for path in resolved:
        for file in python_files(path):
            targets[relpath(file, root)] = file
    files = {relpath(file, root): file for file in python_files(root)}
    files.update(targets)
    return Project(root, tuple(search_paths(root, pythonpath)), files, targets)
