"""The sans-I/O event checker, fed recordings built by hand: times are data, nothing waits.

Times are seconds on the probe's monotonic clock: the trigger is sent at 100.0 and a
healthy run's events arrive 5 ms apart. Budgets are tested far from their threshold
(5 ms and 300 ms against 100 ms), never near it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wiringcheck.report import EventRecord
from wiringcheck.run.judge import attach_send_times
from wiringcheck.run.judge import judge as check_events
from wiringcheck.run.recording import Expectation, Frame, Recording

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
RUN_ID = "run-1"
TRIGGER_AT = 100.0
STEP = 0.005
"""A healthy run's spacing between events: 5 ms."""

NOON = datetime(2025, 1, 1, 12, tzinfo=UTC).timestamp()
"""A wall-clock instant, for events that carry their own timestamp."""


def event(event_type: str, *, run_id: str | None = RUN_ID, **fields: object) -> str:
    """An event envelope as the backend sends it."""
    body: dict[str, object] = {"type": event_type, **fields}
    if run_id is not None:
        body["run_id"] = run_id
    return json.dumps(body)


def frames(*data: str | bytes) -> tuple[Frame, ...]:
    """Frames arriving one every 5 ms after the trigger, each handed off 5 ms before it arrived."""
    return tuple(
        Frame(received_at=TRIGGER_AT + STEP * n, data=item, sent_at=TRIGGER_AT + STEP * (n - 1))
        for n, item in enumerate(data, start=1)
    )


def recording(*items: Frame, end: str = "terminal", ended_at: float = TRIGGER_AT + 1.0, **kwargs: object) -> Recording:
    return Recording(run_id=RUN_ID, trigger_at=TRIGGER_AT, ended_at=ended_at, frames=items, end=end, **kwargs)


def run_of(*types: str, **kwargs: object) -> Recording:
    """A recording of our run's events, of these types, 5 ms apart."""
    return recording(*frames(*(event(t) for t in types)), **kwargs)


def per_event_codes(verdict) -> dict[str, list[str]]:
    return {name: [f.code for f in findings] for name, findings in verdict.per_event.items()}


def no_findings_but(**codes: list[str]) -> dict[str, list[str]]:
    """The per-event codes of a run where only the named events have findings."""
    return {name: codes.get(name, []) for name in EVENTS}


@pytest.fixture(name="expectation")
def _expectation():
    return Expectation(events=EVENTS, terminal="agent_completed", budget_ms=100.0)


# -- healthy ---------------------------------------------------------------------------------------


def test_healthy_run_has_no_findings(expectation):
    """The five events, in order, fast, then nothing: no finding at all."""
    verdict = check_events(run_of(*EVENTS), expectation)

    assert ([], no_findings_but(), 0) == (verdict.findings, per_event_codes(verdict), verdict.other_runs)


def test_healthy_run_timeline(expectation):
    """The timeline lists every frame with its type, run, time after the trigger and latency."""
    verdict = check_events(run_of("agent_started", "agent_thinking"), expectation)

    assert [
        EventRecord(0, "agent_started", RUN_ID, 5.0, 5.0, sent_at_ms=0.0),
        EventRecord(1, "agent_thinking", RUN_ID, 10.0, 5.0, sent_at_ms=5.0),
    ] == verdict.timeline


def test_timings(expectation):
    """Time to the first event and to the terminal event are measured from the trigger."""
    verdict = check_events(run_of(*EVENTS), expectation)

    assert {"time_to_first_event_ms": 5.0, "time_to_terminal_ms": 25.0} == verdict.timings


def test_timings_when_nothing_arrived(expectation):
    """Without events there is nothing to time: both timings are None."""
    verdict = check_events(recording(end="deadline"), expectation)

    assert {"time_to_first_event_ms": None, "time_to_terminal_ms": None} == verdict.timings


# -- missing, out of order, after the terminal -----------------------------------------------------


@pytest.mark.parametrize("missing", EVENTS)
def test_each_missing_event_is_wc402(missing, expectation):
    """An expected event that never arrives is a WC402 on that event, and on no other."""
    verdict = check_events(run_of(*(t for t in EVENTS if t != missing)), expectation)

    assert no_findings_but(**{missing: ["WC402"]}) == per_event_codes(verdict)


