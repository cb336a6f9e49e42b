"""Resolve ``"package.module:attribute"`` references from the configuration, with clear errors.

Never `eval`: the module part goes to `importlib.import_module`, the attribute part
is walked with `getattr`, one name at a time.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from wiringcheck.errors import ImportRefError
from wiringcheck.suggest import suggest

__all__ = ["ImportRefError", "import_ref", "on_path", "prepend_paths", "remove_paths"]


def prepend_paths(paths: Iterable[Path]) -> list[str]:
    """Put the configured `pythonpath` entries first on `sys.path` (once each); returns those it added."""
    added: list[str] = []
    for path in reversed([str(p) for p in paths]):
        if path not in sys.path:
            sys.path.insert(0, path)
            added.append(path)
    return added


def remove_paths(added: Iterable[str]) -> None:
    """Take entries `prepend_paths` added off `sys.path` again (one occurrence each, wherever it is now)."""
    for path in added:
        if path in sys.path:
            sys.path.remove(path)


@contextmanager
def on_path(paths: Iterable[Path]) -> Iterator[None]:
    """The configured `pythonpath` entries on `sys.path` for the block, and no longer after it.

    A run must leave the process it ran in as it found it: a library caller, or the pytest
    session, would otherwise import its own modules from the backend's folders afterwards.
    """
    added = prepend_paths(paths)
    try:
        yield
    finally:
        remove_paths(added)


def import_ref(ref: str) -> Any:
    """Import ``module:attr.attr`` and return the object.

    Raises:
        ImportRefError: the module cannot be found, or an attribute is missing. An exception
            raised *by* the module while it is imported propagates: it is the backend's own
            failure, and the runner reports it as a boot failure with its traceback.
    """
    module_name, _, attr_path = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise ImportRefError(
                f"cannot import {module_name!r} (from {ref!r}): no module named {exc.name!r}; "
                "check the name, and that its folder is on `pythonpath` in the configuration"
            ) from None
        raise
    value: Any = module
    walked = module_name
    for name in attr_path.split("."):
        try:
            value = getattr(value, name)
        except AttributeError:
            guess = suggest(name, [n for n in dir(value) if not n.startswith("_")])
            hint = f"; did you mean {guess!r}?" if guess else ""
            raise ImportRefError(f"{walked!r} has no attribute {name!r} (from {ref!r}){hint}") from None
        walked = f"{walked}:{name}" if walked == module_name else f"{walked}.{name}"
    return value
