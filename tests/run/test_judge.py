"""The judge itself, fed recordings built by hand: classification, batches, correlation and identity, timelines,
collapsing repeats, pairing sends with receipts, and the registry of rules it runs.

What each rule finds is tested in ``tests/run/rules/test_<rule>.py``; here, what the judge
does before and after the rules, and that it never raises whatever the frames.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.run.rules.tools import (
    EVENTS,
    EXPECTATION,
    NOON,
    PING,
    RELAY,
    RELAY_EVENTS,
    RUN_ID,
    TRIGGER_AT,
    batch,
    event,
    expectation_from,
    frames,
    no_findings_but,
    per_event_codes,
    recording,
    run_of,
)
from wiringcheck.config import parse_settings
from wiringcheck.findings import Finding
from wiringcheck.report import EventRecord
from wiringcheck.run import rules
from wiringcheck.run.judge import attach_send_times, collapse, expectation_for, judge
from wiringcheck.run.recording import Expectation, Frame, Latency, Recording

RULES_PACKAGE = Path(rules.__file__).parent
RULE_TESTS = Path(__file__).parent / "rules"

CALLED_BY_NAME = {"clocks", "cross_talk", "unreached", "percentiles"}
"""Rule modules the judge (or a command) calls by name instead of through the registry: see rules/__init__.py."""


# -- a healthy run ---------------------------------------------------------------------------------


def test_healthy_run_has_no_findings():
    """The five events, in order, fast, then nothing: no finding at all."""
    verdict = judge(run_of(*EVENTS), EXPECTATION)

    assert ([], no_findings_but(), 0) == (verdict.findings, per_event_codes(verdict), verdict.other_runs)


# -- classification --------------------------------------------------------------------------------


def test_custom_type_and_run_id_fields():
    """The type and run id are read from the fields the configuration names."""
    expectation = Expectation(events=("started", "done"), terminal="done", type_field="event", run_id_field="run")
    items = frames(json.dumps({"event": "started", "run": RUN_ID}), json.dumps({"event": "done", "run": RUN_ID}))

    assert [] == judge(recording(*items), expectation).findings


def test_a_nested_envelope_tells_events_apart_by_their_inner_type():
    """With matchers on data.type, a run missing its tool call event fails (WC402) instead of passing."""
    probe = {
        "type_field": "data.type",
        "match": {
            "agent_started": "TaskStarted",
            "agent_thinking": "Thought",
            "tool_executing": {"type": "message", "data.type": "ToolCallRequestEvent"},
            "tool_completed": {"type": "message", "data": {"type": "ToolCallExecutionEvent"}},
            "agent_completed": {"type": "completion", "status": "complete"},
        },
    }

    def message(kind: str) -> str:
        return json.dumps({"type": "message", "run_id": RUN_ID, "data": {"type": kind}})

    done = json.dumps({"type": "completion", "run_id": RUN_ID, "status": "complete"})
    verdict = judge(
        recording(*frames(message("TaskStarted"), message("Thought"), message("ToolCallExecutionEvent"), done)),
        expectation_from(probe),
    )

    assert no_findings_but(tool_executing=["WC402"]) == per_event_codes(verdict)


# -- batches ---------------------------------------------------------------------------------------


def test_batched_events_with_heartbeats_pass_and_heartbeats_are_counted():
    """Events batched two to a frame, between heartbeats, are five events; heartbeats are only counted."""
    items = frames(PING, batch("start", "think"), PING, batch("tool.call"), batch("tool.result", "done"), PING)

    verdict = judge(recording(*items), expectation_from(RELAY))

    assert ([], 3, 0) == (verdict.findings, verdict.ignored, verdict.unexpected)


def test_a_batch_shares_its_envelope_timestamp():
    """Latency from a timestamp on the batch's envelope applies to each of its events (clocks synced)."""
    stamped = [Frame(TRIGGER_AT + 0.3, batch(*RELAY_EVENTS, ts=NOON), received_wall=NOON + 0.3)]
    synced = replace(expectation_from(RELAY, latency="timestamp"), assume_synced_clocks=True)

    verdict = judge(recording(*stamped), synced)

    assert (5 * ["WC405"], [300.0] * 5) == (
        sorted(f.code for f in verdict.findings),
        [record.latency_ms for record in verdict.timeline],
    )