def test_missing_event_evidence(expectation):
    """WC402 says what came before it and lists what did arrive, with times."""
    verdict = check_events(run_of("agent_started", "agent_thinking", "tool_executing", "agent_completed"), expectation)

    (finding,) = verdict.per_event["tool_completed"]

    assert (
        "tool_completed never arrived after tool_executing",
        (
            "arrived: agent_started (+5 ms), agent_thinking (+10 ms), tool_executing (+15 ms), "
            "agent_completed (+20 ms)",
            "expected next: tool_completed",
        ),
        "event: tool_completed",
    ) == (finding.message, finding.evidence, finding.subject)


def test_missing_first_event_message(expectation):
    """A missing first event has nothing before it to name."""
    verdict = check_events(run_of(*EVENTS[1:]), expectation)

    assert ["agent_started never arrived"] == [f.message for f in verdict.per_event["agent_started"]]


def test_nothing_arrived(expectation):
    """A run that delivers nothing before the deadline: WC402 for each event, and WC409."""
    verdict = check_events(recording(end="deadline", ended_at=TRIGGER_AT + 5.0), expectation)

    assert (no_findings_but(**{name: ["WC402"] for name in EVENTS}), ["WC409"]) == (
        per_event_codes(verdict),
        [f.code for f in verdict.general],
    )
    assert ("arrived: nothing arrived for this run", "expected next: agent_started") == verdict.per_event[
        "agent_started"
    ][0].evidence


def test_out_of_order_is_wc403_on_the_early_event_only(expectation):
    """agent_completed before tool_completed: WC403 on agent_completed, and tool_completed is not 'after terminal'."""
    verdict = check_events(
        run_of("agent_started", "agent_thinking", "tool_executing", "agent_completed", "tool_completed"), expectation
    )

    assert (no_findings_but(agent_completed=["WC403"]), []) == (per_event_codes(verdict), verdict.general)
    assert "agent_completed arrived before tool_completed, which the protocol puts first" == (
        verdict.per_event["agent_completed"][0].message
    )


def test_order_is_judged_on_first_occurrences(expectation):
    """A repeated progress event before the terminal is not an ordering problem."""
    verdict = check_events(
        run_of("agent_started", "agent_thinking", "tool_executing", "agent_thinking", "tool_completed", *EVENTS[-1:]),
        expectation,
    )

    assert [] == verdict.findings


def test_duplicate_terminal_is_wc404(expectation):
    """A second agent_completed after the terminal one is a WC404."""
    verdict = check_events(run_of(*EVENTS, "agent_completed"), expectation)

    assert (no_findings_but(), ["1 event(s) arrived after the terminal agent_completed: agent_completed"]) == (
        per_event_codes(verdict),
        [f.message for f in verdict.general if f.code == "WC404"],
    )


def test_event_after_terminal_is_wc404(expectation):
    """The after_terminal fault: an agent_thinking after agent_completed is a WC404, with the arrivals."""
    verdict = check_events(run_of(*EVENTS, "agent_thinking"), expectation)

    (finding,) = verdict.general

    assert (
        "WC404",
        "1 event(s) arrived after the terminal agent_completed: agent_thinking",
        (
            "arrived: agent_started (+5 ms), agent_thinking (+10 ms), tool_executing (+15 ms), "
            "tool_completed (+20 ms), agent_completed (+25 ms), agent_thinking (+30 ms)",
        ),
    ) == (finding.code, finding.message, finding.evidence)


def test_unexpected_event_type_after_terminal_is_wc404(expectation):
    """An event type outside the protocol, after the terminal, is reported too."""
    verdict = check_events(run_of(*EVENTS, "usage_report", "usage_report"), expectation)

    assert ["2 event(s) arrived after the terminal agent_completed: usage_report, usage_report"] == [
        f.message for f in verdict.general
    ]


def test_unexpected_event_type_before_terminal_is_ignored(expectation):
    """Extra event types during the run are allowed: shown as a note (WC416), never failed."""
    verdict = check_events(run_of("agent_started", "usage_report", *EVENTS[1:]), expectation)

    assert (["WC416"], ["note"], 1) == (
        [f.code for f in verdict.findings],
        [f.severity.value for f in verdict.findings],
        verdict.unexpected,
    )


