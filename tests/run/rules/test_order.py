"""WC402 and WC403: every expected event arrives, and first arrivals come in the protocol's order."""

from __future__ import annotations

import pytest

from tests.run.rules.tools import (
    EVENTS,
    EXPECTATION,
    TRIGGER_AT,
    codes_of,
    event,
    frames,
    no_findings_but,
    per_event_codes,
    recording,
    run_of,
)
from wiringcheck.run.judge import judge
from wiringcheck.run.rules import order


def test_silent_on_a_healthy_run():
    """The five events, in order: nothing missing, nothing overtaken."""
    assert [] == codes_of(order, judge(run_of(*EVENTS), EXPECTATION))


def test_order_is_judged_on_first_occurrences():
    """A repeated progress event before the terminal is not an ordering problem."""
    verdict = judge(
        run_of("agent_started", "agent_thinking", "tool_executing", "agent_thinking", "tool_completed", *EVENTS[-1:]),
        EXPECTATION,
    )

    assert [] == verdict.findings


def test_silent_on_events_another_run_sends_first():
    """Another run's terminal before ours is that run's: our order is judged on our own events."""
    mixed = recording(*frames(event("agent_completed", run_id="run-2"), *(event(t) for t in EVENTS)))

    assert [] == codes_of(order, judge(mixed, EXPECTATION))


@pytest.mark.parametrize("missing", EVENTS)
def test_each_missing_event_is_wc402(missing):
    """An expected event that never arrives is a WC402 on that event, and on no other."""
    verdict = judge(run_of(*(t for t in EVENTS if t != missing)), EXPECTATION)

    assert no_findings_but(**{missing: ["WC402"]}) == per_event_codes(verdict)


def test_missing_event_evidence():
    """WC402 says what came before it and lists what did arrive, with times."""
    verdict = judge(run_of("agent_started", "agent_thinking", "tool_executing", "agent_completed"), EXPECTATION)

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


def test_missing_first_event_message():
    """A missing first event has nothing before it to name."""
    verdict = judge(run_of(*EVENTS[1:]), EXPECTATION)

    assert ["agent_started never arrived"] == [f.message for f in verdict.per_event["agent_started"]]


def test_nothing_arrived():
    """A run that delivers nothing before the deadline: WC402 for each event, and WC409."""
    verdict = judge(recording(end="deadline", ended_at=TRIGGER_AT + 5.0), EXPECTATION)

    assert (no_findings_but(**{name: ["WC402"] for name in EVENTS}), ["WC409"]) == (
        per_event_codes(verdict),
        [f.code for f in verdict.general],
    )
    assert ("arrived: nothing arrived for this run", "expected next: agent_started") == verdict.per_event[
        "agent_started"
    ][0].evidence


def test_out_of_order_is_wc403_on_the_early_event_only():
    """agent_completed before tool_completed: WC403 on agent_completed, and tool_completed is not 'after terminal'."""
    verdict = judge(
        run_of("agent_started", "agent_thinking", "tool_executing", "agent_completed", "tool_completed"), EXPECTATION
    )

    assert (no_findings_but(agent_completed=["WC403"]), []) == (per_event_codes(verdict), verdict.general)
    assert "agent_completed arrived before tool_completed, which the protocol puts first" == (
        verdict.per_event["agent_completed"][0].message
    )
