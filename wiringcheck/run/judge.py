"""The judge: from a recording and an expectation, to a verdict.

One judge for every entry point: `run`, `probe`, the pytest fixtures, `load` and the
Locust user all hand it the `Recording` a session wrote, so the same run gets the same
findings whichever door it came in by.  It reads the frames through the protocol model
(field paths, matchers, batches, correlation), takes the server clock's offset out of
timestamp latencies, pairs each event with the call that emitted it, then runs every
rule of `wiringcheck.run.rules` over the resulting `RunView` and collapses repeats.
Sans-I/O: it never reads a clock, opens a socket or imports asyncio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wiringcheck.findings import Finding
from wiringcheck.protocol import ABSENT, Item, Kind, Protocol, decode_frame, parse_matcher, parse_path
from wiringcheck.report import EventRecord
from wiringcheck.run.identity import RunIdentity
from wiringcheck.run.recording import (
    NOT_STARTED,
    Emission,
    Event,
    Expectation,
    Frame,
    Latency,
    Malformed,
    Recording,
    RunView,
)
from wiringcheck.run.rules import RULES
from wiringcheck.run.rules._shared import ms, payload_text, shown_offset
from wiringcheck.run.rules.clocks import server_clock_offset

if TYPE_CHECKING:
    from wiringcheck.config import ProbeSettings

__all__ = [
    "Verdict",
    "attach_send_times",
    "collapse",
    "expectation_for",
    "judge",
    "judge_isolation",
    "parse_time",
    "protocol_of",
]


@dataclass(slots=True)
class Verdict:
    """The judge's result: findings per expected event, findings about the run, and the timeline.

    Attributes:
        foreign: run id → frames of that run on this socket that are not this run's (nor the
            same user's earlier runs'): with several users, another user's run.
        stale: frames of the same user's earlier runs (late, after the run that sent them ended).
        other_runs: frames of other runs in all (`foreign` and `stale`, and runs that name no id).
    """

    per_event: dict[str, list[Finding]]
    general: list[Finding] = field(default_factory=list)
    timeline: list[EventRecord] = field(default_factory=list)
    timings: dict[str, float | None] = field(default_factory=dict)
    other_runs: int = 0
    ignored: int = 0
    unexpected: int = 0
    run_id: str | None = None
    clock_offset_ms: float | None = None
    foreign: dict[str, int] = field(default_factory=dict)
    stale: int = 0

    @property
    def findings(self) -> list[Finding]:
        return [*self.general, *(f for findings in self.per_event.values() for f in findings)]


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


def attach_send_times(frames: Sequence[Frame], sends: Sequence[tuple[float, str | bytes]]) -> tuple[Frame, ...]:
    """Pair each received frame with the backend's send of the same payload, in order."""
    pending: dict[str | bytes, list[float]] = {}
    for at, data in sends:
        pending.setdefault(data, []).append(at)
    paired: list[Frame] = []
    for frame in frames:
        queue = pending.get(frame.data)
        paired.append(replace(frame, sent_at=queue.pop(0)) if queue else frame)
    return tuple(paired)