# -- correlation and identity ----------------------------------------------------------------------


def test_events_of_other_runs_are_counted_and_ignored():
    """Events of another run are counted apart; even their terminal event does not end ours."""
    items = frames(
        event("agent_started"),
        event("agent_started", run_id="run-2"),
        event("agent_completed", run_id="run-2"),
        *(event(t) for t in EVENTS[1:]),
        event("agent_thinking", run_id="run-2"),
    )

    verdict = judge(recording(*items), EXPECTATION)

    assert ([], 3) == (verdict.findings, verdict.other_runs)
    assert [True, False, False, True, True, True, True, False] == [record.ours for record in verdict.timeline]


def test_event_without_run_id_belongs_to_the_run():
    """An event that names no run is taken as the probe's own."""
    verdict = judge(recording(*frames(*(event(t, run_id=None) for t in EVENTS))), EXPECTATION)

    assert ([], 0) == (verdict.findings, verdict.other_runs)


def test_numeric_run_id_is_compared_as_text():
    """A run id sent as a number matches the probe's run id written as text."""
    expectation = Expectation(events=("agent_started",), terminal="agent_started")
    items = frames(json.dumps({"type": "agent_started", "run_id": 7}))

    verdict = judge(Recording(run_id="7", trigger_at=TRIGGER_AT, ended_at=101.0, frames=items), expectation)

    assert ([], 0) == (verdict.findings, verdict.other_runs)


def test_server_assigned_run_id_is_captured_from_the_first_event():
    """run_id = "server": frames of the run the server named are ours, another run's are counted apart."""
    items = frames(
        event("agent_started", run_id="srv-1"),
        event("agent_started", run_id="srv-2"),
        *(event(t, run_id="srv-1") for t in EVENTS[1:]),
    )

    verdict = judge(recording(*items), expectation_from({"run_id": "server"}))

    assert ([], 1, "srv-1") == (verdict.findings, verdict.other_runs, verdict.run_id)


def test_connection_correlation_owns_every_frame():
    """run_id = "connection": whatever run id a frame names, it belongs to the probe's socket."""
    items = frames(*(event(t, run_id=f"x-{n}") for n, t in enumerate(EVENTS)))

    verdict = judge(recording(*items), expectation_from({"run_id": "connection"}))

    assert ([], 0) == (verdict.findings, verdict.other_runs)


# -- timelines and timings -------------------------------------------------------------------------


def test_healthy_run_timeline():
    """The timeline lists every frame with its type, run, time after the trigger and latency."""
    verdict = judge(run_of("agent_started", "agent_thinking"), EXPECTATION)

    assert [
        EventRecord(0, "agent_started", RUN_ID, 5.0, 5.0, sent_at_ms=0.0),
        EventRecord(1, "agent_thinking", RUN_ID, 10.0, 5.0, sent_at_ms=5.0),
    ] == verdict.timeline


def test_bad_frames_are_in_the_timeline_as_not_ours():
    """Bad frames keep their place in the timeline, without a type, marked as not the run's."""
    verdict = judge(recording(*frames("heartbeat", b"\x00", '{"ack": true}')), EXPECTATION)

    assert [
        EventRecord(0, None, None, 5.0, None, ours=False),
        EventRecord(1, None, None, 10.0, None, ours=False),
        EventRecord(2, None, None, 15.0, None, ours=False),
    ] == verdict.timeline


def test_timings():
    """Time to the first event and to the terminal event are measured from the trigger."""
    verdict = judge(run_of(*EVENTS), EXPECTATION)

    assert {"time_to_first_event_ms": 5.0, "time_to_terminal_ms": 25.0} == verdict.timings


def test_timings_when_nothing_arrived():
    """Without events there is nothing to time: both timings are None."""
    verdict = judge(recording(end="deadline"), EXPECTATION)

    assert {"time_to_first_event_ms": None, "time_to_terminal_ms": None} == verdict.timings


