"""The event checker: from a recording of timestamped frames and an expectation, to findings.

Sans-I/O on purpose: nothing here reads a clock, opens a socket or imports asyncio.
The probe (``probe.py``) only connects, sends the trigger and appends frames; every
judgement about what arrived is made here, over data, so it is tested with
recordings built by hand (an event at 5 ms and one at 300 ms against a 100 ms budget).
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wiringcheck.findings import Finding, Severity
from wiringcheck.protocol import ABSENT, Item, Kind, Protocol, RunTracker, decode_frame, parse_matcher, parse_path
from wiringcheck.report import EventRecord
from wiringcheck.runrules import (
    Emission,
    check_cardinality,
    check_emission,
    check_gaps,
    check_tool_pairs,
    clock_offset,
    pair_emissions,
)
from wiringcheck.secrets import shorten

if TYPE_CHECKING:
    from wiringcheck.config import ProbeSettings

__all__ = [
    "DEFAULT_BUDGET_MS",
    "DEFAULT_EVENTS",
    "PAYLOAD_LIMIT",
    "PERCENTILES",
    "Expectation",
    "Frame",
    "Latency",
    "Recording",
    "RecordingEnd",
    "Verdict",
    "attach_send_times",
    "check_events",
    "check_latency_summary",
    "connect_finding",
    "expectation_for",
    "payload_text",
    "percentile",
    "protocol_of",
    "summarize_latencies",
    "unreached_finding",
]

DEFAULT_EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
"""The five events a user must see during an agent run, in order; the last one is terminal."""

DEFAULT_BUDGET_MS = 100.0
"""The per-event delivery budget, in milliseconds, when the configuration names none."""

PERCENTILES = ("p50", "p95", "max")
"""The latency percentiles over several runs; `probe.percentile` names the one that must fit the budget."""


class RecordingEnd(enum.StrEnum):
    """Why the probe stopped recording a run."""

    TERMINAL = "terminal"
    """The terminal event arrived (and the linger after it elapsed)."""
    DEADLINE = "deadline"
    """The run deadline passed first."""
    CLOSED = "closed"
    """The server closed the connection first."""
    CONNECT_FAILED = "connect_failed"
    """No connection was made: nothing was sent."""
    PROBE_CLOSED = "probe_closed"
    """The probe closed the connection: the server sent what a client must refuse (1009, 1007)."""
    OVERFLOW = "overflow"
    """The server sent more frames or bytes than the probe records for one run."""
    ERROR = "error"
    """An error terminal arrived (`probe.error_events`): the backend said the run failed."""
    AUTH_REJECTED = "auth_rejected"
    """The server refused the credentials; `Recording.error` says how."""
    SETUP_FAILED = "setup_failed"
    """A setup step failed before connecting; `Recording.error` says which and why."""
    STALLED = "stalled"
    """Nothing of the run arrived for longer than it could pass with (`runrules.stall_after`): the probe stopped."""


class Latency(enum.StrEnum):
    """How an event's delivery latency is measured."""

    SEND = "send"
    """From the backend's hand-off to its WebSocket layer (in-process targets), on one monotonic clock."""
    TIMESTAMP = "timestamp"
    """From the event's own timestamp field to the probe's wall clock (the server is another process)."""


PAYLOAD_LIMIT = 300
"""How many characters of a frame a finding shows (error payloads, unexpected frames)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One WebSocket message the probe received.

    Attributes:
        received_at: monotonic receive time, in seconds, on the probe's clock.
        data: the message, text or bytes.
        received_wall: wall-clock receive time (epoch seconds), for `url` targets.
        sent_at: when the backend handed it to its WebSocket layer, on the same monotonic
            clock as `received_at` (in-process targets only).
    """

    received_at: float
    data: str | bytes
    received_wall: float | None = None
    sent_at: float | None = None


