"""The rules of a run as its user feels it: gaps, emission latency, cardinality, tool pairs, clocks, cross-talk.

`events.check_events` classifies a recording's frames into the run's events; the
functions here judge that list against the `Expectation`, each rule on its own, with
time as data (seconds on the probe's monotonic clock, or epoch seconds for wall
clocks). Nothing here reads a clock, opens a socket or imports asyncio.

How the bounds relate (docs/configuration.md says the same to users):

- ``budget_ms`` bounds each event's *latency*: from the backend's emitting call (or its
  hand-off to the WebSocket layer when no emitting call is mapped) to the client's receipt;
- ``gap_ms`` bounds the *silence* a user sees: from the trigger to the first expected
  event, and between consecutive expected events (default: the budget; off with false);
- ``deadline`` is the hard cap on the whole run. The probe stops earlier once the run can
  no longer pass: when nothing of the run arrived for ``gap_ms + budget_ms`` plus a short
  evidence window (`stall_after`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wiringcheck.findings import Finding, Severity
from wiringcheck.secrets import shorten

if TYPE_CHECKING:
    from wiringcheck.events import Expectation, Recording, _Event

__all__ = [
    "EVIDENCE_MS",
    "IMPLAUSIBLE_OFFSET_MS",
    "Emission",
    "UserRun",
    "check_cardinality",
    "check_cross_talk",
    "check_emission",
    "check_gaps",
    "check_tool_pairs",
    "clock_offset",
    "once_events",
    "pair_emissions",
    "stall_after",
    "timestamp_clock",
    "tool_pairs",
]

EVIDENCE_MS = 300.0
"""How long the probe keeps listening once the run can no longer pass, to record what still arrives."""

IMPLAUSIBLE_OFFSET_MS = 1000.0
"""A server clock further than this from the probe's is a finding (WC425): latency is then relative only."""

Ruling = tuple[str | None, Finding]
"""A finding and the expected event it belongs to (None: the run as a whole)."""


@dataclass(frozen=True, slots=True)
class Emission:
    """One call of an emitting method the `emit` map names, timestamped on the probe's monotonic clock."""

    event: str
    run_id: str | None
    at: float


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


def _expected(expectation: Expectation, ours: Sequence[_Event]) -> list[_Event]:
    """The run's expected events up to and including the first terminal (what comes after is WC404's)."""
    result: list[_Event] = []
    for event in ours:
        if event.type in expectation.events:
            result.append(event)
            if event.type == expectation.terminal:
                break
    return result


# -- stopping early --------------------------------------------------------------------------------


def stall_after(budget_ms: float, gap_ms: float | None, evidence_ms: float = EVIDENCE_MS) -> float | None:
    """Seconds of silence after which a run can no longer pass and the probe stops (None: wait for the deadline).

    The next expected event is overdue once the gap bound and the budget have both
    passed with nothing arriving; the probe then listens `evidence_ms` more.
    """
    if gap_ms is None:
        return None
    return (gap_ms + budget_ms + evidence_ms) / 1000.0


# -- gaps ------------------------------------------------------------------------------------------


def check_gaps(
    recording: Recording,
    expectation: Expectation,
    ours: Sequence[_Event],
    emitted: Mapping[int, float] | None = None,
) -> list[Ruling]:
    """WC420 for each expected event that arrived more than `gap_ms` after the previous one (or the trigger).

    Receipt times are what the user sees; one finding per event name, naming the worst gap.
    A gap that an over-budget latency explains (WC405 or WC423, for the same event) is
    not reported twice: only the silence before the event was emitted counts.
    """
    bound = expectation.gap_ms
    if bound is None:
        return []
    emitted = emitted or {}
    worst: dict[str, tuple[float, str, _Event]] = {}
    previous_at, previous_name = recording.trigger_at, "the trigger"
    positions = {id(event): position for position, event in enumerate(ours)}
    for event in _expected(expectation, ours):
        gap = _ms(event.frame.received_at - previous_at)
        at = emitted.get(positions[id(event)])
        late = [event.latency_ms or 0.0, _ms(event.frame.received_at - at) if at is not None else 0.0]
        explained = max((value for value in late if value > expectation.budget_ms), default=0.0)
        if gap - explained > bound and gap > worst.get(event.type, (0.0, "", event))[0]:
            worst[event.type] = (gap, previous_name, event)
        previous_at, previous_name = event.frame.received_at, event.type
    rulings: list[Ruling] = []
    for name, (gap, after, event) in worst.items():
        at = _ms(event.frame.received_at - recording.trigger_at)
        legs = f"; delivery took {event.latency_ms:g} ms" if event.latency_ms is not None else ""
        begun = event.frame.received_at - gap / 1000
        stalls = [
            (start, seconds)
            for start, seconds in recording.loop_stalls
            if start < event.frame.received_at and start + seconds > begun
        ]
        blocked = _ms(sum(seconds for _, seconds in stalls))
        if stalls:
            legs += f"; the backend's event loop was blocked for {blocked:g} ms of it"
        hint = (
            "The backend's event loop was blocked: a synchronous call (time.sleep, a sync database or HTTP "
            "client, heavy CPU work) in async code. Move it to asyncio.to_thread, or use an async client."
            if blocked > gap / 2
            else "The user saw nothing for that long. Send progress before slow work (persisting, "
            "calling a model), or raise probe.gap_ms if the product accepts the pause."
        )
        rulings.append(
            (
                name,
                Finding(
                    code="WC420",
                    message=f"{name} arrived {gap:g} ms after {after}, over the {bound:g} ms gap bound{legs}",
                    hint=hint,
                    subject=f"event: {name}",
                    evidence=(
                        f"frame #{event.index} at +{at:g} ms: gap {gap:g} ms, bound {bound:g} ms",
                        *(
                            f"event loop blocked {_ms(seconds):g} ms from +{_ms(start - recording.trigger_at):g} ms"
                            for start, seconds in stalls[:3]
                        ),
                    ),
                    data={"bound": "gap", "gap_ms": gap, "bound_ms": bound},
                ),
            )
        )
    return rulings