# -- frames that are not events --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("heartbeat", "WC406"),
        ("", "WC406"),
        ('{"type": "agent_started"', "WC406"),
        (b"\x00\x01progress", "WC406"),
        (b'{"type": "agent_started"}', "WC406"),
        pytest.param("[" * 100_000, "WC406", id="deeply nested JSON"),
        ('{"ack": true}', "WC407"),
        ('{"type": ""}', "WC407"),
        ('{"type": 3}', "WC407"),
        ('{"type": null}', "WC407"),
        ("[1, 2]", "WC407"),
        ('"agent_started"', "WC407"),
        ("42", "WC407"),
        ("null", "WC407"),
    ],
)
def test_bad_frame_is_a_finding(data, code, expectation):
    """A frame that is not a JSON object with a type is one general finding, never an exception."""
    verdict = check_events(
        recording(*frames(event("agent_started"), data, *(event(t) for t in EVENTS[1:]))), expectation
    )

    assert ([code], no_findings_but()) == ([f.code for f in verdict.general], per_event_codes(verdict))


def test_bad_frames_are_in_the_timeline_as_not_ours(expectation):
    """Bad frames keep their place in the timeline, without a type, marked as not the run's."""
    verdict = check_events(recording(*frames("heartbeat", b"\x00", '{"ack": true}')), expectation)

    assert [
        EventRecord(0, None, None, 5.0, None, ours=False),
        EventRecord(1, None, None, 10.0, None, ours=False),
        EventRecord(2, None, None, 15.0, None, ours=False),
    ] == verdict.timeline


def test_binary_frame_message(expectation):
    """WC406 for a binary frame gives its position, time and size."""
    verdict = check_events(recording(*frames(b"\x00\x01progress")), expectation)

    assert [("frame #0 at 5 ms is binary (10 bytes), not a JSON text frame", ("#0 +5 ms: b'\\x00\\x01progress'",))] == [
        (f.message, f.evidence) for f in verdict.general if f.code == "WC406"
    ]


def test_text_frame_message(expectation):
    """WC406 for a text frame quotes it."""
    verdict = check_events(recording(*frames("heartbeat")), expectation)

    assert ["frame #0 at 5 ms is not JSON: 'heartbeat'"] == [f.message for f in verdict.general if f.code == "WC406"]


def test_event_without_type_message(expectation):
    """WC407 names the type field it looked for."""
    verdict = check_events(recording(*frames('{"ack": true}')), expectation)

    assert ["frame #0 at 5 ms has no 'type' field: {\"ack\": true}"] == [
        f.message for f in verdict.general if f.code == "WC407"
    ]


def test_custom_type_and_run_id_fields():
    """The type and run id are read from the fields the configuration names."""
    expectation = Expectation(events=("started", "done"), terminal="done", type_field="event", run_id_field="run")
    items = frames(json.dumps({"event": "started", "run": RUN_ID}), json.dumps({"event": "done", "run": RUN_ID}))

    assert [] == check_events(recording(*items), expectation).findings


# -- other runs ------------------------------------------------------------------------------------


def test_events_of_other_runs_are_counted_and_ignored(expectation):
    """Events of another run are counted apart; even their terminal event does not end ours."""
    items = frames(
        event("agent_started"),
        event("agent_started", run_id="run-2"),
        event("agent_completed", run_id="run-2"),
        *(event(t) for t in EVENTS[1:]),
        event("agent_thinking", run_id="run-2"),
    )

    verdict = check_events(recording(*items), expectation)

    assert ([], 3) == (verdict.findings, verdict.other_runs)
    assert [True, False, False, True, True, True, True, False] == [record.ours for record in verdict.timeline]


def test_event_without_run_id_belongs_to_the_run(expectation):
    """An event that names no run is taken as the probe's own."""
    verdict = check_events(recording(*frames(*(event(t, run_id=None) for t in EVENTS))), expectation)

    assert ([], 0) == (verdict.findings, verdict.other_runs)


def test_numeric_run_id_is_compared_as_text():
    """A run id sent as a number matches the probe's run id written as text."""
    expectation = Expectation(events=("agent_started",), terminal="agent_started")
    items = frames(json.dumps({"type": "agent_started", "run_id": 7}))

    verdict = check_events(Recording(run_id="7", trigger_at=TRIGGER_AT, ended_at=101.0, frames=items), expectation)

    assert ([], 0) == (verdict.findings, verdict.other_runs)


# -- latency ---------------------------------------------------------------------------------------