@dataclass(frozen=True, slots=True)
class Recording:
    """Everything the probe saw of one run.

    `end` says why recording stopped (a `RecordingEnd`); for a refused auth or a failed
    setup step, `error` says how.

    `server_run_id` is the run id a setup step captured (``run_id = "server"``); the
    checker then judges frames by it instead of capturing it from the first frame.
    """

    run_id: str
    trigger_at: float
    ended_at: float
    frames: tuple[Frame, ...] = ()
    end: RecordingEnd = RecordingEnd.TERMINAL
    close_code: int | None = None
    close_reason: str = ""
    error: str = ""
    server_run_id: str | None = None
    auth_method: str | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """Every form of the credentials this run used, so whoever reports on it can scrub them."""
    ids: tuple[tuple[str, str], ...] = ()
    """The ids this run sent, by kind (user, thread, run), for the identifier cross-check."""
    emissions: tuple[Emission, ...] = ()
    """The backend's emitting calls during the run (in-process targets with an `emit` map)."""
    loop_stalls: tuple[tuple[float, float], ...] = ()
    """(start, seconds) of each time the backend's event loop was blocked during the run (in-process targets)."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a healthy run delivers: the events in order, and how fast.

    `latency` is `Latency.SEND` when frames carry the backend's send time (in-process
    targets) and `Latency.TIMESTAMP` when only the event's own timestamp field can be used.
    """

    events: tuple[str, ...]
    terminal: str
    budget_ms: float = DEFAULT_BUDGET_MS
    type_field: str = "type"
    run_id_field: str = "run_id"
    timestamp_field: str = "timestamp"
    latency: Latency = Latency.SEND
    protocol: Protocol | None = None
    gap_ms: float | None = DEFAULT_BUDGET_MS
    """The longest silence allowed before the first and between expected events; None: unbounded."""
    once: tuple[str, ...] | None = None
    """Events sent exactly once per run; None: the first and the terminal event (`runrules.once_events`)."""
    tool_pairs: tuple[tuple[str, str], ...] | None = None
    """(start, end) events that pair up; None: tool_executing/tool_completed when both are expected."""
    tool_id_field: str = "tool_call_id"
    assume_synced_clocks: bool = False
    """Timestamp latency: trust the server's clock instead of estimating its offset from the run."""


@dataclass(slots=True)
class Verdict:
    """The checker's result: findings per expected event, findings about the run, and the timeline."""

    per_event: dict[str, list[Finding]]
    general: list[Finding] = field(default_factory=list)
    timeline: list[EventRecord] = field(default_factory=list)
    timings: dict[str, float | None] = field(default_factory=dict)
    other_runs: int = 0
    ignored: int = 0
    unexpected: int = 0
    run_id: str | None = None
    clock_offset_ms: float | None = None

    @property
    def findings(self) -> list[Finding]:
        return [*self.general, *(f for findings in self.per_event.values() for f in findings)]


def expectation_for(probe: ProbeSettings, *, latency: Latency = Latency.SEND) -> Expectation:
    """The `Expectation` a probe configuration describes (events, terminal, budget, field names)."""
    return Expectation(
        events=probe.events,
        terminal=probe.terminal,
        budget_ms=probe.budget_ms,
        type_field=probe.type_field,
        run_id_field=probe.run_id_field,
        timestamp_field=probe.timestamp_field,
        latency=latency,
        protocol=probe.protocol(),
        gap_ms=probe.gap_bound,
        once=probe.once,
        tool_pairs=probe.tool_pairs,
        tool_id_field=probe.tool_id_field,
        assume_synced_clocks=probe.assume_synced_clocks,
    )


def protocol_of(expectation: Expectation) -> Protocol:
    """The protocol to read frames with: the expectation's own, narrowed to its events.

    An expectation built by hand (or with only names) matches each event by its name on
    the type field; one whose events were replaced keeps the matchers of the events it
    still names.
    """
    protocol = expectation.protocol
    if protocol is None:
        return Protocol.by_names(
            expectation.events,
            expectation.terminal,
            type_path=parse_path(expectation.type_field),
            run_id_path=parse_path(expectation.run_id_field),
            timestamp_path=parse_path(expectation.timestamp_field),
        )
    if protocol.events == expectation.events and protocol.terminal == expectation.terminal:
        return protocol
    matchers = tuple(
        protocol.matcher_of(name) if name in protocol.events else parse_matcher(name, protocol.type_path)
        for name in expectation.events
    )
    return replace(protocol, events=expectation.events, matchers=matchers, terminal=expectation.terminal)


def payload_text(value: Any, limit: int = PAYLOAD_LIMIT) -> str:
    """A frame's payload as compact JSON, cut at `limit` characters."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    return shorten(text, limit)


def attach_send_times(frames: Sequence[Frame], sends: Sequence[tuple[float, str | bytes]]) -> tuple[Frame, ...]:
    """Pair each received frame with the backend's send of the same payload, in order."""
    pending = list(sends)
    paired: list[Frame] = []
    for frame in frames:
        sent_at = None
        for index, (at, data) in enumerate(pending):
            if data == frame.data:
                sent_at = at
                del pending[index]
                break
        paired.append(
            Frame(received_at=frame.received_at, data=frame.data, received_wall=frame.received_wall, sent_at=sent_at)
        )
    return tuple(paired)