# -- cardinality -----------------------------------------------------------------------------------


def once_events(expectation: Expectation) -> tuple[str, ...]:
    """The events a run sends exactly once: `expectation.once`, by default the first and the terminal event."""
    if expectation.once is not None:
        return expectation.once
    return tuple(dict.fromkeys((expectation.events[0], expectation.terminal)))


def check_cardinality(recording: Recording, expectation: Expectation, ours: Sequence[_Event]) -> list[Ruling]:
    """WC421 for a `once` event that arrived more than once before the terminal (after it, WC404 says so)."""
    rulings: list[Ruling] = []
    expected = _expected(expectation, ours)
    for name in once_events(expectation):
        seen = [e for e in expected if e.type == name]
        if len(seen) < 2:
            continue
        times = ", ".join(f"+{_ms(e.frame.received_at - recording.trigger_at):g} ms" for e in seen)
        rulings.append(
            (
                name,
                Finding(
                    code="WC421",
                    message=f"{name} arrived {len(seen)} times for one run ({times}); it is sent once per run",
                    hint=(
                        "Two components announce the same step (a gateway and the runner, a retry): let one own "
                        f"it. If {name} may repeat, list it under probe.repeatable."
                    ),
                    subject=f"event: {name}",
                    evidence=tuple(f"frame #{e.index}: {shorten(_text(e.frame.data), 120)}" for e in seen[:3]),
                    data={"count": len(seen)},
                ),
            )
        )
    return rulings


# -- tool pairs ------------------------------------------------------------------------------------


def tool_pairs(expectation: Expectation) -> tuple[tuple[str, str], ...]:
    """The (start, end) event pairs that must match: by default tool_executing/tool_completed when both are expected."""
    if expectation.tool_pairs is not None:
        return expectation.tool_pairs
    if "tool_executing" in expectation.events and "tool_completed" in expectation.events:
        return (("tool_executing", "tool_completed"),)
    return ()


def check_tool_pairs(recording: Recording, expectation: Expectation, ours: Sequence[_Event]) -> list[Finding]:
    """WC422 for tool calls that never completed, while other calls of the run did.

    Calls pair by `expectation.tool_id_field` when both frames carry it, else in order.
    A run where the end event never arrived at all is WC402's (the event is missing); one
    where it arrived late is WC403's and WC404's: this rule names the calls left hanging.
    """
    findings: list[Finding] = []
    for start, end in tool_pairs(expectation):
        starts = [e for e in ours if e.type == start]
        ends = [e for e in ours if e.type == end]
        if not ends or (len(starts) <= len(ends) and not _by_id(expectation, starts)):
            continue
        open_calls = _unmatched(expectation, starts, ends)
        if not open_calls:
            continue
        shown = [
            f"{start} #{e.index} at +{_ms(e.frame.received_at - recording.trigger_at):g} ms"
            + (f" ({expectation.tool_id_field} {ident!r})" if ident is not None else "")
            for e, ident in open_calls
        ]
        findings.append(
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
            )
        )
    return findings


