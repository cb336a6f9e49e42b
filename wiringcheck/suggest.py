"""Did-you-mean suggestions, shared by the configuration, the contract check and the scan."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["suggest"]


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to `name`, or None when nothing is close enough."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