def test_only_the_slow_event_is_over_budget(expectation):
    """The slow_event fault: tool_completed delivered 300 ms after hand-off is WC405; the 5 ms ones are fine."""
    items = list(frames(*(event(t) for t in EVENTS)))
    slow = items[3]
    items[3] = Frame(received_at=slow.received_at + 0.300, data=slow.data, sent_at=slow.received_at)

    verdict = check_events(recording(*items), expectation)

    assert no_findings_but(tool_completed=["WC405"]) == per_event_codes(verdict)
    (finding,) = verdict.per_event["tool_completed"]
    assert (
        "tool_completed took 300 ms from hand-off to delivery, over the 100 ms budget",
        ("frame #3: latency 300 ms",),
        {"latency_ms": 300.0},
    ) == (finding.message, finding.evidence, finding.data)


def test_latency_unknown_without_send_time(expectation):
    """Without the backend's send time there is no latency, and so no budget finding."""
    items = tuple(Frame(received_at=TRIGGER_AT + 1.0 + n, data=event(t)) for n, t in enumerate(EVENTS))

    verdict = check_events(recording(*items), replace(expectation, gap_ms=None))

    assert ([], [None] * 5) == (verdict.findings, [record.latency_ms for record in verdict.timeline])


def test_time_after_trigger_is_not_latency(expectation):
    """An event that arrives 2 s after the trigger but 5 ms after its hand-off is within budget."""
    item = Frame(received_at=TRIGGER_AT + 2.0, data=event("agent_started"), sent_at=TRIGGER_AT + 1.995)

    verdict = check_events(recording(item), replace(expectation, gap_ms=None))

    assert [] == verdict.per_event["agent_started"]


def timestamped(stamp: object, received_wall: float | None) -> Recording:
    return recording(
        Frame(received_at=TRIGGER_AT + 0.005, data=event("agent_started", timestamp=stamp), received_wall=received_wall)
    )


@pytest.fixture(name="by_timestamp")
def _by_timestamp():
    return Expectation(
        events=EVENTS, terminal="agent_completed", budget_ms=100.0, latency="timestamp", assume_synced_clocks=True
    )


@pytest.mark.parametrize(
    "stamp",
    [
        "2025-01-01T12:00:00Z",
        "2025-01-01T12:00:00+00:00",
        "2025-01-01T13:00:00+01:00",
        "2025-01-01T12:00:00.000Z",
        NOON,
    ],
)
@pytest.mark.parametrize(("delay", "expected"), [(0.005, []), (0.300, ["WC405"])])
def test_latency_from_event_timestamp(stamp, delay, expected, by_timestamp):
    """For url targets, latency is the wall-clock receive time minus the event's own timestamp."""
    verdict = check_events(timestamped(stamp, NOON + delay), by_timestamp)

    assert expected == [f.code for f in verdict.per_event["agent_started"]]


@pytest.mark.parametrize(
    ("stamp", "received_wall", "codes"),
    [
        pytest.param("2025-01-01T12:00:00", NOON + 1, ["WC441"], id="naive timestamp"),
        pytest.param("yesterday", NOON + 1, ["WC441"], id="not a timestamp"),
        pytest.param(True, NOON + 1, ["WC441"], id="boolean timestamp"),
        pytest.param(None, NOON + 1, [], id="null timestamp"),
        pytest.param("2025-01-01T12:00:00Z", None, [], id="no wall-clock receive time"),
    ],
)
def test_latency_unknown_from_unusable_timestamp(stamp, received_wall, codes, by_timestamp):
    """No latency rather than a guess; a timestamp that is there but is no time fails the gate (WC441)."""
    verdict = check_events(timestamped(stamp, received_wall), by_timestamp)

    assert (codes, [None]) == (
        [f.code for f in verdict.per_event["agent_started"]],
        [record.latency_ms for record in verdict.timeline],
    )


# -- how the recording ended -----------------------------------------------------------------------


def test_deadline_without_terminal_is_wc409(expectation):
    """The run stalls after agent_started: WC409 with the arrivals and the last activity."""
    verdict = check_events(run_of("agent_started", end="deadline", ended_at=TRIGGER_AT + 5.0), expectation)

    (finding,) = [f for f in verdict.general if f.code == "WC409"]

    assert (
        "no agent_completed within the run deadline (5000 ms after the trigger)",
        ("arrived: agent_started (+5 ms)", "last event: agent_started at +5 ms"),
    ) == (finding.message, finding.evidence)


