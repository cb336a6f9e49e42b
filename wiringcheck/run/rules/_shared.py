"""Small helpers the rules share: milliseconds, frame text, and the "arrived:" evidence line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from wiringcheck.findings import Finding
from wiringcheck.run.recording import Event, RunView
from wiringcheck.secrets import shorten

__all__ = ["PAYLOAD_LIMIT", "Ruling", "arrived", "ms", "payload_text", "shown_offset", "since_trigger", "text"]

Ruling = tuple[str | None, Finding]
"""A finding and the expected event it belongs to (None: the run as a whole)."""

PAYLOAD_LIMIT = 300
"""How many characters of a frame a finding shows (error payloads, unexpected frames)."""

_ARRIVED_SHOWN = 20
"""Events an "arrived:" evidence line lists at most: the first ones, then a count."""


def ms(seconds: float) -> float:
    """Seconds as milliseconds, to the microsecond."""
    return round(seconds * 1000.0, 3)


def shown_offset(after_ms: float) -> str:
    """A time `after_ms` after the trigger, as evidence reads it: ``+12.5 ms``, or ``0.1 ms before the trigger``.

    A frame, a stall or an emission can come before the trigger (a greeting, a loop
    blocked as the run was sent): it reads as such, never as ``+-0.1 ms``.
    """
    return f"+{after_ms:g} ms" if after_ms >= 0 else f"{-after_ms:g} ms before the trigger"


def since_trigger(view: RunView, at: float) -> str:
    """When `at` (the probe's clock) was, relative to the run's trigger (`shown_offset`)."""
    return shown_offset(view.ms(at))


def text(data: str | bytes) -> str:
    """A frame's data as text (bytes by their repr)."""
    return data if isinstance(data, str) else repr(data)


def payload_text(value: Any, limit: int = PAYLOAD_LIMIT) -> str:
    """A frame's payload as compact JSON, cut at `limit` characters."""
    shown = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    return shorten(shown, limit)


def arrived(view: RunView, events: Sequence[Event]) -> str:
    """The "arrived:" evidence: the run's events in order, with their receive times."""
    if not events:
        return "nothing arrived for this run"
    shown = ", ".join(f"{e.type} ({since_trigger(view, e.frame.received_at)})" for e in events[:_ARRIVED_SHOWN])
    more = len(events) - _ARRIVED_SHOWN
    return f"{shown}, and {more} more" if more > 0 else shown