def judge(recording: Recording, expectation: Expectation) -> Verdict:
    """Judge a recorded run against the expectation.

    Every expected event must be present; first occurrences must come in the expected
    order; nothing may follow the terminal event; each delivery must fit the budget; and
    every rule of `wiringcheck.run.rules` holds.  Frames that are no events are findings,
    never crashes; events of other runs are counted apart and otherwise ignored.
    """
    protocol = protocol_of(expectation)
    verdict = Verdict(per_event={name: [] for name in expectation.events})
    ours: list[Event] = []
    everything: list[Event] = []
    errors: list[Event] = []
    malformed: list[Malformed] = []
    untimed: list[tuple[str, int, Any]] = []
    unexpected: list[str] = []
    start_id = recording.server_run_id if protocol.correlation == "server" else recording.run_id
    identity = RunIdentity(protocol, start_id, earlier=recording.earlier_runs)

    # First read every item (reusing what the session read with the same protocol), then time them:
    # the server clock's offset is known only once every timestamp of the run has been read.
    same = recording.decoded_with is protocol or (
        recording.decoded_with is not None and recording.decoded_with == protocol
    )
    decoded = recording.decoded if same and len(recording.decoded) == len(recording.frames) else ()
    read: list[tuple[int, Frame, Item, str | None, float | None]] = []
    for index, frame in enumerate(recording.frames):
        known = decoded[index] if decoded else None
        for item in known if known is not None else decode_frame(protocol, frame.data, frame.name):
            if item.kind in (Kind.BINARY, Kind.NOT_JSON, Kind.UNTYPED):
                read.append((index, frame, item, None, None))
            else:
                read.append((index, frame, item, identity.owner(item), _latency(frame, item, protocol, expectation)))
    verdict.run_id = identity.run_id
    raw = [
        latency
        for _, _, item, owner, latency in read
        if owner is None and item.kind is Kind.EVENT and latency is not None
    ]
    offset, clock_findings = server_clock_offset(expectation, raw)
    verdict.clock_offset_ms = offset
    verdict.general.extend(clock_findings)

    terminal_seen = False
    for index, frame, item, owner, latency in read:
        at = ms(frame.received_at - recording.trigger_at)
        if item.kind in (Kind.BINARY, Kind.NOT_JSON, Kind.UNTYPED):
            malformed.append(Malformed(index, frame, item))
            verdict.timeline.append(EventRecord(index, None, item.run_id, at, None, ours=False))
            continue
        if offset and latency is not None and owner is None and item.kind is Kind.EVENT:
            latency = ms((latency - offset) / 1000)
        verdict.timeline.append(EventRecord(index, item.label, item.run_id, at, latency, ours=owner is None))
        if owner is not None:
            verdict.other_runs += 1
            if owner in identity.earlier:
                verdict.stale += 1
            elif owner:
                verdict.foreign[owner] = verdict.foreign.get(owner, 0) + 1
            continue
        event = Event(index, item.label, item.run_id, frame, latency, expected=item.kind is Kind.EVENT, item=item)
        everything.append(event)
        if latency is None and item.label in verdict.per_event and frame.received_wall is not None:
            stamp = protocol.timestamp(item)
            if _unusable(stamp, expectation):
                untimed.append((item.label, index, stamp))
        if item.kind is Kind.IGNORED:
            verdict.ignored += 1
        elif item.kind is Kind.ERROR:
            errors.append(event)
        else:
            if item.kind is Kind.UNEXPECTED and not terminal_seen:
                # After the terminal it is an event after the terminal (WC404), not an unmapped one.
                verdict.unexpected += 1
                unexpected.append(f"#{index} {shown_offset(at)}: {payload_text(item.message, 160)}")
            terminal_seen = terminal_seen or event.type == expectation.terminal
            ours.append(event)
    _imply(recording, expectation, ours, everything, verdict)
    expected = tuple(event for event in ours if event.expected)
    view = RunView(
        recording=recording,
        expectation=expectation,
        protocol=protocol,
        ours=tuple(ours),
        expected=expected,
        until_terminal=_until_terminal(expected, expectation.terminal),
        everything=tuple(everything),
        errors=tuple(errors),
        malformed=tuple(malformed),
        untimed=tuple(untimed),
        unexpected=tuple(unexpected),
        emitted=_pair_emissions(expected, recording.emissions),
    )
    for _name, _codes, check in RULES:
        for event_name, finding in check(view):
            if event_name is not None and event_name in verdict.per_event:
                verdict.per_event[event_name].append(finding)
            else:
                verdict.general.append(finding)
    verdict.general = collapse(verdict.general)
    for name, findings in verdict.per_event.items():
        verdict.per_event[name] = collapse(findings)
    _legs_on_timeline(view, verdict)
    terminal = next((e for e in expected if e.type == expectation.terminal), None)
    verdict.timings = {
        "time_to_first_event_ms": view.ms(ours[0].frame.received_at) if ours else None,
        "time_to_terminal_ms": view.ms(terminal.frame.received_at) if terminal else None,
    }
    return verdict