def test_closed_without_terminal_is_wc408(expectation):
    """The server closes the socket mid-run: WC408 with the close code and reason."""
    verdict = check_events(
        run_of("agent_started", "agent_thinking", end="closed", close_code=1011, close_reason="internal error"),
        expectation,
    )

    (finding,) = [f for f in verdict.general if f.code == "WC408"]

    assert (
        "the server closed the connection with code 1011 (internal error) before agent_completed",
        ("arrived: agent_started (+5 ms), agent_thinking (+10 ms)", "last event: agent_thinking at +10 ms"),
    ) == (finding.message, finding.evidence)


def test_closed_without_reason(expectation):
    """A close without a reason shows only the code."""
    verdict = check_events(run_of(end="closed", close_code=1006), expectation)

    assert ["the server closed the connection with code 1006 before agent_completed"] == [
        f.message for f in verdict.general
    ]


@pytest.mark.parametrize("end", ["deadline", "closed"])
def test_end_after_terminal_is_not_a_finding(end, expectation):
    """Once the terminal event arrived, a deadline or a close afterwards is not a finding."""

    assert [] == check_events(run_of(*EVENTS, end=end, close_code=1000), expectation).findings


# -- pairing sends with receives -------------------------------------------------------------------


def test_attach_send_times_pairs_identical_payloads_in_order():
    """Identical payloads pair first send to first receive; unmatched frames get no send time."""
    received = (
        Frame(received_at=1.1, data="same", received_wall=50.0),
        Frame(received_at=1.2, data=b"bytes"),
        Frame(received_at=1.3, data="same"),
        Frame(received_at=1.4, data="never sent"),
    )
    sends = [(1.0, "same"), (1.05, b"bytes"), (1.25, "same"), (1.3, "sent, never received")]

    paired = attach_send_times(received, sends)

    assert [
        Frame(received_at=1.1, data="same", received_wall=50.0, sent_at=1.0),
        Frame(received_at=1.2, data=b"bytes", sent_at=1.05),
        Frame(received_at=1.3, data="same", sent_at=1.25),
        Frame(received_at=1.4, data="never sent"),
    ] == list(paired)


def test_attach_send_times_does_not_match_text_with_bytes():
    """A text frame and a binary frame with the same content are different payloads."""

    assert (None,) == tuple(f.sent_at for f in attach_send_times((Frame(1.0, "abc"),), [(0.5, b"abc")]))


# -- robustness ------------------------------------------------------------------------------------

_ENVELOPES = st.builds(
    lambda event_type, run_id, stamp: json.dumps({"type": event_type, "run_id": run_id, "timestamp": stamp}),
    st.sampled_from((*EVENTS, "other", "", None)),
    st.sampled_from((RUN_ID, "run-2", None, 7)),
    st.one_of(st.none(), st.text(max_size=30), st.floats(), st.just("2025-01-01T12:00:00Z")),
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
).map(json.dumps)
_FRAME = st.builds(
    Frame,
    received_at=st.floats(min_value=0, max_value=1e6),
    data=st.one_of(_ENVELOPES, _JSON, st.text(max_size=40), st.binary(max_size=40)),
    received_wall=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    sent_at=st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)),
)


@settings(max_examples=200, deadline=None, database=None)
@given(
    items=st.lists(_FRAME, max_size=12),
    end=st.sampled_from(("terminal", "deadline", "closed", "connect_failed")),
    latency=st.sampled_from(("send", "timestamp")),
)
def test_check_events_never_raises(items, end, latency):
    """Whatever the frames, the checker returns a verdict with one timeline entry per frame."""
    expectation = Expectation(events=EVENTS, terminal="agent_completed", latency=latency)

    verdict = check_events(recording(*items, end=end, close_code=1000), expectation)

    assert len(items) == len(verdict.timeline)


# -- hostile servers: floods, the probe's own closes, absurd timestamps -----------------------------


def test_a_flood_of_bad_frames_is_one_finding_with_a_count():
    """A thousand frames that are not JSON are one WC406 with a count and three examples, not a thousand."""
    verdict = check_events(recording(*frames(*["x"] * 1000), end="deadline"), Expectation(EVENTS, EVENTS[-1]))

    (bad,) = [f for f in verdict.general if f.code == "WC406"]
    assert (1000, 4) == (bad.data["count"], len(bad.evidence))