@pytest.mark.parametrize(
    ("stamp", "expected_ms"),
    [
        (NOON - 0.005, 5.0),  # epoch seconds
        ((NOON - 0.005) * 1e3, 5.0),  # epoch milliseconds (AG-UI, JavaScript)
        ((NOON - 0.005) * 1e6, 5.0),  # epoch microseconds
    ],
)
def test_numeric_timestamps_are_read_in_the_unit_that_fits(stamp, expected_ms):
    """Seconds, milliseconds and microseconds since the epoch all give the same latency."""
    frame = Frame(received_at=TRIGGER_AT + 0.01, received_wall=NOON, data=event("agent_started", timestamp=stamp))
    synced = Expectation(("agent_started",), "agent_started", latency=Latency.TIMESTAMP, assume_synced_clocks=True)
    verdict = judge(recording(frame), synced)

    assert expected_ms == pytest.approx(verdict.timeline[0].latency_ms, abs=0.01)


@pytest.mark.parametrize("stamp", [float("inf"), float("-inf"), float("nan"), -1.0, 1e400, "NaN", "yesterday"])
def test_a_timestamp_that_is_no_time_leaves_the_event_untimed(stamp):
    """Infinite, NaN, negative or unparsable timestamps are 'not timed', never a latency that passes."""
    frame = Frame(
        received_at=TRIGGER_AT + 0.01,
        received_wall=1_000.0,
        data=json.dumps({"type": "agent_started", "run_id": RUN_ID, "timestamp": stamp}),
    )
    verdict = judge(recording(frame), Expectation(("agent_started",), "agent_started", latency=Latency.TIMESTAMP))

    assert None is verdict.timeline[0].latency_ms


# -- collapsing repeats ----------------------------------------------------------------------------


def finding(code: str, subject: str, **data: float) -> Finding:
    """A finding of `code` about `subject`, its message naming its data."""
    return Finding(code=code, message=f"{code} {data}", hint="", subject=subject, data=dict(data))


def test_a_flood_of_bad_frames_is_one_finding_with_a_count():
    """A thousand frames that are not JSON are one WC406 with a count and three examples, not a thousand."""
    verdict = judge(recording(*frames(*["x"] * 1000), end="deadline"), Expectation(EVENTS, EVENTS[-1]))

    (bad,) = [f for f in verdict.general if f.code == "WC406"]
    assert (1000, 4) == (bad.data["count"], len(bad.evidence))


def test_up_to_three_findings_of_one_kind_about_the_run_stay_apart():
    """Three tool calls left open may be three problems: each stays its own finding."""
    three = [finding("WC422", "probe", count=n) for n in (1, 2, 3)]

    assert three == collapse(three)


def test_repeats_about_one_event_keep_the_worst_with_their_count():
    """An event late on two deliveries is one WC405, the worse latency's, saying there was one more."""
    late = [
        finding("WC405", "event: agent_thinking", latency_ms=150.0),
        finding("WC405", "event: agent_thinking", latency_ms=300.0),
    ]

    (kept,) = collapse(late)

    assert (300.0, 2, True) == (kept.data["latency_ms"], kept.data["count"], kept.message.endswith("1 more like it"))


# -- pairing sends with receives -------------------------------------------------------------------


def test_attach_send_times_pairs_identical_payloads_in_order():
    """Identical payloads pair first send to first receive; unmatched frames get no send time."""
    received = (
        Frame(received_at=1.1, data="same", received_wall=50.0),
        Frame(received_at=1.2, data=b"bytes"),
        Frame(received_at=1.3, data="same"),
        Frame(received_at=1.4, data="never sent"),
    )
    sends = [(1.0, "same"), (1.05, b"bytes"), (1.25, "same"), (1.3, "sent, never received")]

    paired = attach_send_times(received, sends)

    assert [
        Frame(received_at=1.1, data="same", received_wall=50.0, sent_at=1.0),
        Frame(received_at=1.2, data=b"bytes", sent_at=1.05),
        Frame(received_at=1.3, data="same", sent_at=1.25),
        Frame(received_at=1.4, data="never sent"),
    ] == list(paired)


def test_attach_send_times_does_not_match_text_with_bytes():
    """A text frame and a binary frame with the same content are different payloads."""

    assert (None,) == tuple(f.sent_at for f in attach_send_times((Frame(1.0, "abc"),), [(0.5, b"abc")]))


# -- the expectation a probe describes -------------------------------------------------------------


