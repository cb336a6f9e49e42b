"""WC422: every tool call the run starts gets its result, while other calls of the run did."""

from __future__ import annotations

from tests.run.rules.tools import (
    EVENTS,
    EXPECTATION,
    at,
    codes,
    codes_of,
    evenly,
    event,
    expectation_from,
    frames,
    recording,
)
from wiringcheck.run.judge import judge
from wiringcheck.run.rules import tool_pairs


def test_silent_on_a_healthy_run():
    """One tool call, started and completed."""
    assert [] == codes_of(tool_pairs, judge(recording(*evenly(*EVENTS)), EXPECTATION))


def test_a_tool_end_that_never_arrives_is_only_a_missing_event():
    """The missing_event fault keeps its one finding: WC402, not also WC422."""
    verdict = judge(recording(*evenly(*EVENTS[:3], "agent_completed")), EXPECTATION)

    assert {"tool_completed": ["WC402"]} == codes(verdict)


def test_silent_when_the_protocol_tracks_tool_calls_itself():
    """With probe.tool_call_id_field, a call left without its result is WC415's (the lifecycle), not WC422's."""
    items = frames(
        event("agent_started"),
        event("agent_thinking"),
        event("tool_executing", call="c1"),
        event("tool_executing", call="c2"),
        event("tool_completed", call="c2"),
        event("agent_completed"),
    )

    verdict = judge(recording(*items), expectation_from({"tool_call_id_field": "call"}))

    assert ([], ["WC415"]) == (codes_of(tool_pairs, verdict), [f.code for f in verdict.findings])


def test_a_tool_call_left_open_is_named():
    """Two tool_executing and one tool_completed: WC422 counts the call left open."""
    run = (*EVENTS[:4], "tool_executing", "agent_completed")

    verdict = judge(recording(*evenly(*run)), EXPECTATION)

    assert {"probe": ["WC422"]} == codes(verdict)
    assert "1 of 2 tool_executing event(s) never got their tool_completed" == verdict.general[0].message


def test_tool_calls_pair_by_id_when_frames_carry_one():
    """Calls a and b, two results for a: b is the one left open, named by its tool_call_id."""
    items = at(
        (5, event("agent_started")),
        (10, event("agent_thinking")),
        (15, event("tool_executing", tool_call_id="a")),
        (20, event("tool_executing", tool_call_id="b")),
        (25, event("tool_completed", tool_call_id="a")),
        (30, event("tool_completed", tool_call_id="a")),
        (35, event("agent_completed")),
    )

    verdict = judge(recording(*items), EXPECTATION)

    assert {"probe": ["WC422"]} == codes(verdict)
    assert ("tool_executing #3 at +20 ms (tool_call_id 'b')",) == verdict.general[0].evidence


def test_results_with_ids_answer_starts_without_one():
    """Three starts without an id, two results with ids: one call is left open, not three."""
    items = frames(event("agent_started"), event("agent_thinking"), *[event("tool_executing")] * 3,
                   event("tool_completed", tool_call_id="a"), event("tool_completed", tool_call_id="b"),
                   event("agent_completed"))  # fmt: skip

    verdict = judge(recording(*items), EXPECTATION)

    (finding,) = [f for f in verdict.findings if f.code == "WC422"]
    assert finding.message.startswith("1 of 3 tool_executing")