def _parse_time(value: Any) -> float | None:
    """An event timestamp (ISO 8601 text, or epoch seconds, milliseconds or microseconds) as epoch seconds.

    A number is read in the unit that puts it within a few centuries of 1970 (AG-UI and
    JavaScript servers send epoch milliseconds); anything else is no timestamp at all.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if not math.isfinite(number) or number <= 0:
            return None
        for scale in (1.0, 1e3, 1e6, 1e9):
            if number / scale < _EPOCH_SECONDS_LIMIT:
                return number / scale
        return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment.timestamp() if moment.tzinfo is not None else None
    return None


_EPOCH_SECONDS_LIMIT = 1e10
"""Epoch seconds below this (the year 2286) are seconds; bigger numbers are read as ms, µs or ns."""


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


@dataclass(frozen=True, slots=True)
class _Event:
    """One of the run's events: `type` is its expected-event name, or its raw type when unexpected."""

    index: int
    type: str
    run_id: str | None
    frame: Frame
    latency_ms: float | None
    expected: bool = True
    item: Item | None = None


def _frame_finding(code: str, message: str, hint: str, evidence: str) -> Finding:
    return Finding(code=code, message=message, hint=hint, subject="probe", evidence=(evidence,))


def check_events(recording: Recording, expectation: Expectation) -> Verdict:
    """Judge a recorded run against the expectation.

    Every expected event must be present; first occurrences must come in the expected
    order; nothing may follow the terminal event; each delivery must fit the budget.
    Frames are read through the protocol model (field paths, matchers, batches): an
    ignored frame is counted, an unexpected one is shown, an error terminal fails the
    run with its payload.  Frames that are not JSON objects with a type are findings,
    never crashes; events of other runs are counted apart and otherwise ignored.
    """
    protocol = protocol_of(expectation)
    verdict = Verdict(per_event={name: [] for name in expectation.events})
    ours: list[_Event] = []
    everything: list[_Event] = []  # every item of the run, ignored ones included, for the lifecycle rules
    errors: list[_Event] = []
    unexpected: list[str] = []
    start_id = recording.server_run_id if protocol.correlation == "server" else recording.run_id
    tracker = RunTracker(protocol, start_id)

    def ms(at: float) -> float:
        return _ms(at - recording.trigger_at)

    for index, frame in enumerate(recording.frames):
        at = ms(frame.received_at)
        for item in decode_frame(protocol, frame.data):
            if item.kind is Kind.BINARY:
                assert isinstance(frame.data, bytes)
                verdict.general.append(
                    _frame_finding(
                        "WC406",
                        f"frame #{index} at {at:g} ms is binary ({len(frame.data)} bytes), not a JSON text frame",
                        "Send events as JSON text frames; clients that parse every frame as JSON break on this one.",
                        f"#{index} +{at:g} ms: {shorten(repr(frame.data), 120)}",
                    )
                )
                verdict.timeline.append(EventRecord(index, None, None, at, None, ours=False))
                continue
            if item.kind is Kind.NOT_JSON:
                assert isinstance(frame.data, str)
                verdict.general.append(
                    _frame_finding(
                        "WC406",
                        f"frame #{index} at {at:g} ms is not JSON: {shorten(repr(frame.data), 60)}",
                        "Send only JSON frames on this socket, or move keep-alives to WebSocket ping frames.",
                        f"#{index} +{at:g} ms: {shorten(repr(frame.data), 120)}",
                    )
                )
                verdict.timeline.append(EventRecord(index, None, None, at, None, ours=False))
                continue
            if item.kind is Kind.UNTYPED:
                shown = shorten(frame.data, 80) if isinstance(frame.data, str) else ""
                verdict.general.append(
                    _frame_finding(
                        "WC407",
                        f"frame #{index} at {at:g} ms has no {protocol.type_path.text!r} field: {shown}",
                        f"Give every event a {protocol.type_path.text!r} (or set probe.type_field to the field used, "
                        "or list the frame under probe.ignore).",
                        f"#{index} +{at:g} ms: {payload_text(item.message, 120)}",
                    )
                )
                verdict.timeline.append(EventRecord(index, None, item.run_id, at, None, ours=False))
                continue
            mine = tracker.owns(item)
            latency = _latency(frame, item, protocol, expectation)
            verdict.timeline.append(EventRecord(index, item.label, item.run_id, at, latency, ours=mine))
            if not mine:
                verdict.other_runs += 1
                continue
            event = _Event(index, item.label, item.run_id, frame, latency, expected=item.kind is Kind.EVENT, item=item)
            everything.append(event)
            if latency is None and item.label in verdict.per_event and frame.received_wall is not None:
                verdict.per_event[item.label].extend(_unusable_timestamp(index, protocol.timestamp(item), expectation))
            if item.kind is Kind.IGNORED:
                verdict.ignored += 1
            elif item.kind is Kind.ERROR:
                errors.append(event)
            else:
                if item.kind is Kind.UNEXPECTED and not any(e.type == expectation.terminal for e in ours):
                    # After the terminal it is an event after the terminal (WC404), not an unmapped one.
                    verdict.unexpected += 1
                    unexpected.append(f"#{index} +{at:g} ms: {payload_text(item.message, 160)}")
                ours.append(event)
    verdict.run_id = tracker.run_id

    expected = [e for e in ours if e.expected]
    expected = _relative_to_server_clock(expectation, expected, verdict)
    _check_presence_and_order(recording, expectation, expected, verdict)
    _check_budget(expectation, expected, verdict)
    _check_run_semantics(recording, expectation, expected, verdict)
    if errors:
        _check_error(recording, errors[0], ours, verdict)
    else:
        _check_end(recording, expectation, everything if protocol.strict_lifecycle else ours, verdict)
    if protocol.strict_lifecycle or protocol.tool_call_id_path is not None:
        _check_lifecycle(protocol, expectation, everything, verdict)
    verdict.general = _collapse(verdict.general)
    if unexpected:
        verdict.general.append(
            Finding(
                code="WC416",
                message=f"{len(unexpected)} frame(s) of the run matched no expected event and are not in probe.ignore",
                hint="Map them to an event with probe.match, or list them under probe.ignore "
                "(`wiringcheck inspect --probe` suggests matchers).",
                subject="probe",
                evidence=tuple(unexpected[:10]),
                severity=Severity.NOTE,
            )
        )

    terminal = next((e for e in expected if e.type == expectation.terminal), None)
    verdict.timings = {
        "time_to_first_event_ms": ms(ours[0].frame.received_at) if ours else None,
        "time_to_terminal_ms": ms(terminal.frame.received_at) if terminal else None,
    }
    return verdict