def test_overflow_is_wc411_with_the_first_frames():
    """A run that hit the probe's frame limit is WC411, and the evidence shows the first frames."""
    verdict = check_events(run_of(*EVENTS, end="overflow"), Expectation(EVENTS, EVENTS[-1]))

    (overflow,) = [f for f in verdict.general if f.code == "WC411"]
    assert overflow.evidence[0].startswith("#0: ")


def test_a_close_by_the_probe_is_wc410_not_the_servers_close():
    """1009 sent by the client: the probe refused a frame; the finding says so, never 'the server closed'."""
    verdict = check_events(
        run_of("agent_started", end="probe_closed", close_code=1009, close_reason="message too big"),
        Expectation(EVENTS, EVENTS[-1]),
    )

    (closed,) = [f for f in verdict.general if f.code == "WC410"]
    assert "larger than the client accepts" in closed.message
    assert "WC408" not in [f.code for f in verdict.general]


@pytest.mark.parametrize(
    ("stamp", "expected_ms"),
    [
        (NOON - 0.005, 5.0),  # epoch seconds
        ((NOON - 0.005) * 1e3, 5.0),  # epoch milliseconds (AG-UI, JavaScript)
        ((NOON - 0.005) * 1e6, 5.0),  # epoch microseconds
    ],
)
def test_numeric_timestamps_are_read_in_the_unit_that_fits(stamp, expected_ms):
    """Seconds, milliseconds and microseconds since the epoch all give the same latency."""
    frame = Frame(received_at=TRIGGER_AT + 0.01, received_wall=NOON, data=event("agent_started", timestamp=stamp))
    synced = Expectation(("agent_started",), "agent_started", latency="timestamp", assume_synced_clocks=True)
    verdict = check_events(recording(frame), synced)

    assert expected_ms == pytest.approx(verdict.timeline[0].latency_ms, abs=0.01)


@pytest.mark.parametrize("stamp", [float("inf"), float("-inf"), float("nan"), -1.0, 1e400, "NaN", "yesterday"])
def test_a_timestamp_that_is_no_time_leaves_the_event_untimed(stamp):
    """Infinite, NaN, negative or unparsable timestamps are 'not timed', never a latency that passes."""
    frame = Frame(
        received_at=TRIGGER_AT + 0.01,
        received_wall=1_000.0,
        data=json.dumps({"type": "agent_started", "run_id": RUN_ID, "timestamp": stamp}),
    )
    verdict = check_events(recording(frame), Expectation(("agent_started",), "agent_started", latency="timestamp"))

    assert None is verdict.timeline[0].latency_ms


# -- protocols wiringcheck did not write -----------------------------------------------------------


def expectation_from(probe: dict[str, object], *, latency: str = "send") -> Expectation:
    """The expectation a `[probe]` table describes, as the runner builds it."""
    from wiringcheck.config import parse_settings
    from wiringcheck.run.judge import expectation_for

    return expectation_for(parse_settings({"probe": probe}).probe, latency=latency)  # type: ignore[arg-type]


