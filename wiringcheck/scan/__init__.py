"""``wiringcheck scan``: find wiring bugs in the code without booting it.

The scan reads Python source with `ast` and never imports or runs it.  The pieces:

- `summary`: the data of a `ModuleSummary` (bindings, classes, signatures); `model`: the
  walk that fills one per file, cached by content;
- `index`: the project's modules and name resolution across them; `facts`: what the
  whole project says about a name (subclasses, stores, ``app.state``), lazily;
- `infer`: light, local inference of an expression's class inside one file;
- `engine`: the rule registry keyed by node type, and the single walk with parents;
- `rules`: one module per code, WC300 to WC308;
- `project`: the pipeline in named steps (`discovery`, manifest, summarize and check,
  project rules), with `parse`, `cache` and `workers` (the parallel map);
- `baseline`, `command`: adoption, and the CLI's entry point.

See docs/scan.md for what each rule reports and what it stays silent on.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from wiringcheck.report import Report
from wiringcheck.scan.project import RoleLike, ScanError, find_root, scan_project, to_report

__all__ = ["ScanError", "find_root", "scan_paths"]


def scan_paths(
    paths: Sequence[Path | str],
    *,
    root: Path | str | None = None,
    roles: Mapping[str, RoleLike] | None = None,
    must_call: Sequence[str] = (),
    startup_modules: Sequence[str] = (),
    cache: bool = True,
    jobs: int | None = None,
    pythonpath: Sequence[Path | str] = (),
) -> Report:
    """Scan `paths` (files or directories) and return a `Report` of kind ``scan``.

    Args:
        paths: what to check and report on; names resolve against the whole project.
        root: the project root (default: nearest pyproject.toml upward, else the top of
            the package tree).
        roles: configured roles (``RoleSpec``-like: name, path, class_ref, members),
            used for inference (attribute paths) and for WC307.
        must_call: ``role.method`` entries that startup must call (WC306).
        startup_modules: ``pkg.mod`` or ``pkg.mod:attr`` targets whose modules (and what
            they import from the project) are the startup code.
        cache: use the content-keyed cache under the root.
        jobs: worker processes for parsing (default: one per core; 1 disables).
        pythonpath: extra directories searched for modules.

    Returns:
        One `CheckResult` per scanned file, named ``scan: <relpath>``, in phase ``scan``:
        failed when it has a finding of severity error, skipped (with a WC300 warning)
        when the file could not be read or parsed, passed otherwise.

    Raises:
        ScanError: a path does not exist, or the root is not a directory.
    """
    started = time.perf_counter()
    outcome = scan_project(
        [Path(p) for p in paths],
        root=Path(root) if root is not None else None,
        roles=roles,
        must_call=must_call,
        startup_modules=startup_modules,
        pythonpath=[Path(p) for p in pythonpath],
        cache=cache,
        jobs=jobs,
    )
    return to_report(outcome, started=started)