def _relative_to_server_clock(expectation: Expectation, ours: list[_Event], verdict: Verdict) -> list[_Event]:
    """Timestamp latencies with the server clock's offset taken out (`runrules.clock_offset`), never negative."""
    if expectation.latency != Latency.TIMESTAMP:
        return ours
    raw = [e.latency_ms for e in ours if e.latency_ms is not None]
    offset, findings = clock_offset(raw, assume_synced=expectation.assume_synced_clocks)
    verdict.general.extend(findings)
    verdict.clock_offset_ms = offset if raw else None
    if not offset:
        return ours
    adjusted = [
        replace(e, latency_ms=_ms((e.latency_ms - offset) / 1000)) if e.latency_ms is not None else e for e in ours
    ]
    by_index = {e.index: e.latency_ms for e in adjusted}
    verdict.timeline = [
        replace(r, latency_ms=by_index.get(r.index, r.latency_ms)) if r.ours and r.index in by_index else r
        for r in verdict.timeline
    ]
    return adjusted


def _check_run_semantics(recording: Recording, expectation: Expectation, ours: list[_Event], verdict: Verdict) -> None:
    """The rules a user feels beyond presence and order (`wiringcheck.runrules`): gaps, emission latency,
    once-only events and tool pairs; and the emit → hand-off → receipt break-down on the timeline."""
    emitted = pair_emissions(ours, recording.emissions)
    rulings = [
        *check_gaps(recording, expectation, ours, emitted),
        *check_emission(recording, expectation, ours, emitted),
        *check_cardinality(recording, expectation, ours),
    ]
    for name, finding in rulings:
        (verdict.per_event[name] if name is not None and name in verdict.per_event else verdict.general).append(finding)
    protocol = expectation.protocol
    if protocol is None or not (protocol.strict_lifecycle or protocol.tool_call_id_path is not None):
        # With tool_call_id_field or strict_lifecycle, the protocol's lifecycle rule (WC415) pairs the calls.
        verdict.general.extend(check_tool_pairs(recording, expectation, ours))
    if not emitted and recording.frames and all(f.sent_at is None for f in recording.frames):
        return
    legs: dict[int, tuple[float | None, float | None]] = {}
    for position, event in enumerate(ours):
        at = emitted.get(position)
        sent = event.frame.sent_at
        legs[event.index] = (
            _ms(at - recording.trigger_at) if at is not None else None,
            _ms(sent - recording.trigger_at) if sent is not None else None,
        )
    verdict.timeline = [
        replace(r, emitted_at_ms=legs[r.index][0], sent_at_ms=legs[r.index][1]) if r.ours and r.index in legs else r
        for r in verdict.timeline
    ]