def _by_id(expectation: Expectation, events: Sequence[_Event]) -> bool:
    return any(_field(e, expectation.tool_id_field) is not None for e in events)


def _unmatched(expectation: Expectation, starts: Sequence[_Event], ends: Sequence[_Event]) -> list[tuple[_Event, Any]]:
    end_ids = [_field(e, expectation.tool_id_field) for e in ends]
    anonymous = sum(1 for ident in end_ids if ident is None)
    remaining = [ident for ident in end_ids if ident is not None]
    left: list[tuple[_Event, Any]] = []
    for event in starts:
        ident = _field(event, expectation.tool_id_field)
        if ident is not None and ident in remaining:
            remaining.remove(ident)
        elif anonymous:
            anonymous -= 1
        else:
            left.append((event, ident))
    return left


# -- emission latency ------------------------------------------------------------------------------


def pair_emissions(ours: Sequence[_Event], emissions: Sequence[Emission]) -> dict[int, float]:
    """The emitting call of each received event (by position in `ours`): the k-th call of a type and run
    pairs with the k-th event of that type and run (a call that names no run pairs by type alone)."""
    pending: dict[tuple[str, str | None], list[float]] = {}
    for emission in emissions:
        pending.setdefault((emission.event, emission.run_id), []).append(emission.at)
    paired: dict[int, float] = {}
    for position, event in enumerate(ours):
        for key in ((event.type, event.run_id), (event.type, None)):
            queue = pending.get(key)
            if queue:
                paired[position] = queue.pop(0)
                break
    return paired


def check_emission(
    recording: Recording, expectation: Expectation, ours: Sequence[_Event], emitted: Mapping[int, float]
) -> list[Ruling]:
    """WC423 when an event reached the client more than the budget after the backend emitted it,
    and the slow leg is before the hand-off (a slow delivery after it is WC405's)."""
    rulings: list[Ruling] = []
    reported: set[str] = set()
    for position, event in enumerate(ours):
        at = emitted.get(position)
        if at is None or event.type not in expectation.events or event.type in reported:
            continue
        total = _ms(event.frame.received_at - at)
        if total <= expectation.budget_ms:
            continue
        sent_at = event.frame.sent_at
        if sent_at is not None and _ms(event.frame.received_at - sent_at) > expectation.budget_ms:
            continue  # the delivery leg alone is over: WC405 says so
        if sent_at is not None:
            delivery = _ms(event.frame.received_at - sent_at)
            legs = f"emit → hand-off {_ms(sent_at - at):g} ms, hand-off → receipt {delivery:g} ms"
            slow = "between the emitting call and the WebSocket hand-off: the event was buffered or queued"
        else:
            legs = f"emit → receipt {total:g} ms"
            slow = "between the emitting call and the client"
        reported.add(event.type)
        rulings.append(
            (
                event.type,
                Finding(
                    code="WC423",
                    message=(
                        f"{event.type} reached the client {total:g} ms after it was emitted, over the "
                        f"{expectation.budget_ms:g} ms budget ({legs})"
                    ),
                    hint=(
                        f"The time went {slow}. Send each event when it is emitted: no buffering until the end of "
                        "the run, no queue drained by a slow task, no blocking call before the send."
                    ),
                    subject=f"event: {event.type}",
                    evidence=(
                        f"emitted at +{_ms(at - recording.trigger_at):g} ms, "
                        + (f"handed off at +{_ms(sent_at - recording.trigger_at):g} ms, " if sent_at else "")
                        + f"received at +{_ms(event.frame.received_at - recording.trigger_at):g} ms",
                    ),
                    data={"bound": "emission", "latency_ms": total, "bound_ms": expectation.budget_ms},
                ),
            )
        )
    return rulings


# -- clocks ----------------------------------------------------------------------------------------


