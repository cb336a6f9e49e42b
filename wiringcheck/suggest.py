"""Did-you-mean suggestions, shared by the configuration, the contract check and the scan."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["suggest"]


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to `name`, or None when nothing is close enough.

    For a public name, public candidates are preferred: ``set_websocket_manager`` suggests
    ``attach_websocket_manager`` rather than the private ``_websocket_manager``.
    """
    pool = list(candidates)
    if not name.startswith("_"):
        public = [candidate for candidate in pool if not candidate.startswith("_")]
        matches = difflib.get_close_matches(name, public, n=1, cutoff=0.6)
        if matches:
            return matches[0]
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return matches[0] if matches else None
