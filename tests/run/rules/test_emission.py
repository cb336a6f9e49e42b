"""WC423: from the backend's emitting call to the client's receipt, within the budget, when the time went before
the hand-off (a slow delivery after it is WC405's)."""

from __future__ import annotations

from dataclasses import replace

from tests.run.rules.tools import (
    EVENTS,
    EXPECTATION,
    RUN_ID,
    TRIGGER_AT,
    codes,
    codes_of,
    evenly,
    recording,
)
from wiringcheck.run.judge import judge
from wiringcheck.run.recording import Emission, Frame
from wiringcheck.run.rules import emission


def emitted(*pairs: tuple[str, float]) -> tuple[Emission, ...]:
    """Emitting calls of our run: (event, ms after the trigger)."""
    return tuple(Emission(name, RUN_ID, TRIGGER_AT + ms / 1000) for name, ms in pairs)


ON_TIME = emitted(*((name, 5.0 * n - 1) for n, name in enumerate(EVENTS, start=1)))
"""Each event of `evenly(*EVENTS)` emitted 1 ms before it arrived."""


def test_silent_without_an_emit_map():
    """No emitting call was traced (no probe.emit): there is no emission leg to judge."""
    assert [] == codes_of(emission, judge(recording(*evenly(*EVENTS)), EXPECTATION))


def test_emission_within_budget_passes_and_is_shown():
    """Each event received 1 ms after its emitting call: no finding, and the timeline shows the 1 ms."""
    verdict = judge(recording(*evenly(*EVENTS), emissions=ON_TIME), EXPECTATION)

    assert {} == codes(verdict)
    assert [1.0, 1.0, 1.0, 1.0, 1.0] == [record.emission_ms for record in verdict.timeline]


def test_slow_delivery_after_a_timely_hand_off_stays_wc405():
    """Emitted and handed off on time, then 300 ms to the client: the delivery leg is WC405's, not WC423's."""
    items = list(evenly(*EVENTS))
    items[3] = Frame(received_at=items[3].received_at + 0.3, data=items[3].data, sent_at=items[3].received_at)

    verdict = judge(recording(*items, emissions=ON_TIME), EXPECTATION)

    assert {"tool_completed": ["WC405"]} == codes(verdict)


def test_a_bridge_that_buffers_fails_on_the_emit_to_hand_off_leg():
    """Emitted at 1..9 ms, all handed off together at 300 ms: delivery is fast, the user waited."""
    items = evenly(*EVENTS, step_ms=0.1)
    items = tuple(replace(f, received_at=f.received_at + 0.3, sent_at=TRIGGER_AT + 0.3) for f in items)
    calls = emitted(*((name, 1.0 + 2 * n) for n, name in enumerate(EVENTS)))

    verdict = judge(recording(*items, emissions=calls), EXPECTATION)

    assert {name: ["WC423"] for name in EVENTS} == codes(verdict)
    finding = verdict.per_event["agent_started"][0]
    assert "emit → hand-off 299 ms, hand-off → receipt 0.1 ms" in finding.message
    assert (1.0, 300.0) == (verdict.timeline[0].emitted_at_ms, verdict.timeline[0].sent_at_ms)


def test_without_a_hand_off_time_the_whole_leg_is_named():
    """A transport that records no hand-off: the event took 300 ms from its emitting call to the client, in one leg."""
    items = tuple(replace(f, received_at=f.received_at + 0.3, sent_at=None) for f in evenly(*EVENTS, step_ms=0.1))
    calls = emitted(*((name, 0.1 * n) for n, name in enumerate(EVENTS, start=1)))

    verdict = judge(recording(*items, emissions=calls), EXPECTATION)

    (finding,) = verdict.per_event["agent_started"]
    assert (
        "WC423",
        "agent_started reached the client 300 ms after it was emitted, over the 100 ms budget (emit → receipt 300 ms)",
        ("emitted at +0.1 ms, received at +300.1 ms",),
    ) == (finding.code, finding.message, finding.evidence)


def test_an_event_late_on_several_deliveries_names_the_worst_with_the_count():
    """Two agent_thinking deliveries 150 ms and 400 ms after their emits: one WC423, naming 400 ms, counting 2."""
    items = evenly(*EVENTS[:2], "agent_thinking", *EVENTS[2:], step_ms=0.1)
    items = tuple(replace(f, sent_at=f.received_at) for f in items)
    calls = emitted(
        ("agent_started", 0.05),
        ("agent_thinking", 0.2 - 150),
        ("agent_thinking", 0.3 - 400),
        *((name, 0.1 * n) for n, name in enumerate(EVENTS[2:], start=4)),
    )

    verdict = judge(recording(*items, emissions=calls), EXPECTATION)

    (finding,) = verdict.per_event["agent_thinking"]
    assert ("WC423", 2) == (finding.code, finding.data["count"])
    assert finding.message.startswith("agent_thinking reached the client 400")
