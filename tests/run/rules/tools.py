"""Helpers for the tests of the run's rules and its judge: recordings built by hand, and their findings read back.

Times are data, nothing waits: seconds on the probe's monotonic clock, the trigger sent
at `TRIGGER_AT` (100.0 s) and a healthy run's events 5 ms apart.  Budgets are tested far
from their threshold (5 ms and 300 ms against 100 ms), never near it.

``frames(*data)`` spaces raw frames 5 ms apart, each handed off when the one before it
arrived (a 5 ms delivery); ``evenly(*types)`` does the same with events of our run and a
0.2 ms delivery; ``at((ms, data), ...)`` puts frames where a test needs them.  A rule's
test module judges a recording with `judge` and reads the findings of its own codes
with ``codes_of(rule, verdict)``: the rule is called by the judge's registry, after the
classification, clock offset and emission pairing it relies on.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from wiringcheck.run.judge import Verdict, expectation_for
from wiringcheck.run.recording import Expectation, Frame, Latency, Recording, RecordingEnd

__all__ = [
    "EVENTS",
    "EXPECTATION",
    "NOON",
    "PING",
    "RELAY",
    "RELAY_EVENTS",
    "RUN_ID",
    "STEP_MS",
    "TRIGGER_AT",
    "at",
    "batch",
    "codes",
    "codes_of",
    "evenly",
    "event",
    "expectation_from",
    "frames",
    "no_findings_but",
    "per_event_codes",
    "recording",
    "run_of",
]

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
RUN_ID = "run-1"
TRIGGER_AT = 100.0
STEP_MS = 5.0
"""A healthy run's spacing between events."""

NOON = datetime(2025, 1, 1, 12, tzinfo=UTC).timestamp()
"""A wall-clock instant, for events that carry their own timestamp."""

EXPECTATION = Expectation(events=EVENTS, terminal="agent_completed", budget_ms=100.0)
"""The five default events, the last one terminal, a 100 ms budget (and so a 100 ms gap bound)."""


# -- frames and recordings -------------------------------------------------------------------------


def event(event_type: str, *, run_id: str | None = RUN_ID, **fields: object) -> str:
    """An event envelope as the backend sends it (of our run unless `run_id` says otherwise)."""
    body: dict[str, object] = {"type": event_type, **fields}
    if run_id is not None:
        body["run_id"] = run_id
    return json.dumps(body)


def at(*timed: tuple[float, str | bytes], handoff_ms: float = 0.2) -> tuple[Frame, ...]:
    """Frames received `ms` after the trigger, each handed off `handoff_ms` before it arrived."""
    return tuple(
        Frame(received_at=TRIGGER_AT + ms / 1000, data=data, sent_at=TRIGGER_AT + (ms - handoff_ms) / 1000)
        for ms, data in timed
    )


def frames(*data: str | bytes, step_ms: float = STEP_MS, handoff_ms: float = STEP_MS) -> tuple[Frame, ...]:
    """Frames arriving one every `step_ms` after the trigger, each handed off `handoff_ms` before it arrived."""
    return at(*((step_ms * n, item) for n, item in enumerate(data, start=1)), handoff_ms=handoff_ms)


def evenly(*types: str, step_ms: float = STEP_MS) -> tuple[Frame, ...]:
    """Events of our run, of these types, one every `step_ms`, each delivered in 0.2 ms."""
    return frames(*(event(t) for t in types), step_ms=step_ms, handoff_ms=0.2)


def recording(*items: Frame, end: str = "terminal", ended_at: float = TRIGGER_AT + 1.0, **kwargs: Any) -> Recording:
    """Our run's recording of these frames, ended as `end` says."""
    return Recording(
        run_id=RUN_ID, trigger_at=TRIGGER_AT, ended_at=ended_at, frames=items, end=RecordingEnd(end), **kwargs
    )


def run_of(*types: str, **kwargs: Any) -> Recording:
    """A recording of our run's events, of these types, 5 ms apart, each delivered in 5 ms."""
    return recording(*frames(*(event(t) for t in types)), **kwargs)


def expectation_from(probe: dict[str, object], *, latency: str = "send") -> Expectation:
    """The expectation a `[probe]` table describes, as the runner builds it."""
    from wiringcheck.config import parse_settings

    return expectation_for(parse_settings({"probe": probe}).probe, latency=Latency(latency))


# -- reading a verdict -----------------------------------------------------------------------------


def codes(verdict: Verdict) -> dict[str, list[str]]:
    """The codes found, by event (only events with findings), and those about the run under "probe"."""
    found = {name: [f.code for f in findings] for name, findings in verdict.per_event.items() if findings}
    if verdict.general:
        found["probe"] = [f.code for f in verdict.general]
    return found


def per_event_codes(verdict: Verdict) -> dict[str, list[str]]:
    """The codes found for each expected event, every event listed (findings about the run left out)."""
    return {name: [f.code for f in findings] for name, findings in verdict.per_event.items()}


def no_findings_but(**found: list[str]) -> dict[str, list[str]]:
    """The `per_event_codes` of a run where only the named events have findings."""
    return {name: found.get(name, []) for name in EVENTS}


def codes_of(rule: ModuleType, verdict: Verdict) -> list[str]:
    """The codes of the verdict's findings that `rule` gives (its `CODES`), about the run first, then by event."""
    return [f.code for f in verdict.findings if f.code in rule.CODES]


# -- a protocol wiringcheck did not write ----------------------------------------------------------

RELAY: dict[str, object] = {
    "type_field": "kind",
    "run_id_field": "run",
    "timestamp_field": "ts",
    "batch_field": "events",
    "ignore": [{"op": "ping"}],
    "error_events": ["failed"],
    "match": {
        "agent_started": "start",
        "agent_thinking": "think",
        "tool_executing": "tool.call",
        "tool_completed": "tool.result",
        "agent_completed": "done",
    },
}
"""A relay's `[probe]` table: its own field names, events batched in an envelope, heartbeats, an error event."""

RELAY_EVENTS = ("start", "think", "tool.call", "tool.result", "done")
"""The relay's names of the five events, in order."""

PING = json.dumps({"op": "ping"})
"""The relay's heartbeat (in its probe.ignore)."""


def batch(*kinds: str, run: str = RUN_ID, ts: float | None = None) -> str:
    """A relay frame batching events of these kinds, with a timestamp on the envelope when given."""
    body: dict[str, object] = {"op": "batch", "run": run, "events": [{"kind": kind} for kind in kinds]}
    if ts is not None:
        body["ts"] = ts
    return json.dumps(body)
