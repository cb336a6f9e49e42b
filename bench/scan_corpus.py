"""The corpus the scan benchmarks share: installed sources of well-tested packages, copied to a folder.

Copying (instead of scanning site-packages in place) makes the corpus a project of its
own: its root holds only these packages, and the mutation test can edit files freely.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

PACKAGES = (
    "rich",
    "starlette",
    "uvicorn",
    "websockets",
    "typer",
    "click",
    "_pytest",
    "httpx",
    "jsonschema",
    "pydantic",
    "mypy",
)
"""Well-tested packages installed here; together about 333,000 lines."""


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def make_corpus(
    dest: Path,
    packages: tuple[str, ...] = PACKAGES,
    *,
    extra: Sequence[Path] = (),
    tests: tuple[str, ...] = (),
) -> Path:
    """Copy the `.py` sources of `packages` into `dest` (a fresh project with a pyproject.toml).

    `extra`: folders (an application unpacked from its wheel) whose top-level packages are
    copied beside the installed ones.  `tests`: installed packages copied under ``tests/``,
    so the tree has a test suite as large as an application's (test code by its path).
    """
    source = site_packages()
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.pyd")
    for name in packages:
        origin = source / name
        if not origin.is_dir():
            print(f"skipping {name}: not installed", file=sys.stderr)
            continue
        shutil.copytree(origin, dest / name, ignore=ignore)
    for folder in extra:
        for origin in sorted(folder.iterdir()):
            if origin.is_dir() and (origin / "__init__.py").is_file():
                shutil.copytree(origin, dest / origin.name, ignore=ignore)
    for name in tests:
        if (source / name).is_dir():
            shutil.copytree(source / name, dest / "tests" / name, ignore=ignore)
    (dest / "pyproject.toml").write_text('[project]\nname = "corpus"\nversion = "0"\n', encoding="utf-8")
    return dest


def count_lines(root: Path, packages: tuple[str, ...] | None = None) -> dict[str, int]:
    """Lines of Python per top-level folder under `root` (or per name of `packages`)."""
    names = packages if packages is not None else tuple(sorted(p.name for p in root.iterdir() if p.is_dir()))
    counts: dict[str, int] = {}
    for name in names:
        total = 0
        for file in sorted((root / name).rglob("*.py")):
            total += file.read_bytes().count(b"\n")
        counts[name] = total
    return counts
