"""WC406 and WC407: a frame that is no event at all (binary, not JSON, no type) is a finding, never a crash."""

from __future__ import annotations

import pytest

from tests.run.rules.tools import (
    EVENTS,
    EXPECTATION,
    PING,
    RELAY,
    batch,
    codes_of,
    event,
    expectation_from,
    frames,
    no_findings_but,
    per_event_codes,
    recording,
    run_of,
)
from wiringcheck.run.judge import judge
from wiringcheck.run.rules import frames as frames_rule


def test_silent_on_a_healthy_run():
    """Five JSON events with a type: no frame is malformed."""
    assert [] == codes_of(frames_rule, judge(run_of(*EVENTS), EXPECTATION))


def test_silent_on_an_event_type_outside_the_protocol():
    """A JSON object with a type that matches no expected event is an event (WC416's note), not a malformed frame."""
    verdict = judge(run_of("agent_started", "usage_report", *EVENTS[1:]), EXPECTATION)

    assert ([], ["WC416"]) == (codes_of(frames_rule, verdict), [f.code for f in verdict.findings])


def test_silent_on_heartbeats_the_probe_ignores():
    """A frame in probe.ignore is no event of the run, even without the type field: it is counted, not failed."""
    items = frames(PING, batch("start", "think", "tool.call", "tool.result", "done"), PING)

    assert [] == codes_of(frames_rule, judge(recording(*items), expectation_from(RELAY)))


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("heartbeat", "WC406"),
        ("", "WC406"),
        ('{"type": "agent_started"', "WC406"),
        (b"\x00\x01progress", "WC406"),
        (b'{"type": "agent_started"}', "WC406"),
        pytest.param("[" * 100_000, "WC406", id="deeply nested JSON"),
        ('{"ack": true}', "WC407"),
        ('{"type": ""}', "WC407"),
        ('{"type": 3}', "WC407"),
        ('{"type": null}', "WC407"),
        ("[1, 2]", "WC407"),
        ('"agent_started"', "WC407"),
        ("42", "WC407"),
        ("null", "WC407"),
    ],
)
def test_bad_frame_is_a_finding(data, code):
    """A frame that is not a JSON object with a type is one general finding, never an exception."""
    verdict = judge(recording(*frames(event("agent_started"), data, *(event(t) for t in EVENTS[1:]))), EXPECTATION)

    assert ([code], no_findings_but()) == ([f.code for f in verdict.general], per_event_codes(verdict))


def test_binary_frame_message():
    """WC406 for a binary frame gives its position, time and size."""
    verdict = judge(recording(*frames(b"\x00\x01progress")), EXPECTATION)

    assert [("frame #0 at 5 ms is binary (10 bytes), not a JSON text frame", ("#0 +5 ms: b'\\x00\\x01progress'",))] == [
        (f.message, f.evidence) for f in verdict.general if f.code == "WC406"
    ]


def test_text_frame_message():
    """WC406 for a text frame quotes it."""
    verdict = judge(recording(*frames("heartbeat")), EXPECTATION)

    assert ["frame #0 at 5 ms is not JSON: 'heartbeat'"] == [f.message for f in verdict.general if f.code == "WC406"]


def test_event_without_type_message():
    """WC407 names the type field it looked for."""
    verdict = judge(recording(*frames('{"ack": true}')), EXPECTATION)

    assert ["frame #0 at 5 ms has no 'type' field: {\"ack\": true}"] == [
        f.message for f in verdict.general if f.code == "WC407"
    ]
