"""WC405: each expected event is delivered within the budget, from hand-off (or its own timestamp) to receipt."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.run.rules.tools import (
    EVENTS,
    EXPECTATION,
    NOON,
    RUN_ID,
    TRIGGER_AT,
    codes_of,
    evenly,
    event,
    frames,
    no_findings_but,
    per_event_codes,
    recording,
    run_of,
)
from wiringcheck.run.judge import judge
from wiringcheck.run.recording import Emission, Frame, Latency, Recording
from wiringcheck.run.rules import budget

BY_TIMESTAMP = replace(EXPECTATION, latency=Latency.TIMESTAMP, assume_synced_clocks=True)
"""A url target's expectation: latency from each event's own timestamp, on clocks assumed synced."""

STAMPS = [
    "2025-01-01T12:00:00Z",
    "2025-01-01T12:00:00+00:00",
    "2025-01-01T13:00:00+01:00",
    "2025-01-01T12:00:00.000Z",
    NOON,
]
"""The same instant, noon, written the ways a server may write it."""


def timestamped(stamp: object, received_wall: float | None) -> Recording:
    """agent_started stamped `stamp`, received 5 ms after the trigger at wall-clock `received_wall`."""
    return recording(
        Frame(received_at=TRIGGER_AT + 0.005, data=event("agent_started", timestamp=stamp), received_wall=received_wall)
    )


def slowed(items: tuple[Frame, ...], position: int, by_s: float = 0.300) -> list[Frame]:
    """The frames with the one at `position` delivered `by_s` after its hand-off instead of on time."""
    changed = list(items)
    slow = changed[position]
    changed[position] = Frame(received_at=slow.received_at + by_s, data=slow.data, sent_at=slow.received_at)
    return changed


def test_silent_on_a_healthy_run():
    """Every event delivered 5 ms after its hand-off: well within the 100 ms budget."""
    assert [] == codes_of(budget, judge(run_of(*EVENTS), EXPECTATION))


def test_latency_unknown_without_send_time():
    """Without the backend's send time there is no latency, and so no budget finding."""
    items = tuple(Frame(received_at=TRIGGER_AT + 1.0 + n, data=event(t)) for n, t in enumerate(EVENTS))

    verdict = judge(recording(*items), replace(EXPECTATION, gap_ms=None))

    assert ([], [None] * 5) == (verdict.findings, [record.latency_ms for record in verdict.timeline])


def test_time_after_trigger_is_not_latency():
    """An event that arrives 2 s after the trigger but 5 ms after its hand-off is within budget."""
    item = Frame(received_at=TRIGGER_AT + 2.0, data=event("agent_started"), sent_at=TRIGGER_AT + 1.995)

    verdict = judge(recording(item), replace(EXPECTATION, gap_ms=None))

    assert [] == verdict.per_event["agent_started"]


def test_silent_on_a_slow_delivery_of_another_run():
    """Another run's event delivered 300 ms after its hand-off is counted apart: not this run's budget."""
    items = slowed(frames(*(event(t) for t in EVENTS), event("tool_completed", run_id="run-2")), 5)

    assert [] == codes_of(budget, judge(recording(*items), EXPECTATION))


def test_silent_when_the_time_went_before_the_hand_off():
    """Emitted at 1 ms, handed off at 300 ms, received 0.1 ms later: the delivery fits, the lag is WC423's."""
    items = tuple(
        replace(f, received_at=f.received_at + 0.3, sent_at=TRIGGER_AT + 0.3) for f in evenly(*EVENTS, step_ms=0.1)
    )
    calls = tuple(Emission(name, RUN_ID, TRIGGER_AT + 0.001) for name in EVENTS)

    verdict = judge(recording(*items, emissions=calls), EXPECTATION)

    assert ([], ["WC423"] * 5) == (codes_of(budget, verdict), [f.code for f in verdict.findings])


@pytest.mark.parametrize("stamp", STAMPS)
def test_latency_from_event_timestamp_within_budget(stamp):
    """For url targets, latency is the wall-clock receive time minus the event's own timestamp: 5 ms passes."""
    verdict = judge(timestamped(stamp, NOON + 0.005), BY_TIMESTAMP)

    assert [] == [f.code for f in verdict.per_event["agent_started"]]


def test_only_the_slow_event_is_over_budget():
    """The slow_event fault: tool_completed delivered 300 ms after hand-off is WC405; the 5 ms ones are fine."""
    verdict = judge(recording(*slowed(frames(*(event(t) for t in EVENTS)), 3)), EXPECTATION)

    assert no_findings_but(tool_completed=["WC405"]) == per_event_codes(verdict)
    (finding,) = verdict.per_event["tool_completed"]
    assert (
        "tool_completed took 300 ms from hand-off to delivery, over the 100 ms budget",
        ("frame #3: latency 300 ms",),
        {"latency_ms": 300.0},
    ) == (finding.message, finding.evidence, finding.data)


@pytest.mark.parametrize("stamp", STAMPS)
def test_latency_from_event_timestamp_over_budget(stamp):
    """For url targets, latency is the wall-clock receive time minus the event's own timestamp: 300 ms is WC405."""
    verdict = judge(timestamped(stamp, NOON + 0.300), BY_TIMESTAMP)

    assert ["WC405"] == [f.code for f in verdict.per_event["agent_started"]]
