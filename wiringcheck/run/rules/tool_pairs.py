"""Every tool call the run starts gets its result, while other calls of the run did (WC422)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from wiringcheck.findings import Finding
from wiringcheck.run.recording import Event, Expectation, RunView
from wiringcheck.run.rules._shared import Ruling, since_trigger

CODES = ("WC422",)


def tool_pairs(expectation: Expectation) -> tuple[tuple[str, str], ...]:
    """The (start, end) event pairs that must match: by default tool_executing/tool_completed when both are expected."""
    if expectation.tool_pairs is not None:
        return expectation.tool_pairs
    if "tool_executing" in expectation.events and "tool_completed" in expectation.events:
        return (("tool_executing", "tool_completed"),)
    return ()


def check(view: RunView) -> list[Ruling]:
    """WC422 for tool calls that never completed, while other calls of the run did.

    Calls pair by `expectation.tool_id_field` when both events carry it, else in order.
    A run where the end event never arrived at all is WC402's (the event is missing); one
    where it arrived late is WC403's and WC404's: this rule names the calls left hanging.
    With a protocol that tracks tool calls itself (`tool_call_id_field`, a strict
    lifecycle), WC415 pairs them instead.
    """
    protocol, expectation = view.protocol, view.expectation
    if protocol.strict_lifecycle or protocol.pairs_tool_calls:
        return []
    rulings: list[Ruling] = []
    for start, end in tool_pairs(expectation):
        starts = [e for e in view.expected if e.type == start]
        ends = [e for e in view.expected if e.type == end]
        if not ends or (len(starts) <= len(ends) and not _by_id(expectation, starts)):
            continue
        open_calls = _unmatched(expectation, starts, ends)
        if not open_calls:
            continue
        shown = [
            f"{start} #{e.index} at {since_trigger(view, e.frame.received_at)}"
            + (f" ({expectation.tool_id_field} {ident!r})" if ident is not None else "")
            for e, ident in open_calls
        ]
        rulings.append(
            (
                None,
                Finding(
                    code="WC422",
                    message=f"{len(open_calls)} of {len(starts)} {start} event(s) never got their {end}",
                    hint=(
                        f"Send {end} for every {start}, also when the tool fails (with the error in its payload), "
                        "so the client can close the tool's spinner."
                    ),
                    subject="probe",
                    evidence=tuple(shown[:5]),
                    data={"open": len(open_calls)},
                ),
            )
        )
    return rulings


def _by_id(expectation: Expectation, events: Sequence[Event]) -> bool:
    return any(_field(e, expectation.tool_id_field) is not None for e in events)


def _unmatched(expectation: Expectation, starts: Sequence[Event], ends: Sequence[Event]) -> list[tuple[Event, Any]]:
    """The starts no end answers: ids pair first; a start without an id takes any end left, a start with an id
    only an end without one (an end naming another call never answers it)."""
    by_id = Counter(ident for end in ends if (ident := _field(end, expectation.tool_id_field)) is not None)
    anonymous = sum(1 for end in ends if _field(end, expectation.tool_id_field) is None)
    unpaired: list[tuple[Event, Any]] = []
    for event in starts:
        ident = _field(event, expectation.tool_id_field)
        if ident is not None and by_id[ident] > 0:
            by_id[ident] -= 1
        else:
            unpaired.append((event, ident))
    spare_ids = sum(by_id.values())
    left: list[tuple[Event, Any]] = []
    for event, ident in unpaired:
        if anonymous:
            anonymous -= 1
        elif ident is None and spare_ids:
            spare_ids -= 1
        else:
            left.append((event, ident))
    return left


def _field(event: Event, path: str) -> Any:
    """The value at a dotted `path` of the event (also looked up under ``payload``), or None."""
    message = event.item.message if event.item is not None else None
    for candidate in (path, f"payload.{path}"):
        value: Any = message
        for part in candidate.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None and not isinstance(value, dict | list):
            return value
    return None