# -- collapsing repeats ----------------------------------------------------------------------------

_EXAMPLES = 3
"""Examples a collapsed finding keeps in its evidence."""

_WORST_BY = ("latency_ms", "gap_ms", "count")
"""The data key that says which of several findings of one kind is the worst case (the first one found)."""


def collapse(findings: list[Finding]) -> list[Finding]:
    """Repeats become one finding, with their count and the worst case: a flood stays one finding in every format.

    Findings about one event are one check's: any repeat of a code there (the event late
    on each of its deliveries) keeps only the worst.  Findings about the run as a whole
    may be distinct problems of one kind (two tool calls left open): up to `_EXAMPLES` of
    a code stay apart, more become one.  The collapsed finding's evidence keeps the first
    examples, its message the worst one (by latency, gap or count), `data["count"]` the count.
    """
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.code, finding.subject), []).append(finding)
    collapsed: list[Finding] = []
    for finding in findings:
        group = groups[(finding.code, finding.subject)]
        apart = 1 if finding.subject.startswith("event: ") else _EXAMPLES
        if len(group) <= apart:
            collapsed.append(finding)
        elif finding is group[0]:
            worst = max(group, key=_severity_of)
            examples = [line for example in group[:_EXAMPLES] for line in (example.evidence or (example.message,))]
            more = len(group) - _EXAMPLES
            worst_note = " (the worst of them)" if worst is not group[0] else ""
            collapsed.append(
                replace(
                    worst,
                    message=f"{worst.message}{worst_note}, and {len(group) - 1} more like it",
                    evidence=(*examples, *([f"… {more} more {finding.code} finding(s)"] if more > 0 else [])),
                    data={**worst.data, "count": len(group)},
                )
            )
    return collapsed


def _severity_of(finding: Finding) -> float:
    for key in _WORST_BY:
        value = finding.data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return 0.0


# -- helpers ---------------------------------------------------------------------------------------


_IMPLIED_BY = {"response": "the response", "first_frame": "the first frame", "end_of_stream": "the end of the stream"}


def _imply(
    recording: Recording, expectation: Expectation, ours: list[Event], everything: list[Event], verdict: Verdict
) -> None:
    """The start and the end a server does not send, where the configuration says what stands for them.

    ``started_by = "response"``: the run starts when the response's headers arrive;
    ``"first_frame"``: when anything of the run arrives. ``completed_by = "end_of_stream"``:
    a stream that ends cleanly completes the run. A start or terminal the server does send
    always wins; an implied event has no latency (nothing was delivered).
    """
    start, terminal = expectation.events[0], expectation.terminal
    if expectation.started_by and not any(e.type == start for e in ours):
        at = recording.opened_at if expectation.started_by == "response" else None
        if expectation.started_by == "first_frame" and recording.frames:
            at = recording.frames[0].received_at
        if at is not None:
            event = _implied(start, at, 0, expectation.started_by)
            ours.insert(0, event)
            everything.insert(0, event)
            verdict.timeline.insert(0, _implied_record(event, recording, expectation.started_by))
    if expectation.completed_by and recording.stream_completed and not any(e.type == terminal for e in ours):
        event = _implied(terminal, recording.ended_at, len(recording.frames), expectation.completed_by)
        ours.append(event)
        everything.append(event)
        verdict.timeline.append(_implied_record(event, recording, expectation.completed_by))


def _implied(role: str, at: float, index: int, by: str) -> Event:
    frame = Frame(received_at=at, data="", name=_IMPLIED_BY[by])
    return Event(index, role, None, frame, None, expected=True, item=Item(Kind.EVENT, role))


def _implied_record(event: Event, recording: Recording, by: str) -> EventRecord:
    at = ms(event.frame.received_at - recording.trigger_at)
    return EventRecord(event.index, event.type, None, at, None, ours=True, implied=_IMPLIED_BY[by])