def _latency(frame: Frame, item: Item, protocol: Protocol, expectation: Expectation) -> float | None:
    if expectation.latency == Latency.SEND:
        return _ms(frame.received_at - frame.sent_at) if frame.sent_at is not None else None
    stamp = protocol.timestamp(item)
    stamped = _parse_time(stamp) if stamp is not ABSENT else None
    if stamped is None or frame.received_wall is None:
        return None
    latency = _ms(frame.received_wall - stamped)
    return latency if math.isfinite(latency) else None


def _unusable_timestamp(index: int, value: Any, expectation: Expectation) -> list[Finding]:
    """WC441 when an event carries a timestamp that is no time (1e400, "NaN", a date without a zone)."""
    if expectation.latency != Latency.TIMESTAMP or value is ABSENT or value is None or _parse_time(value) is not None:
        return []  # no timestamp at all (or no wall clock to compare with): untimed, not wrong
    return [
        Finding(
            code="WC441",
            message=f"frame #{index} has {expectation.timestamp_field!r} = {shorten(repr(value), 60)}, "
            "which is no time: its delivery could not be timed",
            hint="Send epoch seconds or milliseconds, or ISO 8601 with a time zone; clients that show times break "
            "on this value, and the budget cannot be checked.",
            subject="probe",
        )
    ]


_ARRIVED_SHOWN = 20
"""Events an "arrived:" evidence line lists at most: the first ones, then a count."""


def _arrived(events: Sequence[_Event], recording: Recording) -> str:
    if not events:
        return "nothing arrived for this run"
    shown = ", ".join(
        f"{e.type} (+{_ms(e.frame.received_at - recording.trigger_at):g} ms)" for e in events[:_ARRIVED_SHOWN]
    )
    more = len(events) - _ARRIVED_SHOWN
    return f"{shown}, and {more} more" if more > 0 else shown


def _check_presence_and_order(
    recording: Recording, expectation: Expectation, ours: Sequence[_Event], verdict: Verdict
) -> None:
    first: dict[str, int] = {}
    for position, event in enumerate(ours):
        first.setdefault(event.type, position)
    arrived = _arrived(ours, recording)

    for name in expectation.events:
        if name in first:
            continue
        previous = [e for e in expectation.events[: expectation.events.index(name)] if e in first]
        after = f" after {previous[-1]}" if previous else ""
        verdict.per_event[name].append(
            Finding(
                code="WC402",
                message=f"{name} never arrived{after}",
                hint=(
                    "Check that the backend emits it and that the emitter reaches this connection: a bridge with "
                    "no WebSocket manager drops events silently (look at the warnings logged)."
                ),
                subject=f"event: {name}",
                evidence=(f"arrived: {arrived}", f"expected next: {name}"),
            )
        )

    latest: tuple[int, str] | None = None
    for name in expectation.events:
        if name not in first:
            continue
        if latest is not None and first[name] < latest[0]:
            verdict.per_event[name].append(
                Finding(
                    code="WC403",
                    message=f"{name} arrived before {latest[1]}, which the protocol puts first",
                    hint="Emit the events in protocol order; clients render the run from this sequence.",
                    subject=f"event: {name}",
                    evidence=(f"arrived: {arrived}", f"expected order: {', '.join(expectation.events)}"),
                )
            )
        elif latest is None or first[name] > latest[0]:
            latest = (first[name], name)


def _check_budget(expectation: Expectation, ours: Sequence[_Event], verdict: Verdict) -> None:
    for event in ours:
        if event.type not in verdict.per_event or event.latency_ms is None:
            continue
        if event.latency_ms > expectation.budget_ms:
            verdict.per_event[event.type].append(
                Finding(
                    code="WC405",
                    message=(
                        f"{event.type} took {event.latency_ms:g} ms from hand-off to delivery, "
                        f"over the {expectation.budget_ms:g} ms budget"
                    ),
                    hint=(
                        "Something held the event loop or the connection between emission and delivery: look for "
                        "blocking calls (time.sleep, sync I/O) near the emitter, or a slow per-connection queue."
                    ),
                    subject=f"event: {event.type}",
                    evidence=(f"frame #{event.index}: latency {event.latency_ms:g} ms",),
                    data={"latency_ms": event.latency_ms},
                )
            )


