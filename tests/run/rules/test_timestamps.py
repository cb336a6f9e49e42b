"""WC441: an expected event whose timestamp is there but is no time, so its delivery cannot be timed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.run.rules.tools import (
    EVENTS,
    EXPECTATION,
    NOON,
    TRIGGER_AT,
    codes_of,
    event,
    recording,
)
from wiringcheck.run.judge import judge
from wiringcheck.run.recording import Frame, Latency, Recording
from wiringcheck.run.rules import timestamps

BY_TIMESTAMP = replace(EXPECTATION, latency=Latency.TIMESTAMP, assume_synced_clocks=True)
"""A url target's expectation: latency from each event's own timestamp, on clocks assumed synced."""


def timestamped(stamp: object, received_wall: float | None, *, run_id: str = "run-1") -> Recording:
    """agent_started stamped `stamp`, received 5 ms after the trigger at wall-clock `received_wall`."""
    return recording(
        Frame(
            received_at=TRIGGER_AT + 0.005,
            data=event("agent_started", run_id=run_id, timestamp=stamp),
            received_wall=received_wall,
        )
    )


def test_silent_on_a_healthy_run_with_timestamps():
    """Five events stamped in ISO 8601 with a zone: every delivery is timed, nothing to report."""
    items = tuple(
        Frame(
            received_at=TRIGGER_AT + 0.005 * n,
            received_wall=NOON + 0.005 * n,
            data=event(name, timestamp=f"2025-01-01T12:00:00.{5 * n - 2:03d}Z"),
        )
        for n, name in enumerate(EVENTS, start=1)
    )

    verdict = judge(recording(*items), BY_TIMESTAMP)

    assert ([], [2.0] * 5) == (codes_of(timestamps, verdict), [record.latency_ms for record in verdict.timeline])


def test_silent_when_latency_is_not_read_from_timestamps():
    """An in-process run measures from the hand-off: an unreadable timestamp there is never judged."""
    verdict = judge(timestamped("yesterday", NOON + 1), replace(BY_TIMESTAMP, latency=Latency.SEND))

    assert [] == codes_of(timestamps, verdict)


def test_silent_on_another_runs_unreadable_timestamp():
    """A frame of another run is counted apart: its timestamp is not this run's to judge."""
    assert [] == codes_of(timestamps, judge(timestamped("yesterday", NOON + 1, run_id="run-2"), BY_TIMESTAMP))


@pytest.mark.parametrize(
    ("stamp", "received_wall", "codes"),
    [
        pytest.param(None, NOON + 1, [], id="null timestamp"),
        pytest.param("2025-01-01T12:00:00Z", None, [], id="no wall-clock receive time"),
    ],
)
def test_silent_without_a_timestamp_or_a_receive_time(stamp, received_wall, codes):
    """No timestamp, or no wall clock to read it against: no latency rather than a guess, and no WC441."""
    verdict = judge(timestamped(stamp, received_wall), BY_TIMESTAMP)

    assert (codes, [None]) == (
        [f.code for f in verdict.per_event["agent_started"]],
        [record.latency_ms for record in verdict.timeline],
    )


@pytest.mark.parametrize(
    ("stamp", "received_wall", "codes"),
    [
        pytest.param("2025-01-01T12:00:00", NOON + 1, ["WC441"], id="naive timestamp"),
        pytest.param("yesterday", NOON + 1, ["WC441"], id="not a timestamp"),
        pytest.param(True, NOON + 1, ["WC441"], id="boolean timestamp"),
    ],
)
def test_a_timestamp_that_is_no_time_is_wc441(stamp, received_wall, codes):
    """No latency rather than a guess; a timestamp that is there but is no time fails the gate (WC441)."""
    verdict = judge(timestamped(stamp, received_wall), BY_TIMESTAMP)

    assert (codes, [None]) == (
        [f.code for f in verdict.per_event["agent_started"]],
        [record.latency_ms for record in verdict.timeline],
    )