def _until_terminal(expected: tuple[Event, ...], terminal: str) -> tuple[Event, ...]:
    for position, event in enumerate(expected):
        if event.type == terminal:
            return expected[: position + 1]
    return expected


def _pair_emissions(ours: Sequence[Event], emissions: Sequence[Emission]) -> dict[int, float]:
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


def _legs_on_timeline(view: RunView, verdict: Verdict) -> None:
    """The emit → hand-off → receipt break-down of each event, on the timeline."""
    recording = view.recording
    if not view.emitted and recording.frames and all(f.sent_at is None for f in recording.frames):
        return
    legs: dict[int, tuple[float | None, float | None]] = {}
    for position, event in enumerate(view.expected):
        at = view.emitted.get(position)
        sent = event.frame.sent_at
        legs[event.index] = (view.ms(at) if at is not None else None, view.ms(sent) if sent is not None else None)
    verdict.timeline = [
        replace(r, emitted_at_ms=legs[r.index][0], sent_at_ms=legs[r.index][1])
        if r.ours and r.index in legs and not r.implied
        else r
        for r in verdict.timeline
    ]


_EPOCH_SECONDS_LIMIT = 1e10
"""Epoch seconds below this (the year 2286) are seconds; bigger numbers are read as ms, µs or ns."""


def parse_time(value: Any) -> float | None:
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


def _latency(frame: Frame, item: Item, protocol: Protocol, expectation: Expectation) -> float | None:
    if expectation.latency == Latency.SEND:
        return ms(frame.received_at - frame.sent_at) if frame.sent_at is not None else None
    stamp = protocol.timestamp(item)
    stamped = parse_time(stamp) if stamp is not ABSENT else None
    if stamped is None or frame.received_wall is None:
        return None
    latency = ms(frame.received_wall - stamped)
    return latency if math.isfinite(latency) else None


def _unusable(value: Any, expectation: Expectation) -> bool:
    """A timestamp that is there but is no time (no timestamp at all is untimed, not wrong)."""
    return (
        expectation.latency == Latency.TIMESTAMP
        and value is not ABSENT
        and value is not None
        and parse_time(value) is None
    )


# -- expectations and several users ----------------------------------------------------------------


def expectation_for(probe: ProbeSettings, *, latency: Latency = Latency.SEND) -> Expectation:
    """The `Expectation` a probe configuration describes (events, terminal, budget, field names, rules)."""
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
        started_by=probe.started_by,
        completed_by=probe.completed_by,
    )


def judge_isolation(
    users: Sequence[tuple[str, Recording]], expectation: Expectation
) -> tuple[list[Finding], dict[str, list[str]]]:
    """Cross-talk between users that ran at once (WC424), and each other user's own run judged like the first's.

    The first user is the probe's run, judged on its own by the caller; the others'
    findings come back prefixed with their label.  Returns the findings, and for each
    label where its frames went (evidence for its missing events).
    """
    from wiringcheck.run.rules.cross_talk import check_cross_talk, user_run
    from wiringcheck.run.rules.unreached import connect_finding

    verdicts = [judge(recording, expectation) for _, recording in users]
    runs = [
        user_run(label, recording, verdict.foreign)
        for (label, recording), verdict in zip(users, verdicts, strict=True)
        if recording.end not in NOT_STARTED
    ]
    findings, went = check_cross_talk(runs)
    for (label, recording), verdict in list(zip(users, verdicts, strict=True))[1:]:
        if recording.end in NOT_STARTED:
            reason = recording.error or recording.end
            findings.append(connect_finding(recording, label, hint=f"Check the isolation tokens ({reason})."))
            continue
        for finding in verdict.findings:
            evidence = (*finding.evidence, *went.get(label, [])) if finding.code == "WC402" else finding.evidence
            findings.append(replace(finding, message=f"{label}: {finding.message}", evidence=evidence))
    return findings, went