def _check_end(recording: Recording, expectation: Expectation, ours: Sequence[_Event], verdict: Verdict) -> None:
    if recording.end == RecordingEnd.OVERFLOW:
        received = sum(len(frame.data) for frame in recording.frames)
        verdict.general.append(
            Finding(
                code="WC411",
                message=(
                    f"the server sent {len(recording.frames)} frames ({received} bytes) for one run; "
                    "the probe stopped listening there"
                ),
                hint="Find the emitter that floods the socket (the first frames are below) and bound it.",
                subject="probe",
                evidence=tuple(
                    f"#{index}: {shorten(_text(frame.data), 120)}" for index, frame in enumerate(recording.frames[:5])
                ),
            )
        )
    elif recording.end == RecordingEnd.PROBE_CLOSED:
        reason = f" ({recording.close_reason})" if recording.close_reason else ""
        verdict.general.append(
            Finding(
                code="WC410",
                message=f"the probe closed the connection with code {recording.close_code}{reason}: "
                f"{_CLIENT_CLOSES.get(recording.close_code or 0, 'the server broke the protocol')}",
                hint="Keep every event under the client's size limit, as valid UTF-8 JSON text.",
                subject="probe",
                evidence=(f"arrived: {_arrived(ours, recording)}",),
            )
        )
    terminal_at = next((p for p, e in enumerate(ours) if e.type == expectation.terminal), None)
    if terminal_at is not None:
        # The terminal itself counts as seen: a second terminal is an event after the terminal.
        seen_before = {e.type for e in ours[: terminal_at + 1]}
        extra = []
        for event in ours[terminal_at + 1 :]:
            # A first occurrence of an expected event after the terminal is an ordering
            # finding already; everything else after the terminal is reported here.
            if event.type in expectation.events and event.type not in seen_before and event.type not in extra:
                seen_before.add(event.type)
                continue
            extra.append(event.type)
        if extra:
            verdict.general.append(
                Finding(
                    code="WC404",
                    message=(
                        f"{len(extra)} event(s) arrived after the terminal {expectation.terminal}: {', '.join(extra)}"
                    ),
                    hint="Send nothing for a run after its terminal event; clients have stopped listening.",
                    subject="probe",
                    evidence=(f"arrived: {_arrived(ours, recording)}",),
                )
            )
        return

    last = ours[-1] if ours else None
    arrived = f"arrived: {_arrived(ours, recording)}"
    last_activity = (
        f"last event: {last.type} at +{_ms(last.frame.received_at - recording.trigger_at):g} ms"
        if last
        else f"frames of any kind: {len(recording.frames)}"
    )
    if recording.end == RecordingEnd.CLOSED:
        reason = f" ({recording.close_reason})" if recording.close_reason else ""
        verdict.general.append(
            Finding(
                code="WC408",
                message=f"the server closed the connection with code {recording.close_code}{reason} "
                f"before {expectation.terminal}",
                hint="Look at the backend's log for the exception that closed the socket.",
                subject="probe",
                evidence=(arrived, last_activity),
            )
        )
    elif recording.end == RecordingEnd.STALLED:
        since = last.frame.received_at if last else recording.trigger_at
        silent = _ms(recording.ended_at - since)
        after = f"after {last.type}" if last else "after the trigger"
        verdict.general.append(
            Finding(
                code="WC409",
                message=(
                    f"no {expectation.terminal}: nothing of the run arrived for {silent:g} ms {after}, "
                    f"past the {expectation.gap_ms or 0:g} ms gap bound and the {expectation.budget_ms:g} ms budget; "
                    "the probe stopped waiting"
                ),
                hint="The run stalled or its events were dropped; the missing events and warnings say where.",
                subject="probe",
                evidence=(arrived, last_activity),
            )
        )
    elif recording.end == RecordingEnd.DEADLINE:
        waited = _ms(recording.ended_at - recording.trigger_at)
        verdict.general.append(
            Finding(
                code="WC409",
                message=f"no {expectation.terminal} within the run deadline ({waited:g} ms after the trigger)",
                hint="The run stalled or its events were dropped; the missing events and warnings say where.",
                subject="probe",
                evidence=(arrived, last_activity),
            )
        )


_COLLAPSE_AFTER = 3
"""More findings of one code about the frames than this become one finding with a count."""