def clock_offset(raw_ms: Sequence[float], *, assume_synced: bool) -> tuple[float, list[Finding]]:
    """The server clock's offset to subtract from each raw (receipt - timestamp) latency, and what it says.

    Without synced clocks the offset is estimated as the smallest raw latency of the run
    (the fastest event is taken as instant): each event's delay is then relative to it,
    never negative. A larger offset than `IMPLAUSIBLE_OFFSET_MS` is a warning (WC425). With
    `assume_synced`, the offset is 0 and a negative latency is an error (WC425): the clocks
    are not synced after all.
    """
    if not raw_ms:
        return 0.0, []
    lowest = min(raw_ms)
    if assume_synced:
        if lowest >= -1.0:  # a millisecond of timestamp rounding is not a clock problem
            return 0.0, []
        return 0.0, [
            Finding(
                code="WC425",
                message=(
                    f"an event arrived {-lowest:g} ms before its own timestamp: the server's clock is ahead of "
                    "the probe's, so its latencies cannot be trusted"
                ),
                hint="Sync both clocks (NTP), or drop --assume-synced-clocks to measure relative to the fastest event.",
                subject="probe",
                data={"offset_ms": lowest},
            )
        ]
    offset = round(lowest, 3)
    if abs(offset) <= IMPLAUSIBLE_OFFSET_MS:
        return offset, []
    side = "behind" if offset > 0 else "ahead of"
    return offset, [
        Finding(
            code="WC425",
            message=(
                f"the server's clock is about {abs(offset):g} ms {side} the probe's; latencies are measured "
                "relative to the run's fastest event"
            ),
            hint=(
                "A clock this far off is misconfigured: sync it (NTP). Relative latency still catches a slow event, "
                "not a run whose every event is equally late."
            ),
            subject="probe",
            severity=Severity.WARNING,
            data={"offset_ms": offset},
        )
    ]


def timestamp_clock(field: str, *, synced: bool) -> str:
    """How timestamp latency was measured, for the report."""
    if synced:
        return f"wall clock: the event's {field!r} field to probe receive (clocks assumed synced)"
    return (
        f"wall clock: the event's {field!r} field to probe receive, relative to the run's fastest event "
        "(the server clock's offset is estimated from the run)"
    )


# -- cross-talk between users ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserRun:
    """One simulated user of an isolation check: its label, the values that identify it, and what it received."""

    label: str
    identity: Mapping[str, str]
    """Field name → value that only this user's runs carry (its run id, thread id, user id)."""
    recording: Recording


def check_cross_talk(users: Sequence[UserRun]) -> tuple[list[Finding], dict[str, list[str]]]:
    """WC424 for each frame a user received that carries another user's identity, and where each user's frames went.

    Returns the findings, and for each user label the lines saying which other user
    received its frames (for the evidence of its missing events).
    """
    findings: list[Finding] = []
    went: dict[str, list[str]] = {}
    for receiver in users:
        leaks: dict[str, list[str]] = {}
        fields: dict[str, str] = {}
        for index, frame in enumerate(receiver.recording.frames):
            message = _json(frame.data)
            if message is None:
                continue
            for owner in users:
                if owner is receiver:
                    continue
                path = _revealing_field(message, owner.identity.values())
                if path is None:
                    continue
                at = _ms(frame.received_at - receiver.recording.trigger_at)
                leaks.setdefault(owner.label, []).append(f"#{index} +{at:g} ms: {shorten(_text(frame.data), 160)}")
                fields.setdefault(owner.label, path)
                break
        for label, frames in leaks.items():
            went.setdefault(label, []).append(f"{len(frames)} of its frame(s) went to {receiver.label}")
            findings.append(
                Finding(
                    code="WC424",
                    message=(
                        f"{receiver.label} received {len(frames)} frame(s) of {label}'s run "
                        f"(revealed by the field {fields[label]!r})"
                    ),
                    hint=(
                        "Events leak between users: route each run's events to the connections of the user who "
                        "started it, keyed by the run id, and never fall back to broadcasting."
                    ),
                    subject="isolation",
                    evidence=tuple(frames[:3]),
                    data={"receiver": receiver.label, "owner": label, "field": fields[label], "count": len(frames)},
                )
            )
    return findings, went


def _revealing_field(message: Any, values: Any, path: str = "") -> str | None:
    """The dotted path of the first string field of `message` equal to one of `values`."""
    wanted = set(values)
    if isinstance(message, dict):
        for key, value in message.items():
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(value, str) and value in wanted:
                return inner
            if isinstance(value, dict | list):
                found = _revealing_field(value, wanted, inner)
                if found is not None:
                    return found
    elif isinstance(message, list):
        for position, value in enumerate(message):
            inner = f"{path}[{position}]"
            if isinstance(value, str) and value in wanted:
                return inner
            found = _revealing_field(value, wanted, inner) if isinstance(value, dict | list) else None
            if found is not None:
                return found
    return None


# -- helpers ---------------------------------------------------------------------------------------


def _json(data: str | bytes) -> Any:
    if isinstance(data, bytes):
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def _field(event: _Event, path: str) -> Any:
    """The value at a dotted `path` of the event's JSON (also looked up under ``payload``), or None."""
    message = _json(event.frame.data)
    for candidate in (path, f"payload.{path}"):
        value: Any = message
        for part in candidate.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None and not isinstance(value, dict | list):
            return value
    return None


def _text(data: str | bytes) -> str:
    return data if isinstance(data, str) else repr(data)
