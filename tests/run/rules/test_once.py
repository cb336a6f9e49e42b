"""WC421: an event sent once per run (by default the first and the terminal one) arrived more than once."""

from __future__ import annotations

from dataclasses import replace

from tests.run.rules.tools import EVENTS, EXPECTATION, codes, codes_of, evenly, recording
from wiringcheck.run.judge import judge
from wiringcheck.run.rules import once


def test_silent_on_a_healthy_run():
    """Each of the five events once: nothing repeated."""
    assert [] == codes_of(once, judge(recording(*evenly(*EVENTS)), EXPECTATION))


def test_thinking_and_tools_may_repeat():
    """Real agents think and call tools many times: repeats of the middle events pass."""
    run = (*EVENTS[:4], "agent_thinking", "tool_executing", "tool_completed", "agent_completed")

    assert {} == codes(judge(recording(*evenly(*run)), EXPECTATION))


def test_a_second_terminal_stays_an_event_after_the_terminal():
    """A second agent_completed is WC404's (something was sent after the run ended), not a repeated terminal."""
    verdict = judge(recording(*evenly(*EVENTS, "agent_completed")), EXPECTATION)

    assert {"probe": ["WC404"]} == codes(verdict)


def test_a_late_start_after_the_terminal_is_wc404s():
    """agent_started again after agent_completed is an event after the terminal (WC404), not a repeated start."""
    verdict = judge(recording(*evenly(*EVENTS, "agent_started")), EXPECTATION)

    assert ([], {"probe": ["WC404"]}) == (codes_of(once, verdict), codes(verdict))


def test_duplicate_agent_started_is_its_own_code():
    """Two agent_started before the terminal: WC421 on agent_started, with both arrival times."""
    verdict = judge(recording(*evenly("agent_started", "agent_started", *EVENTS[1:])), EXPECTATION)

    assert {"agent_started": ["WC421"]} == codes(verdict)
    assert "agent_started arrived 2 times for one run (+5 ms, +10 ms)" in verdict.per_event["agent_started"][0].message


def test_once_can_be_declared():
    """probe.once names the events sent once: a repeated agent_thinking is then WC421."""
    run = ("agent_started", "agent_thinking", "agent_thinking", *EVENTS[2:])

    verdict = judge(recording(*evenly(*run)), replace(EXPECTATION, once=("agent_thinking",)))

    assert {"agent_thinking": ["WC421"]} == codes(verdict)