def _collapse(findings: list[Finding]) -> list[Finding]:
    """Repeated findings of one code as one, with their count and the first few examples (a flood stays readable)."""
    by_code: dict[str, list[Finding]] = {}
    for finding in findings:
        by_code.setdefault(finding.code, []).append(finding)
    collapsed: list[Finding] = []
    for finding in findings:
        group = by_code[finding.code]
        if len(group) <= _COLLAPSE_AFTER:
            collapsed.append(finding)
        elif finding is group[0]:
            examples = [line for example in group[:_COLLAPSE_AFTER] for line in example.evidence]
            collapsed.append(
                replace(
                    finding,
                    message=f"{len(group)} frames: {finding.message}, and {len(group) - 1} more like it",
                    evidence=(*examples, f"… {len(group) - _COLLAPSE_AFTER} more {finding.code} finding(s)"),
                    data={**finding.data, "count": len(group)},
                )
            )
    return collapsed


_CLIENT_CLOSES = {
    1002: "the server broke the WebSocket protocol",
    1007: "a text frame was not valid UTF-8",
    1009: "a message was larger than the client accepts (16 MiB)",
}


def _text(data: str | bytes) -> str:
    return data if isinstance(data, str) else repr(data)


# -- the connection, and several runs --------------------------------------------------------------


def connect_finding(recording: Recording, shown_url: str, *, hint: str) -> Finding:
    """WC401 for a run whose connection failed: where it tried, what the client said, what to check."""
    return Finding(
        code="WC401",
        message=f"cannot connect to {shown_url}: {recording.error}",
        hint=hint,
        subject="probe",
    )


_AUTH_WHERE = {
    "query": "the query parameter {query!r}",
    "header": "the {header!r} header",
    "subprotocol": "the subprotocol {subprotocol!r}",
    "first_message": "the first message after connecting",
    "cookie": "the cookie {cookie!r}",
}


def unreached_finding(recording: Recording, shown_url: str, probe: ProbeSettings, *, hint: str) -> Finding | None:
    """Why a run never started, if it did not: WC401 (no connection), WC413 (credentials refused), WC414 (setup).

    `hint` is WC401's, which depends on how the caller was told where to connect.
    """
    if recording.end == RecordingEnd.CONNECT_FAILED:
        return connect_finding(recording, shown_url, hint=hint)
    if recording.end == RecordingEnd.AUTH_REJECTED:
        auth = probe.auth
        method = recording.auth_method or auth.method or "?"
        where = _AUTH_WHERE.get(method, method).format(
            query=auth.query, header=auth.header, subprotocol=auth.subprotocol, cookie=auth.cookie
        )
        variable = f"${auth.token_env}" if auth.token_env else "the configured token"
        return Finding(
            code="WC413",
            message=f"{shown_url} refused the credentials sent as {where} ({method}): {recording.error}",
            hint=f"Check the token in {variable} (is it valid, unexpired, for this server?) and that the server "
            f"expects it as {where}; probe.auth says how it is sent.",
            subject="probe",
            data={"auth_method": method},
        )
    if recording.end == RecordingEnd.SETUP_FAILED:
        return Finding(
            code="WC414",
            message=f"the run could not be set up: {recording.error}",
            hint="Check the [[probe.setup]] step: its path, body, credentials, expected status and the field paths "
            "it captures; the backend's log says why it refused.",
            subject="probe",
        )
    return None


