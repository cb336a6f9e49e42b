"""The corpus the scan benchmarks share: installed sources of well-tested packages, copied to a folder.

Copying (instead of scanning site-packages in place) makes the corpus a project of its
own: its root holds only these packages, and the mutation test can edit files freely.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
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


def make_corpus(dest: Path, packages: tuple[str, ...] = PACKAGES) -> Path:
    """Copy the `.py` sources of `packages` into `dest` (a fresh project with a pyproject.toml)."""
    source = site_packages()
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in packages:
        origin = source / name
        if not origin.is_dir():
            print(f"skipping {name}: not installed", file=sys.stderr)
            continue
        shutil.copytree(origin, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.pyd"))
    (dest / "pyproject.toml").write_text('[project]\nname = "corpus"\nversion = "0"\n', encoding="utf-8")
    return dest


def count_lines(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, int]:
    """Lines of Python per package under `root`."""
    counts: dict[str, int] = {}
    for name in packages:
        total = 0
        for file in sorted((root / name).rglob("*.py")):
            total += file.read_bytes().count(b"\n")
        counts[name] = total
    return counts
