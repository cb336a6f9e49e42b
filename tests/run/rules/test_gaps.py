"""WC420: the silence a user sees, from the trigger to the first expected event and between expected events."""

from __future__ import annotations

from dataclasses import replace

from tests.run.rules.tools import (
    EVENTS,
    EXPECTATION,
    TRIGGER_AT,
    at,
    codes,
    codes_of,
    evenly,
    event,
    recording,
)
from wiringcheck.run.judge import judge
from wiringcheck.run.recording import Frame, LoopStall
from wiringcheck.run.rules import gaps

PERSISTED = at(*((5.0 * n, event(t)) for n, t in enumerate(EVENTS[:4], start=1)), (270.0, event("agent_completed")))
"""A run whose terminal comes 250 ms after tool_completed (persisting the run first), each delivered in 0.2 ms."""


def test_silent_on_a_healthy_run():
    """Events 5 ms apart: no silence near the 100 ms bound."""
    assert [] == codes_of(gaps, judge(recording(*evenly(*EVENTS)), EXPECTATION))


def test_gaps_follow_the_configured_bound_or_none():
    """A 250 ms pause passes a 1000 ms gap bound, and passes when gaps are not bounded at all."""
    assert {} == codes(judge(recording(*PERSISTED), replace(EXPECTATION, gap_ms=1000.0)))
    assert {} == codes(judge(recording(*PERSISTED), replace(EXPECTATION, gap_ms=None)))


def test_a_gap_explained_by_slow_delivery_is_reported_once_as_delivery():
    """The slow_event fault: 300 ms between hand-off and receipt is WC405, not also a gap."""
    items = list(evenly(*EVENTS))
    slow = items[3]
    items[3] = Frame(received_at=slow.received_at + 0.3, data=slow.data, sent_at=slow.received_at)

    verdict = judge(recording(*items), EXPECTATION)

    assert {"tool_completed": ["WC405"]} == codes(verdict)


def test_silent_on_a_pause_after_the_terminal():
    """An event 500 ms after the terminal is WC404's (sent after the run ended), not a gap the user waited through."""
    items = (*evenly(*EVENTS), *at((525.0, event("agent_thinking"))))

    verdict = judge(recording(*items), EXPECTATION)

    assert ([], {"probe": ["WC404"]}) == (codes_of(gaps, verdict), codes(verdict))


def test_terminal_delayed_after_persistence_breaks_the_gap_bound():
    """agent_completed 250 ms after tool_completed, delivered in 0.2 ms: WC420 names both numbers."""
    verdict = judge(recording(*PERSISTED), EXPECTATION)

    assert {"agent_completed": ["WC420"]} == codes(verdict)
    (finding,) = verdict.per_event["agent_completed"]
    assert "agent_completed arrived 250 ms after tool_completed, over the 100 ms gap bound" in finding.message
    assert {"bound": "gap", "gap_ms": 250.0, "bound_ms": 100.0} == finding.data


def test_slow_first_event_is_a_gap_from_the_trigger():
    """agent_started 300 ms after the trigger, delivered in 0.2 ms: WC420 measured from the trigger."""
    items = at((300.0, event("agent_started")), *((300.0 + 5 * n, event(t)) for n, t in enumerate(EVENTS[1:], 1)))

    verdict = judge(recording(*items), EXPECTATION)

    assert {"agent_started": ["WC420"]} == codes(verdict)
    assert "after the trigger" in verdict.per_event["agent_started"][0].message


def test_a_gap_spent_with_the_loop_blocked_says_so():
    """The slow_event fault on its own thread: tool_completed on time, then 300 ms of a blocked loop."""
    items = at(*((5.0 * n, event(t)) for n, t in enumerate(EVENTS[:4], start=1)), (320.0, event("agent_completed")))
    stalls = (LoopStall(TRIGGER_AT + 0.021, 0.295),)

    verdict = judge(recording(*items, loop_stalls=stalls), EXPECTATION)

    (finding,) = verdict.per_event["agent_completed"]
    assert "the backend's event loop was blocked for 295 ms of it" in finding.message
    assert "event loop blocked 295 ms from +21 ms" in finding.evidence
    assert "asyncio.to_thread" in finding.hint


def test_a_stall_that_began_before_the_trigger_never_reads_plus_minus():
    """A loop blocked as the trigger was sent: 'ms before the trigger', never '+-'."""
    items = at(*((300.0 + 5.0 * n, event(t)) for n, t in enumerate(EVENTS)))
    stalls = (LoopStall(TRIGGER_AT - 0.0001, 0.298),)

    verdict = judge(recording(*items, loop_stalls=stalls), EXPECTATION)

    (finding,) = verdict.per_event["agent_started"]
    assert "event loop blocked 298 ms from 0.1 ms before the trigger" in finding.evidence
    assert [] == [line for line in finding.evidence if "+-" in line]


def test_a_sampled_stall_names_the_blocking_line_with_its_stack():
    """The in-process watcher's stall carries where the loop was: WC420 points there and shows the stack."""
    from wiringcheck.findings import Location

    stall = LoopStall(
        TRIGGER_AT + 0.001,
        0.297,
        where=Location("/srv/app/moderation.py", 12),
        code="requests.post(URL, json=text)",
        stack=(
            "/srv/app/chat.py:40 in handle: if moderate(text):",
            "/srv/app/moderation.py:12 in moderate: requests.post(URL, json=text)",
        ),
    )
    items = at(*((300.0 + 5.0 * n, event(t)) for n, t in enumerate(EVENTS)))

    verdict = judge(recording(*items, loop_stalls=(stall,)), EXPECTATION)

    (finding,) = verdict.per_event["agent_started"]
    assert (True, "/srv/app/moderation.py:12") == (
        finding.message.endswith("blocked for 297 ms of it, in `requests.post(URL, json=text)`"),
        str(finding.location),
    )
    assert "  /srv/app/chat.py:40 in handle: if moderate(text):" in finding.evidence
