"""WC416: frames of the run that matched no expected event and are not ignored are shown as a note, never failed."""

from __future__ import annotations

from tests.run.rules.tools import (
    EVENTS,
    EXPECTATION,
    PING,
    RELAY,
    batch,
    codes_of,
    expectation_from,
    frames,
    recording,
    run_of,
)
from wiringcheck.run.judge import judge
from wiringcheck.run.rules import unexpected


def test_silent_on_a_healthy_run():
    """Every frame of the run matched an expected event."""
    assert [] == codes_of(unexpected, judge(run_of(*EVENTS), EXPECTATION))


def test_silent_on_frames_the_probe_ignores():
    """Heartbeats listed in probe.ignore are counted as ignored, not shown as unmapped."""
    items = frames(PING, batch("start", "think", "tool.call", "tool.result", "done"), PING)

    verdict = judge(recording(*items), expectation_from(RELAY))

    assert ([], 2, 0) == (codes_of(unexpected, verdict), verdict.ignored, verdict.unexpected)


def test_silent_on_an_unmapped_event_after_the_terminal():
    """An unmapped type sent after the terminal is an event after the run ended (WC404), not a note."""
    verdict = judge(run_of(*EVENTS, "usage_report"), EXPECTATION)

    assert ([], ["WC404"], 0) == (codes_of(unexpected, verdict), [f.code for f in verdict.findings], verdict.unexpected)


def test_unexpected_event_type_before_terminal_is_a_note():
    """Extra event types during the run are allowed: shown as a note (WC416), never failed."""
    verdict = judge(run_of("agent_started", "usage_report", *EVENTS[1:]), EXPECTATION)

    assert (["WC416"], ["note"], 1) == (
        [f.code for f in verdict.findings],
        [f.severity.value for f in verdict.findings],
        verdict.unexpected,
    )
