"""Checking one parsed file: the rules over its tree, against an index of the project.

Shared by the sequential and lazy scans (`project`) and by the worker processes of a
parallel one (`workers`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wiringcheck.findings import Finding
from wiringcheck.scan.discovery import relpath
from wiringcheck.scan.engine import all_rules, apply_ignores, visit
from wiringcheck.scan.facts import ProjectFacts
from wiringcheck.scan.index import Index, ModuleInfo
from wiringcheck.scan.infer import FileContext, RolePath
from wiringcheck.scan.parse import Parsed, parse_file, skipped, summary_of
from wiringcheck.scan.summary import ModuleSummary

__all__ = ["Job", "Setup", "build_index", "check_tree", "make_loader"]


@dataclass(slots=True)
class Job:
    """One file of the project: where it is, its module, and whether it must be summarized."""

    path: str
    relpath: str
    module: str
    is_package: bool
    summarize: bool


@dataclass(slots=True)
class Setup:
    """What a worker needs besides the index to check files."""

    roles: tuple[RolePath, ...]
    bases: tuple[str, ...]
    root: str


def check_tree(
    job: Job, parsed: Parsed, index: Index, setup: Setup, facts: ProjectFacts | None = None
) -> tuple[Finding, ...]:
    """Run every rule over one parsed file; the WC300 finding when it did not parse."""
    if parsed.tree is None:
        return (parsed.error,) if parsed.error is not None else ()
    ctx = FileContext(
        module=job.module,
        relpath=job.relpath,
        is_package=job.is_package,
        tree=parsed.tree,
        source=parsed.source,
        index=index,
        roles=setup.roles,
        facts=facts,
    )
    try:
        findings = visit(ctx, all_rules())
    except RecursionError:
        findings = [skipped(job.relpath, None, None, "is nested too deeply to analyse")]
    except Exception as exc:  # a bug of ours must not stop the scan of the other files
        if os.environ.get("WIRINGCHECK_DEBUG"):
            raise
        why = f"could not be analysed ({type(exc).__name__}: {exc}); this is a bug in wiringcheck, please report it"
        findings = [skipped(job.relpath, None, None, why)]
    return tuple(apply_ignores(findings, parsed.source))


def make_loader(bases: Sequence[Path], root: Path) -> Any:
    """A loader for modules the project listing did not include (pythonpath, namespace dirs)."""

    def load(name: str) -> ModuleInfo | None:
        parts = name.split(".")
        for base in bases:
            folder = base.joinpath(*parts)
            for candidate, is_package in ((folder / "__init__.py", True), (folder.with_suffix(".py"), False)):
                if candidate.is_file():
                    rel = relpath(candidate, root)
                    summary, _ = summary_of(parse_file(candidate, rel))
                    return ModuleInfo(name, str(candidate), rel, is_package, summary)
            if folder.is_dir() and all(p.isidentifier() for p in parts):
                return ModuleInfo(name, str(folder), relpath(folder, root), True, ModuleSummary())
            if folder.parent.is_dir() and any(folder.parent.glob(f"{parts[-1]}.*.so")):
                return ModuleInfo(name, str(folder), relpath(folder, root), False, ModuleSummary(dynamic_globals=True))
        return None

    return load


def build_index(modules: dict[str, ModuleInfo], setup: Setup) -> Index:
    return Index(modules, make_loader([Path(b) for b in setup.bases], Path(setup.root)))
