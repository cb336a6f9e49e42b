"""The run rules' words read true on any backend: a normal close, a time before the trigger, where a loop blocked."""

from __future__ import annotations

import pytest

from wiringcheck.diagnose import FrameInfo
from wiringcheck.probethread import Stall
from wiringcheck.run.judge import judge
from wiringcheck.run.recording import Expectation

from ..test_runrules import EVENTS, TRIGGER_AT, at, event, recording


@pytest.fixture(name="expectation")
def _expectation() -> Expectation:
    return Expectation(events=EVENTS, terminal="agent_completed", budget_ms=100.0)


def test_a_normal_close_before_the_terminal_is_the_server_ending_the_run_on_purpose(expectation):
    """WC408 after code 1000 says the server closed normally and speaks of the terminal, not of an exception."""
    items = at((5.0, event("agent_started")))

    verdict = judge(recording(*items, end="closed", close_code=1000), expectation)

    (finding,) = [f for f in verdict.general if f.code == "WC408"]
    assert ("the server closed the connection normally (code 1000) before agent_completed", False) == (
        finding.message,
        "exception" in finding.hint,
    )
    assert "sends agent_completed before it closes" in finding.hint


def test_a_crash_close_still_points_at_the_exception(expectation):
    """WC408 after code 1011 (or no close frame) sends the reader to the backend's exception."""
    verdict = judge(recording(*at((5.0, event("agent_started"))), end="closed", close_code=1011), expectation)

    (finding,) = [f for f in verdict.general if f.code == "WC408"]
    assert "the exception that closed the socket" in finding.hint


def test_a_stall_that_began_before_the_trigger_never_reads_plus_minus(expectation):
    """A loop blocked as the trigger was sent: 'ms before the trigger', never '+-'."""
    items = at(*((300.0 + 5.0 * n, event(t)) for n, t in enumerate(EVENTS)))
    stalls = ((TRIGGER_AT - 0.0001, 0.298),)

    verdict = judge(recording(*items, loop_stalls=stalls), expectation)

    (finding,) = verdict.per_event["agent_started"]
    assert "event loop blocked 298 ms from 0.1 ms before the trigger" in finding.evidence
    assert [] == [line for line in finding.evidence if "+-" in line]


def test_a_sampled_stall_names_the_blocking_line_with_its_stack(expectation):
    """The in-process watcher's stall carries where the loop was: WC420 points there and shows the stack."""
    frames = [
        FrameInfo("/srv/app/chat.py", 40, "handle", "if moderate(text):"),
        FrameInfo("/srv/app/moderation.py", 12, "moderate", "requests.post(URL, json=text)"),
    ]
    items = at(*((300.0 + 5.0 * n, event(t)) for n, t in enumerate(EVENTS)))
    stall = Stall(TRIGGER_AT + 0.001, 0.297, frames)

    verdict = judge(recording(*items, loop_stalls=(stall,)), expectation)

    (finding,) = verdict.per_event["agent_started"]
    assert (True, "/srv/app/moderation.py:12") == (
        finding.message.endswith("blocked for 297 ms of it, in `requests.post(URL, json=text)`"),
        str(finding.location),
    )
    assert ("  /srv/app/chat.py:40 in handle: if moderate(text):") in finding.evidence