def test_expectation_for_carries_what_the_probe_configures():
    """Events, terminal, budget, field names, latency, rules and the protocol come from the probe settings."""
    probe = parse_settings(
        {"probe": {"budget_ms": 250, "type_field": "kind", "once": ["agent_thinking"], "assume_synced_clocks": True}}
    ).probe

    expectation = expectation_for(probe, latency=Latency.TIMESTAMP)

    assert (EVENTS, "agent_completed", 250.0, "kind", Latency.TIMESTAMP, ("agent_thinking",), True, True) == (
        expectation.events,
        expectation.terminal,
        expectation.budget_ms,
        expectation.type_field,
        expectation.latency,
        expectation.once,
        expectation.assume_synced_clocks,
        expectation.protocol is not None,
    )


# -- robustness ------------------------------------------------------------------------------------

_ENVELOPES = st.builds(
    lambda event_type, run_id, stamp: json.dumps({"type": event_type, "run_id": run_id, "timestamp": stamp}),
    st.sampled_from((*EVENTS, "other", "", None)),
    st.sampled_from((RUN_ID, "run-2", None, 7)),
    st.one_of(st.none(), st.text(max_size=30), st.floats(), st.just("2025-01-01T12:00:00Z")),
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
).map(json.dumps)
_FRAME = st.builds(
    Frame,
    received_at=st.floats(min_value=0, max_value=1e6),
    data=st.one_of(_ENVELOPES, _JSON, st.text(max_size=40), st.binary(max_size=40)),
    received_wall=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    sent_at=st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)),
)


@settings(max_examples=200, deadline=None, database=None)
@given(
    items=st.lists(_FRAME, max_size=12),
    end=st.sampled_from(("terminal", "deadline", "closed", "connect_failed")),
    latency=st.sampled_from(("send", "timestamp")),
)
def test_the_judge_never_raises(items, end, latency):
    """Whatever the frames, the judge returns a verdict with one timeline entry per frame."""
    expectation = Expectation(events=EVENTS, terminal="agent_completed", latency=latency)

    verdict = judge(recording(*items, end=end, close_code=1000), expectation)

    assert len(items) == len(verdict.timeline)


# -- the rules it runs -----------------------------------------------------------------------------


def _rule_modules() -> set[str]:
    """The rule modules of wiringcheck/run/rules/, by name (the private `_shared` left out)."""
    return {path.stem for path in RULES_PACKAGE.glob("*.py") if not path.stem.startswith("_")}


def test_every_rule_module_has_a_test_module():
    """Each module of wiringcheck/run/rules/ has tests/run/rules/test_<module>.py, like tests/scan/ for scan rules."""
    untested = sorted(name for name in _rule_modules() if not (RULE_TESTS / f"test_{name}.py").is_file())

    assert [] == untested


def test_every_rule_test_module_tests_a_rule_module():
    """No test module of tests/run/rules/ outlives its rule (a rename leaves no orphan behind)."""
    orphans = sorted(
        path.name for path in RULE_TESTS.glob("test_*.py") if path.stem.removeprefix("test_") not in _rule_modules()
    )

    assert [] == orphans


def test_every_rule_module_is_registered_or_called_by_name():
    """A rule module the registry leaves out would never run: it is one the judge or a command calls by name."""
    registered = {name for name, _codes, _check in rules.RULES}

    assert (set(), set()) == (_rule_modules() - registered - CALLED_BY_NAME, registered & CALLED_BY_NAME)


def test_no_code_belongs_to_two_registered_rules():
    """Each finding code of a run comes from one rule, so a rule's findings are its codes."""
    owners: dict[str, list[str]] = {}
    for name, codes, _check in rules.RULES:
        for code in codes:
            owners.setdefault(code, []).append(name)

    assert {} == {code: names for code, names in owners.items() if len(names) > 1}


def test_every_rule_declares_the_codes_it_gives():
    """The codes a rule module writes are the ones its CODES declares: a rule's tests read its findings by them."""
    mismatched = {}
    for name in sorted(_rule_modules()):
        path = RULES_PACKAGE / f"{name}.py"
        written = {
            node.value
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"WC\d{3}", node.value)
        }
        declared = set(importlib.import_module(f"wiringcheck.run.rules.{name}").CODES)
        if written != declared:
            mismatched[name] = sorted(written ^ declared)

    assert {} == mismatched