RELAY = {
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


def batch(*kinds: str, run: str = RUN_ID, ts: float | None = None) -> str:
    body: dict[str, object] = {"op": "batch", "run": run, "events": [{"kind": kind} for kind in kinds]}
    if ts is not None:
        body["ts"] = ts
    return json.dumps(body)


PING = json.dumps({"op": "ping"})


def test_batched_events_with_heartbeats_pass_and_heartbeats_are_counted():
    """Events batched two to a frame, between heartbeats, are five events; heartbeats are only counted."""
    items = frames(PING, batch("start", "think"), PING, batch("tool.call"), batch("tool.result", "done"), PING)

    verdict = check_events(recording(*items), expectation_from(RELAY))

    assert ([], 3, 0) == (verdict.findings, verdict.ignored, verdict.unexpected)


def test_a_batch_shares_its_envelope_timestamp():
    """Latency from a timestamp on the batch's envelope applies to each of its events (clocks synced)."""
    stamped = [Frame(TRIGGER_AT + 0.3, batch(*EVENTS_RELAY, ts=NOON), received_wall=NOON + 0.3)]
    synced = replace(expectation_from(RELAY, latency="timestamp"), assume_synced_clocks=True)

    verdict = check_events(recording(*stamped), synced)

    assert (5 * ["WC405"], [300.0] * 5) == (
        sorted(f.code for f in verdict.findings),
        [record.latency_ms for record in verdict.timeline],
    )


EVENTS_RELAY = ("start", "think", "tool.call", "tool.result", "done")


def test_an_error_terminal_is_wc412_with_its_payload_and_no_deadline_finding():
    """The backend's failure frame ends the run: WC412 shows the payload; missing events follow, no WC409."""
    failure = json.dumps({"kind": "failed", "reason": "tool crashed: " + "x" * 400})
    items = frames(batch("start", "think"), failure)

    verdict = check_events(recording(*items, end="error"), expectation_from(RELAY))

    (error,) = [f for f in verdict.general if f.code == "WC412"]
    assert (["WC412"], ["WC402", "WC402", "WC402"], True, True) == (
        [f.code for f in verdict.general],
        sorted(f.code for f in verdict.findings if f.code != "WC412"),
        "tool crashed" in error.message,
        all(len(line) < 400 for line in error.evidence),
    )


def test_a_nested_envelope_tells_events_apart_by_their_inner_type():
    """With matchers on data.type, a run missing its tool call event fails (WC402) instead of passing."""
    probe = {
        "type_field": "data.type",
        "match": {
            "agent_started": "TaskStarted",
            "agent_thinking": "Thought",
            "tool_executing": {"type": "message", "data.type": "ToolCallRequestEvent"},
            "tool_completed": {"type": "message", "data": {"type": "ToolCallExecutionEvent"}},
            "agent_completed": {"type": "completion", "status": "complete"},
        },
    }

    def message(kind: str) -> str:
        return json.dumps({"type": "message", "run_id": RUN_ID, "data": {"type": kind}})

    done = json.dumps({"type": "completion", "run_id": RUN_ID, "status": "complete"})
    verdict = check_events(
        recording(*frames(message("TaskStarted"), message("Thought"), message("ToolCallExecutionEvent"), done)),
        expectation_from(probe),
    )

    assert no_findings_but(tool_executing=["WC402"]) == per_event_codes(verdict)


def test_server_assigned_run_id_is_captured_from_the_first_event():
    """run_id = "server": frames of the run the server named are ours, another run's are counted apart."""
    items = frames(
        event("agent_started", run_id="srv-1"),
        event("agent_started", run_id="srv-2"),
        *(event(t, run_id="srv-1") for t in EVENTS[1:]),
    )

    verdict = check_events(recording(*items), expectation_from({"run_id": "server"}))

    assert ([], 1, "srv-1") == (verdict.findings, verdict.other_runs, verdict.run_id)


def test_connection_correlation_owns_every_frame():
    """run_id = "connection": whatever run id a frame names, it belongs to the probe's socket."""
    items = frames(*(event(t, run_id=f"x-{n}") for n, t in enumerate(EVENTS)))

    verdict = check_events(recording(*items), expectation_from({"run_id": "connection"}))

    assert ([], 0) == (verdict.findings, verdict.other_runs)


@pytest.mark.parametrize(
    ("calls", "messages"),
    [
        ([("tool_executing", "c1"), ("tool_completed", "c1")], []),
        ([("tool_executing", "c1"), ("tool_executing", "c1"), ("tool_completed", "c1")], ["started twice"]),
        ([("tool_executing", "c1"), ("tool_completed", "c2")], ["never started", "never got its result"]),
        ([("tool_executing", "c1"), ("tool_executing", "c2"), ("tool_completed", "c2")], ["never got its result"]),
    ],
)
def test_tool_calls_are_paired_by_their_id(calls, messages):
    """With tool_call_id_field, each started call gets exactly one start and a result (WC415 otherwise)."""
    items = frames(
        event("agent_started"),
        event("agent_thinking"),
        *(event(kind, call=call) for kind, call in calls),
        event("agent_completed"),
    )

    verdict = check_events(recording(*items), expectation_from({"tool_call_id_field": "call"}))

    found = [f.message for f in verdict.findings if f.code == "WC415"]
    assert len(messages) == len(found)
    assert all(any(text in message for message in found) for text in messages)


def test_strict_lifecycle_wants_the_start_first_and_once():
    """strict_lifecycle: an ignored frame before the start, and a second start, are WC415."""
    items = frames(event("heartbeat"), event("agent_started"), *(event(t) for t in EVENTS[1:3]),
                   event("agent_started"), *(event(t) for t in EVENTS[3:]))  # fmt: skip

    verdict = check_events(recording(*items), expectation_from({"strict_lifecycle": True, "ignore": ["heartbeat"]}))

    assert 2 == len([f for f in verdict.findings if f.code == "WC415"])
