"""WC425: the server's clock against the probe's, for latency read from the events' own timestamps.

The judge asks this first, so every rule after it reads latencies with the offset taken out.
"""

from __future__ import annotations

from dataclasses import replace

from tests.run.rules.tools import EVENTS, EXPECTATION, NOON, TRIGGER_AT, codes, codes_of, event, recording, run_of
from wiringcheck.findings import Severity
from wiringcheck.run.judge import judge
from wiringcheck.run.recording import Frame, Latency, Recording
from wiringcheck.run.rules import clocks

BY_TIMESTAMP = replace(EXPECTATION, latency=Latency.TIMESTAMP)
"""A url target's expectation: latency from each event's own timestamp, the server clock's offset estimated."""


def stamped(server_ahead_s: float, *delays_ms: float) -> Recording:
    """Events stamped by a server clock `server_ahead_s` ahead, received `delays_ms` after their stamps."""
    items = tuple(
        Frame(
            received_at=TRIGGER_AT + 0.005 * n,
            received_wall=NOON + 0.005 * n,
            data=event(name, timestamp=NOON + 0.005 * n - delay / 1000 + server_ahead_s),
        )
        for n, (name, delay) in enumerate(zip(EVENTS, delays_ms, strict=False), start=1)
    )
    return recording(*items)


def test_silent_when_latency_is_measured_from_the_hand_off():
    """An in-process run reads both ends on the probe's monotonic clock: no server clock to estimate."""
    verdict = judge(run_of(*EVENTS), EXPECTATION)

    assert ([], None) == (codes_of(clocks, verdict), verdict.clock_offset_ms)


def test_silent_when_nothing_was_timed():
    """No timestamp latency at all: the offset is nothing and says nothing."""
    assert (0.0, []) == clocks.clock_offset([], assume_synced=False)
    assert (0.0, []) == clocks.clock_offset([], assume_synced=True)


def test_a_small_offset_is_no_finding_and_no_latency_is_negative():
    """A server clock 200 ms ahead is within reason: no WC425, and latencies are relative, never below zero."""
    verdict = judge(stamped(0.2, 3, 4, 3, 5, 3), BY_TIMESTAMP)

    assert {} == codes(verdict)
    assert all(record.latency_ms >= 0 for record in verdict.timeline)


def test_a_server_clock_two_seconds_ahead_passes_with_a_warning():
    """Two seconds ahead: a WC425 warning, latencies relative to the fastest event, and the offset reported."""
    verdict = judge(stamped(2.0, 3, 4, 3, 5, 3), BY_TIMESTAMP)

    assert ({"probe": ["WC425"]}, Severity.WARNING) == (codes(verdict), verdict.general[0].severity)
    assert [0.0, 1.0, 0.0, 2.0, 0.0] == [record.latency_ms for record in verdict.timeline]
    assert -1997.0 == verdict.clock_offset_ms


def test_a_slow_event_still_fails_relative_to_the_fastest():
    """A clock two seconds ahead does not hide an event 300 ms slower than the others: WC405 on it."""
    verdict = judge(stamped(2.0, 3, 3, 3, 303, 3), BY_TIMESTAMP)

    assert {"probe": ["WC425"], "tool_completed": ["WC405"]} == codes(verdict)


def test_with_synced_clocks_assumed_a_negative_latency_is_an_error():
    """--assume-synced-clocks and events received before their own timestamps: WC425 as an error."""
    verdict = judge(stamped(2.0, 3, 4, 3, 5, 3), replace(BY_TIMESTAMP, assume_synced_clocks=True))

    assert ({"probe": ["WC425"]}, Severity.ERROR) == (codes(verdict), verdict.general[0].severity)
