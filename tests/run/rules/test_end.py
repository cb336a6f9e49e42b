"""How the run ended: events after the terminal (WC404), a close before it (WC408), silence or the deadline
(WC409), the probe's own close (WC410), a flood (WC411)."""

from __future__ import annotations

import json

import pytest

from tests.run.rules.tools import (
    EVENTS,
    EXPECTATION,
    RELAY,
    RUN_ID,
    TRIGGER_AT,
    batch,
    codes_of,
    evenly,
    expectation_from,
    frames,
    no_findings_but,
    per_event_codes,
    recording,
    run_of,
)
from wiringcheck.run.judge import judge
from wiringcheck.run.recording import Expectation, Recording
from wiringcheck.run.rules import end


def test_silent_on_a_healthy_run():
    """The terminal arrived and nothing followed it."""
    assert [] == codes_of(end, judge(run_of(*EVENTS), EXPECTATION))


@pytest.mark.parametrize("ended", ["deadline", "closed"])
def test_end_after_terminal_is_not_a_finding(ended):
    """Once the terminal event arrived, a deadline or a close afterwards is not a finding."""

    assert [] == judge(run_of(*EVENTS, end=ended, close_code=1000), EXPECTATION).findings


def test_silent_on_a_run_an_error_terminal_ended():
    """The backend said the run failed (WC412 says why): no close, deadline or after-terminal finding on top."""
    failure = json.dumps({"kind": "failed", "reason": "tool crashed"})
    items = frames(batch("start", "think"), failure, batch("tool.call"))

    verdict = judge(recording(*items, end="closed", close_code=1011), expectation_from(RELAY))

    assert ([], ["WC412"]) == (codes_of(end, verdict), [f.code for f in verdict.general])


def test_silent_on_an_expected_event_first_seen_after_the_terminal():
    """tool_completed first arriving after agent_completed is an ordering finding (WC403), not one after the end."""
    verdict = judge(
        run_of("agent_started", "agent_thinking", "tool_executing", "agent_completed", "tool_completed"), EXPECTATION
    )

    assert [] == codes_of(end, verdict)


def test_duplicate_terminal_is_wc404():
    """A second agent_completed after the terminal one is a WC404."""
    verdict = judge(run_of(*EVENTS, "agent_completed"), EXPECTATION)

    assert (no_findings_but(), ["1 event(s) arrived after the terminal agent_completed: agent_completed"]) == (
        per_event_codes(verdict),
        [f.message for f in verdict.general if f.code == "WC404"],
    )


def test_event_after_terminal_is_wc404():
    """The after_terminal fault: an agent_thinking after agent_completed is a WC404, with the arrivals."""
    verdict = judge(run_of(*EVENTS, "agent_thinking"), EXPECTATION)

    (finding,) = verdict.general

    assert (
        "WC404",
        "1 event(s) arrived after the terminal agent_completed: agent_thinking",
        (
            "arrived: agent_started (+5 ms), agent_thinking (+10 ms), tool_executing (+15 ms), "
            "tool_completed (+20 ms), agent_completed (+25 ms), agent_thinking (+30 ms)",
        ),
    ) == (finding.code, finding.message, finding.evidence)


def test_unexpected_event_type_after_terminal_is_wc404():
    """An event type outside the protocol, after the terminal, is reported too."""
    verdict = judge(run_of(*EVENTS, "usage_report", "usage_report"), EXPECTATION)

    assert ["2 event(s) arrived after the terminal agent_completed: usage_report, usage_report"] == [
        f.message for f in verdict.general
    ]


def test_deadline_without_terminal_is_wc409():
    """The run stalls after agent_started: WC409 with the arrivals and the last activity."""
    verdict = judge(run_of("agent_started", end="deadline", ended_at=TRIGGER_AT + 5.0), EXPECTATION)

    (finding,) = [f for f in verdict.general if f.code == "WC409"]

    assert (
        "no agent_completed within the run deadline (5000 ms after the trigger)",
        ("arrived: agent_started (+5 ms)", "last event: agent_started at +5 ms"),
    ) == (finding.message, finding.evidence)


def test_a_stalled_run_says_how_long_it_was_silent():
    """The session stopped a run silent past the gap bound and budget: WC409 says for how long, after what."""
    stalled = Recording(
        run_id=RUN_ID, trigger_at=TRIGGER_AT, ended_at=TRIGGER_AT + 0.505, frames=evenly("agent_started"), end="stalled"
    )

    verdict = judge(stalled, EXPECTATION)

    (finding,) = [f for f in verdict.general if f.code == "WC409"]
    assert finding.message.startswith("no agent_completed: nothing of the run arrived for 500 ms after agent_started")


def test_closed_without_terminal_is_wc408():
    """The server closes the socket mid-run: WC408 with the close code and reason."""
    verdict = judge(
        run_of("agent_started", "agent_thinking", end="closed", close_code=1011, close_reason="internal error"),
        EXPECTATION,
    )

    (finding,) = [f for f in verdict.general if f.code == "WC408"]

    assert (
        "the server closed the connection with code 1011 (internal error) before agent_completed",
        ("arrived: agent_started (+5 ms), agent_thinking (+10 ms)", "last event: agent_thinking at +10 ms"),
    ) == (finding.message, finding.evidence)


def test_closed_without_reason():
    """A close without a reason shows only the code."""
    verdict = judge(run_of(end="closed", close_code=1006), EXPECTATION)

    assert ["the server closed the connection with code 1006 before agent_completed"] == [
        f.message for f in verdict.general
    ]


def test_a_close_by_the_probe_is_wc410_not_the_servers_close():
    """1009 sent by the client: the probe refused a frame; the finding says so, never 'the server closed'."""
    verdict = judge(
        run_of("agent_started", end="probe_closed", close_code=1009, close_reason="message too big"),
        Expectation(EVENTS, EVENTS[-1]),
    )

    (closed,) = [f for f in verdict.general if f.code == "WC410"]
    assert "larger than the client accepts" in closed.message
    assert "WC408" not in [f.code for f in verdict.general]


def test_overflow_is_wc411_with_the_first_frames():
    """A run that hit the probe's frame limit is WC411, and the evidence shows the first frames."""
    verdict = judge(run_of(*EVENTS, end="overflow"), Expectation(EVENTS, EVENTS[-1]))

    (overflow,) = [f for f in verdict.general if f.code == "WC411"]
    assert overflow.evidence[0].startswith("#0: ")


def test_a_normal_close_before_the_terminal_is_the_server_ending_the_run_on_purpose():
    """WC408 after code 1000 says the server closed normally and speaks of the terminal, not of an exception."""
    verdict = judge(run_of("agent_started", end="closed", close_code=1000), EXPECTATION)

    (finding,) = [f for f in verdict.general if f.code == "WC408"]
    assert ("the server closed the connection normally (code 1000) before agent_completed", False) == (
        finding.message,
        "exception" in finding.hint,
    )
    assert "sends agent_completed before it closes" in finding.hint


def test_a_crash_close_points_at_the_exception_and_a_refusal_at_its_reason():
    """WC408 after 1011 sends the reader to the backend's exception; after 4403, to the close reason."""
    crashed = judge(run_of("agent_started", end="closed", close_code=1011), EXPECTATION)
    refused = judge(run_of("agent_started", end="closed", close_code=4403, close_reason="quota"), EXPECTATION)

    assert (True, True) == (
        "the exception that closed the connection" in crashed.general[0].hint,
        "its close code and reason say why" in refused.general[0].hint,
    )
