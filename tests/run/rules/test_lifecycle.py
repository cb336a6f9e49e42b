"""WC415: the protocol's lifecycle (one start first, nothing after an error terminal, tool calls opened and closed in
pairs under unique ids, each with its result), for protocols that declare it or name a tool-call id field."""

from __future__ import annotations

import pytest

from tests.run.rules.tools import (
    EVENTS,
    EXPECTATION,
    codes_of,
    evenly,
    event,
    expectation_from,
    frames,
    recording,
)
from wiringcheck.run.judge import judge
from wiringcheck.run.recording import Frame
from wiringcheck.run.rules import lifecycle


def with_calls(calls: list[tuple[str, str]]) -> tuple[Frame, ...]:
    """A run whose tool events carry these (event, call id) pairs, between the start and the terminal."""
    return frames(
        event("agent_started"),
        event("agent_thinking"),
        *(event(kind, call=call) for kind, call in calls),
        event("agent_completed"),
    )


def test_silent_without_a_lifecycle_protocol():
    """The default protocol declares no lifecycle: a second agent_started is WC421's, never WC415's."""
    verdict = judge(recording(*evenly("agent_started", "agent_started", *EVENTS[1:])), EXPECTATION)

    assert ([], ["WC421"]) == (codes_of(lifecycle, verdict), [f.code for f in verdict.findings])


def test_silent_on_a_strict_run_that_follows_the_lifecycle():
    """strict_lifecycle: one start first, the terminal last, heartbeats after the start: nothing to report."""
    items = frames(*(event(t) for t in EVENTS[:2]), event("heartbeat"), *(event(t) for t in EVENTS[2:]))

    verdict = judge(recording(*items), expectation_from({"strict_lifecycle": True, "ignore": ["heartbeat"]}))

    assert [] == verdict.findings


def test_silent_when_each_call_starts_once_and_gets_its_result():
    """With tool_call_id_field, a call started once and answered under its id is no WC415."""
    calls = [("tool_executing", "c1"), ("tool_completed", "c1")]

    verdict = judge(recording(*with_calls(calls)), expectation_from({"tool_call_id_field": "call"}))

    assert [] == [f.message for f in verdict.findings if f.code == "WC415"]


@pytest.mark.parametrize(
    ("calls", "messages"),
    [
        ([("tool_executing", "c1"), ("tool_executing", "c1"), ("tool_completed", "c1")], ["started twice"]),
        ([("tool_executing", "c1"), ("tool_completed", "c2")], ["never started", "never got its result"]),
        ([("tool_executing", "c1"), ("tool_executing", "c2"), ("tool_completed", "c2")], ["never got its result"]),
    ],
)
def test_tool_calls_are_paired_by_their_id(calls, messages):
    """With tool_call_id_field, each started call gets exactly one start and a result (WC415 otherwise)."""
    verdict = judge(recording(*with_calls(calls)), expectation_from({"tool_call_id_field": "call"}))

    found = [f.message for f in verdict.findings if f.code == "WC415"]
    assert len(messages) == len(found)
    assert all(any(text in message for message in found) for text in messages)


def test_strict_lifecycle_wants_the_start_first_and_once():
    """strict_lifecycle: an ignored frame before the start is WC415; the second start is WC421 (once-only)."""
    items = frames(event("heartbeat"), event("agent_started"), *(event(t) for t in EVENTS[1:3]),
                   event("agent_started"), *(event(t) for t in EVENTS[3:]))  # fmt: skip

    verdict = judge(recording(*items), expectation_from({"strict_lifecycle": True, "ignore": ["heartbeat"]}))

    assert (1, 1) == tuple(len([f for f in verdict.findings if f.code == code]) for code in ("WC415", "WC421"))


def test_strict_lifecycle_wants_nothing_after_an_error_terminal():
    """strict_lifecycle: an event after the backend's error terminal is WC415 (the end rule stays silent then)."""
    items = frames(event("agent_started"), event("run_failed"), event("agent_thinking"))
    strict = expectation_from({"strict_lifecycle": True, "error_events": ["run_failed"]})

    verdict = judge(recording(*items, end="error"), strict)

    assert ["1 event(s) followed the error terminal: agent_thinking"] == [
        f.message for f in verdict.findings if f.code == "WC415"
    ]


def test_a_start_sent_twice_is_said_once_by_the_once_rule_not_again_here():
    """Under strict_lifecycle a repeated start is WC421 (once-only events), not also WC415."""
    items = frames(event("agent_started"), *(event(t) for t in EVENTS[1:3]),
                   event("agent_started"), *(event(t) for t in EVENTS[3:]))  # fmt: skip

    verdict = judge(recording(*items), expectation_from({"strict_lifecycle": True}))

    assert ["WC421"] == sorted(f.code for f in verdict.findings)