def percentile(values: Sequence[float], name: str) -> float:
    """The nearest-rank percentile (``p50``, ``p95``: a value that was measured) or ``max`` of non-empty `values`."""
    ordered = sorted(values)
    if name == "max":
        return ordered[-1]
    rank = math.ceil(float(name[1:]) / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


def summarize_latencies(samples: Sequence[float]) -> dict[str, float | int]:
    """p50, p95 and max of one event's latencies over several runs, and how many runs measured it."""
    return {**{key: round(percentile(samples, key), 3) for key in PERCENTILES}, "samples": len(samples)}


def check_latency_summary(
    event: str, samples: Sequence[float], expectation: Expectation, chosen: str
) -> tuple[dict[str, float | int], list[Finding]]:
    """The latency summary of `event` over several runs, and WC405 when its `chosen` percentile is over budget."""
    summary = summarize_latencies(samples)
    value = float(summary[chosen])
    if value <= expectation.budget_ms:
        return summary, []
    return summary, [
        Finding(
            code="WC405",
            message=(
                f"{event} {chosen} latency {value:g} ms is over the {expectation.budget_ms:g} ms budget "
                f"(p50 {summary['p50']:g}, p95 {summary['p95']:g}, max {summary['max']:g} ms "
                f"over {summary['samples']} runs)"
            ),
            hint="Something holds the event loop or the connection between emission and delivery "
            "on some runs: look for blocking calls near the emitter, or a slow per-connection queue.",
            subject=f"event: {event}",
            evidence=tuple(f"run latency {sample:g} ms" for sample in samples),
            data={"latency_ms": value},
        )
    ]


def _check_error(recording: Recording, error: _Event, ours: Sequence[_Event], verdict: Verdict) -> None:
    """An error terminal: the run failed, and the backend said why; show it."""
    assert error.item is not None
    at = _ms(error.frame.received_at - recording.trigger_at)
    shown = error.item.type or "an error frame"
    verdict.general.append(
        Finding(
            code="WC412",
            message=f"the backend ended the run with {shown} at +{at:g} ms: {payload_text(error.item.message, 160)}",
            hint="The run failed inside the backend: the payload (and the backend's log) says why. "
            "Fix that failure; the events that never arrived follow from it.",
            subject="probe",
            evidence=(f"payload: {payload_text(error.item.message)}", f"before it: {_arrived(ours, recording)}"),
            data={"at_ms": at},
        )
    )


def _lifecycle_finding(message: str, evidence: str) -> Finding:
    return Finding(
        code="WC415",
        message=message,
        hint="Clients that follow the protocol track the run and its tool calls from these events; "
        "emit each start once, before anything else, and close every tool call you open.",
        subject="probe",
        evidence=(evidence,),
    )


def _check_lifecycle(protocol: Protocol, expectation: Expectation, items: Sequence[_Event], verdict: Verdict) -> None:
    """The protocol's lifecycle rules: one start first, tool calls opened and closed in pairs under unique ids."""
    end = next(
        (p for p, e in enumerate(items) if e.type == expectation.terminal or (e.item and e.item.kind is Kind.ERROR)),
        len(items) - 1,
    )
    run = items[: end + 1]
    shown = ", ".join(f"#{e.index} {e.type}" for e in run[:12]) or "nothing"
    failed = bool(run) and run[-1].item is not None and run[-1].item.kind is Kind.ERROR
    if protocol.strict_lifecycle and failed and items[end + 1 :]:
        after = ", ".join(e.type for e in items[end + 1 : end + 6])
        verdict.general.append(
            _lifecycle_finding(f"{len(items) - end - 1} event(s) followed the error terminal: {after}", shown)
        )
    start = expectation.events[0]
    if protocol.strict_lifecycle and run:
        if run[0].type != start:
            verdict.general.append(
                _lifecycle_finding(f"the run's first event is {run[0].type}, not {start}", f"arrived: {shown}")
            )
        starts = [e for e in run if e.expected and e.type == start]
        if len(starts) > 1:
            verdict.general.append(
                _lifecycle_finding(
                    f"{start} arrived {len(starts)} times before the run ended (frames "
                    f"{', '.join(f'#{e.index}' for e in starts)})",
                    f"arrived: {shown}",
                )
            )
    path = protocol.tool_call_id_path
    if path is None:
        return
    opened: dict[str, _Event] = {}
    closed: set[str] = set()
    answered: set[str] = set()
    for event in run:
        assert event.item is not None
        raw = path.read(event.item.message)
        call = str(raw) if isinstance(raw, str | int) and not isinstance(raw, bool) else None
        if call is None:
            continue
        if event.expected and event.type == "tool_executing":
            if call in opened or call in closed:
                verdict.general.append(
                    _lifecycle_finding(f"tool call {call!r} was started twice (frame #{event.index})", shown)
                )
            else:
                opened[call] = event
        elif protocol.tool_call_end is not None and protocol.tool_call_end.matches(event.item.message):
            if call not in opened:
                verdict.general.append(
                    _lifecycle_finding(f"tool call {call!r} ended (frame #{event.index}) but was never started", shown)
                )
            else:
                del opened[call]
                closed.add(call)
        elif event.expected and event.type == "tool_completed":
            if call not in opened and call not in closed:
                verdict.general.append(
                    _lifecycle_finding(
                        f"a result for tool call {call!r} arrived (frame #{event.index}) but the call never started",
                        shown,
                    )
                )
            answered.add(call)
    if protocol.tool_call_end is not None:
        for call, event in opened.items():
            verdict.general.append(
                _lifecycle_finding(f"tool call {call!r} started at frame #{event.index} and never ended", shown)
            )
    for call in [*opened, *closed]:
        if call not in answered and "tool_completed" in expectation.events:
            verdict.general.append(_lifecycle_finding(f"tool call {call!r} never got its result", shown))
