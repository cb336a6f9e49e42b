"""The rules of a run as a user feels it, over hand-built recordings: gaps, emission, cardinality, tools, clocks,
cross-talk. Times are data (the trigger at 100.0 s, events 5 ms apart unless a test says otherwise); nothing waits.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from wiringcheck.findings import Severity
from wiringcheck.run.judge import judge as check_events
from wiringcheck.run.recording import Emission, Expectation, Frame, Recording
from wiringcheck.run.request import stall_after
from wiringcheck.run.rules.cross_talk import UserRun, check_cross_talk

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
RUN_ID = "run-1"
TRIGGER_AT = 100.0
NOON = 1_735_732_800.0


def event(event_type: str, *, run_id: str | None = RUN_ID, **fields: object) -> str:
    body: dict[str, object] = {"type": event_type, **fields}
    if run_id is not None:
        body["run_id"] = run_id
    return json.dumps(body)


def at(*timed: tuple[float, str]) -> tuple[Frame, ...]:
    """Frames received `ms` after the trigger, each handed off 0.2 ms before it arrived."""
    return tuple(
        Frame(received_at=TRIGGER_AT + ms / 1000, data=data, sent_at=TRIGGER_AT + (ms - 0.2) / 1000)
        for ms, data in timed
    )


def evenly(*types: str, step_ms: float = 5.0) -> tuple[Frame, ...]:
    return at(*((step_ms * n, event(t)) for n, t in enumerate(types, start=1)))


def recording(*items: Frame, end: str = "terminal", **kwargs: object) -> Recording:
    return Recording(run_id=RUN_ID, trigger_at=TRIGGER_AT, ended_at=TRIGGER_AT + 1.0, frames=items, end=end, **kwargs)


def codes(verdict) -> dict[str, list[str]]:
    found = {name: [f.code for f in findings] for name, findings in verdict.per_event.items() if findings}
    if verdict.general:
        found["probe"] = [f.code for f in verdict.general]
    return found


@pytest.fixture(name="expectation")
def _expectation() -> Expectation:
    return Expectation(events=EVENTS, terminal="agent_completed", budget_ms=100.0)


# -- gaps ------------------------------------------------------------------------------------------


def test_terminal_delayed_after_persistence_breaks_the_gap_bound(expectation):
    """agent_completed 250 ms after tool_completed, delivered in 0.2 ms: WC420 names both numbers."""
    items = at(*((5.0 * n, event(t)) for n, t in enumerate(EVENTS[:4], start=1)), (270.0, event("agent_completed")))

    verdict = check_events(recording(*items), expectation)

    assert {"agent_completed": ["WC420"]} == codes(verdict)
    (finding,) = verdict.per_event["agent_completed"]
    assert "agent_completed arrived 250 ms after tool_completed, over the 100 ms gap bound" in finding.message
    assert {"bound": "gap", "gap_ms": 250.0, "bound_ms": 100.0} == finding.data


def test_slow_first_event_is_a_gap_from_the_trigger(expectation):
    items = at((300.0, event("agent_started")), *((300.0 + 5 * n, event(t)) for n, t in enumerate(EVENTS[1:], 1)))

    verdict = check_events(recording(*items), expectation)

    assert {"agent_started": ["WC420"]} == codes(verdict)
    assert "after the trigger" in verdict.per_event["agent_started"][0].message


def test_gaps_follow_the_configured_bound_or_none(expectation):
    items = at(*((5.0 * n, event(t)) for n, t in enumerate(EVENTS[:4], start=1)), (270.0, event("agent_completed")))

    assert {} == codes(check_events(recording(*items), replace(expectation, gap_ms=1000.0)))
    assert {} == codes(check_events(recording(*items), replace(expectation, gap_ms=None)))


def test_a_gap_explained_by_slow_delivery_is_reported_once_as_delivery(expectation):
    """The slow_event fault: 300 ms between hand-off and receipt is WC405, not also a gap."""
    items = list(evenly(*EVENTS))
    slow = items[3]
    items[3] = Frame(received_at=slow.received_at + 0.3, data=slow.data, sent_at=slow.received_at)

    verdict = check_events(recording(*items), expectation)

    assert {"tool_completed": ["WC405"]} == codes(verdict)


# -- cardinality -----------------------------------------------------------------------------------


def test_duplicate_agent_started_is_its_own_code(expectation):
    verdict = check_events(recording(*evenly("agent_started", "agent_started", *EVENTS[1:])), expectation)

    assert {"agent_started": ["WC421"]} == codes(verdict)
    assert "agent_started arrived 2 times for one run (+5 ms, +10 ms)" in verdict.per_event["agent_started"][0].message


def test_thinking_and_tools_may_repeat(expectation):
    """Real agents think and call tools many times: repeats of the middle events pass."""
    run = (*EVENTS[:4], "agent_thinking", "tool_executing", "tool_completed", "agent_completed")

    assert {} == codes(check_events(recording(*evenly(*run)), expectation))


def test_once_can_be_declared(expectation):
    run = ("agent_started", "agent_thinking", "agent_thinking", *EVENTS[2:])

    verdict = check_events(recording(*evenly(*run)), replace(expectation, once=("agent_thinking",)))

    assert {"agent_thinking": ["WC421"]} == codes(verdict)


def test_a_second_terminal_stays_an_event_after_the_terminal(expectation):
    verdict = check_events(recording(*evenly(*EVENTS, "agent_completed")), expectation)

    assert {"probe": ["WC404"]} == codes(verdict)


# -- tool pairs ------------------------------------------------------------------------------------


def test_a_tool_call_left_open_is_named(expectation):
    run = (*EVENTS[:4], "tool_executing", "agent_completed")

    verdict = check_events(recording(*evenly(*run)), expectation)

    assert {"probe": ["WC422"]} == codes(verdict)
    assert "1 of 2 tool_executing event(s) never got their tool_completed" == verdict.general[0].message


def test_tool_calls_pair_by_id_when_frames_carry_one(expectation):
    items = at(
        (5, event("agent_started")),
        (10, event("agent_thinking")),
        (15, event("tool_executing", tool_call_id="a")),
        (20, event("tool_executing", tool_call_id="b")),
        (25, event("tool_completed", tool_call_id="a")),
        (30, event("tool_completed", tool_call_id="a")),
        (35, event("agent_completed")),
    )

    verdict = check_events(recording(*items), expectation)

    assert {"probe": ["WC422"]} == codes(verdict)
    assert ("tool_executing #3 at +20 ms (tool_call_id 'b')",) == verdict.general[0].evidence


def test_a_tool_end_that_never_arrives_is_only_a_missing_event(expectation):
    """The missing_event fault keeps its one finding: WC402, not also WC422."""
    verdict = check_events(recording(*evenly(*EVENTS[:3], "agent_completed")), expectation)

    assert {"tool_completed": ["WC402"]} == codes(verdict)


# -- emission latency ------------------------------------------------------------------------------


def emitted(*pairs: tuple[str, float]) -> tuple[Emission, ...]:
    return tuple(Emission(name, RUN_ID, TRIGGER_AT + ms / 1000) for name, ms in pairs)


def test_a_bridge_that_buffers_fails_on_the_emit_to_hand_off_leg(expectation):
    """Emitted at 1..9 ms, all handed off together at 300 ms: delivery is fast, the user waited."""
    items = evenly(*EVENTS, step_ms=0.1)
    items = tuple(replace(f, received_at=f.received_at + 0.3, sent_at=TRIGGER_AT + 0.3) for f in items)
    calls = emitted(*((name, 1.0 + 2 * n) for n, name in enumerate(EVENTS)))

    verdict = check_events(recording(*items, emissions=calls), expectation)

    assert {name: ["WC423"] for name in EVENTS} == codes(verdict)
    finding = verdict.per_event["agent_started"][0]
    assert "emit → hand-off 299 ms, hand-off → receipt 0.1 ms" in finding.message
    assert (1.0, 300.0) == (verdict.timeline[0].emitted_at_ms, verdict.timeline[0].sent_at_ms)


def test_emission_within_budget_passes_and_is_shown(expectation):
    calls = emitted(*((name, 5.0 * n - 1) for n, name in enumerate(EVENTS, start=1)))

    verdict = check_events(recording(*evenly(*EVENTS), emissions=calls), expectation)

    assert {} == codes(verdict)
    assert [1.0, 1.0, 1.0, 1.0, 1.0] == [record.emission_ms for record in verdict.timeline]


def test_slow_delivery_after_a_timely_hand_off_stays_wc405(expectation):
    items = list(evenly(*EVENTS))
    items[3] = Frame(received_at=items[3].received_at + 0.3, data=items[3].data, sent_at=items[3].received_at)
    calls = emitted(*((name, 5.0 * n - 1) for n, name in enumerate(EVENTS, start=1)))

    verdict = check_events(recording(*items, emissions=calls), expectation)

    assert {"tool_completed": ["WC405"]} == codes(verdict)


# -- clocks ----------------------------------------------------------------------------------------


def stamped(server_ahead_s: float, *delays_ms: float) -> Recording:
    """Events stamped by a server clock `server_ahead_s` ahead, received `delays_ms` after their stamps."""
    items = tuple(
        Frame(
            received_at=TRIGGER_AT + 0.005 * n,
            received_wall=NOON + 0.005 * n,
            data=event(name, timestamp=NOON + 0.005 * n - delay / 1000 + server_ahead_s),
        )
        for n, (name, delay) in enumerate(zip(EVENTS, delays_ms, strict=False), start=1)
    )
    return recording(*items)


@pytest.fixture(name="by_timestamp")
def _by_timestamp(expectation):
    return replace(expectation, latency="timestamp")


def test_a_server_clock_two_seconds_ahead_passes_with_a_warning(by_timestamp):
    verdict = check_events(stamped(2.0, 3, 4, 3, 5, 3), by_timestamp)

    assert ({"probe": ["WC425"]}, Severity.WARNING) == (codes(verdict), verdict.general[0].severity)
    assert [0.0, 1.0, 0.0, 2.0, 0.0] == [record.latency_ms for record in verdict.timeline]
    assert -1997.0 == verdict.clock_offset_ms


def test_a_slow_event_still_fails_relative_to_the_fastest(by_timestamp):
    verdict = check_events(stamped(2.0, 3, 3, 3, 303, 3), by_timestamp)

    assert {"probe": ["WC425"], "tool_completed": ["WC405"]} == codes(verdict)


def test_a_small_offset_is_no_finding_and_no_latency_is_negative(by_timestamp):
    verdict = check_events(stamped(0.2, 3, 4, 3, 5, 3), by_timestamp)

    assert {} == codes(verdict)
    assert all(record.latency_ms >= 0 for record in verdict.timeline)


def test_with_synced_clocks_assumed_a_negative_latency_is_an_error(by_timestamp):
    verdict = check_events(stamped(2.0, 3, 4, 3, 5, 3), replace(by_timestamp, assume_synced_clocks=True))

    assert ({"probe": ["WC425"]}, Severity.ERROR) == (codes(verdict), verdict.general[0].severity)


# -- stopping early --------------------------------------------------------------------------------


def test_the_probe_stops_once_the_next_event_is_overdue():
    assert 0.5 == pytest.approx(stall_after(100.0, 100.0, 300.0))
    assert None is stall_after(100.0, None)


def test_a_stalled_run_says_how_long_it_was_silent(expectation):
    stalled = Recording(
        run_id=RUN_ID, trigger_at=TRIGGER_AT, ended_at=TRIGGER_AT + 0.505, frames=evenly("agent_started"), end="stalled"
    )

    verdict = check_events(stalled, expectation)

    (finding,) = [f for f in verdict.general if f.code == "WC409"]
    assert finding.message.startswith("no agent_completed: nothing of the run arrived for 500 ms after agent_started")


# -- cross-talk ------------------------------------------------------------------------------------


def user(label: str, run_id: str, *data: str) -> UserRun:
    frames = tuple(Frame(received_at=TRIGGER_AT + 0.005 * n, data=item) for n, item in enumerate(data, start=1))
    return UserRun(
        label=label,
        identity={"run_id": run_id, "user_id": f"{label}-id"},
        recording=Recording(run_id=run_id, trigger_at=TRIGGER_AT, ended_at=TRIGGER_AT + 1, frames=frames),
    )


def test_a_frame_of_another_users_run_names_both_users_and_the_field():
    one = user("user 1", "run-a", event("agent_started", run_id="run-a"))
    two = user("user 2", "run-b", event("agent_started", run_id="run-b"), event("agent_started", run_id="run-a"))

    findings, went = check_cross_talk([one, two])

    (finding,) = findings
    assert ("WC424", "user 2 received 1 frame(s) of user 1's run 'run-a' (revealed by the field 'run_id')") == (
        finding.code,
        finding.message,
    )
    assert {"user 1": ["1 of its frame(s) went to user 2"]} == went


def test_a_nested_identity_field_reveals_the_owner():
    one = user("user 1", "run-a")
    two = user("user 2", "run-b", json.dumps({"type": "x", "payload": {"context": {"user": "user 1-id"}}}))

    (finding,), _ = check_cross_talk([one, two])

    assert "payload.context.user" == finding.data["field"]


def test_isolated_users_have_no_finding():
    one = user("user 1", "run-a", event("agent_started", run_id="run-a"), "not json")
    two = user("user 2", "run-b", event("agent_started", run_id="run-b"))

    assert ([], {}) == check_cross_talk([one, two])


def test_a_gap_spent_with_the_loop_blocked_says_so(expectation):
    """The slow_event fault on its own thread: tool_completed on time, then 300 ms of a blocked loop."""
    items = at(*((5.0 * n, event(t)) for n, t in enumerate(EVENTS[:4], start=1)), (320.0, event("agent_completed")))
    stalls = ((TRIGGER_AT + 0.021, 0.295),)

    verdict = check_events(recording(*items, loop_stalls=stalls), expectation)

    (finding,) = verdict.per_event["agent_completed"]
    assert "the backend's event loop was blocked for 295 ms of it" in finding.message
    assert "event loop blocked 295 ms from +21 ms" in finding.evidence
    assert "asyncio.to_thread" in finding.hint
