"""The `ag-ui` preset agrees with ag-ui-validate on the lifecycle and tool-call rules of recorded streams.

ag-ui-validate (the AG-UI conformance validator on PyPI) and wiringcheck's checker read
the same hand-written streams.  On its lifecycle rules (AGUI001-AGUI005: the first event
is RUN_STARTED, no second RUN_STARTED, a terminal event, nothing after it) and its
tool-call rules (AGUI201-AGUI207: START/END pairing, a duplicate toolCallId, a result for
a call never started) both must reach the same verdict.  wiringcheck adds what the
validator does not check: a tool call that never gets its result (WC415), per-event
budgets and the error terminal's own finding (WC412), which are compared apart.
"""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest

from wiringcheck.config import parse_settings
from wiringcheck.run.judge import expectation_for
from wiringcheck.run.judge import judge as check_events
from wiringcheck.run.recording import Frame, Latency, Recording, RecordingEnd

# Imported where it is used: pytest would otherwise import it in every worker, to collect this module.
pytestmark = pytest.mark.skipif(importlib.util.find_spec("ag_ui_validate") is None, reason="ag-ui-validate is missing")

RUN_ID = "wc-run-1"
THREAD = "wc-thread-1"
COMPARED_RULES = {f"AGUI00{n}" for n in range(1, 6)} | {f"AGUI20{n}" for n in range(1, 8)}
OURS = {"WC404", "WC408", "WC409", "WC415", "WC421"}
"""wiringcheck's codes for ag-ui-validate's rules: the lifecycle (WC415), a start sent twice (WC421, once-only events),
what follows the terminal (WC404), a stream that ends early (WC408, WC409)."""
ADDED = "never got its result"
"""The one lifecycle finding wiringcheck adds to ag-ui-validate's rules."""


def started() -> dict[str, Any]:
    return {"type": "RUN_STARTED", "threadId": THREAD, "runId": RUN_ID}


def finished() -> dict[str, Any]:
    return {"type": "RUN_FINISHED", "threadId": THREAD, "runId": RUN_ID}


def text(message: str = "m1") -> list[dict[str, Any]]:
    return [
        {"type": "TEXT_MESSAGE_START", "messageId": message, "role": "assistant"},
        {"type": "TEXT_MESSAGE_CONTENT", "messageId": message, "delta": "Let me look that up."},
        {"type": "TEXT_MESSAGE_END", "messageId": message},
    ]


def call(call_id: str = "c1", *, end: bool = True, result: bool = True) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"type": "TOOL_CALL_START", "toolCallId": call_id, "toolCallName": "search", "parentMessageId": "m1"},
        {"type": "TOOL_CALL_ARGS", "toolCallId": call_id, "delta": '{"q": "weather"}'},
    ]
    if end:
        events.append({"type": "TOOL_CALL_END", "toolCallId": call_id})
    if result:
        events.append({"type": "TOOL_CALL_RESULT", "messageId": f"r-{call_id}", "toolCallId": call_id,
                       "content": "sunny", "role": "tool"})  # fmt: skip
    return events


def error() -> dict[str, Any]:
    return {"type": "RUN_ERROR", "message": "model overloaded"}


STREAMS: dict[str, tuple[list[dict[str, Any]], bool]] = {
    # name: (events, whether the stream ends with a terminal the probe would have stopped at)
    "healthy": ([started(), *text(), *call(), finished()], True),
    "two tool calls": ([started(), *text(), *call("c1"), *call("c2"), finished()], True),
    "run error is a valid end": ([started(), *text(), error()], True),
    "first event is not RUN_STARTED": ([*text(), started(), *call(), finished()], True),
    "duplicate RUN_STARTED": ([started(), *text(), started(), *call(), finished()], True),
    "event after RUN_FINISHED": ([started(), *text(), *call(), finished(), *text("m2")], True),
    "event after RUN_ERROR": ([started(), *text(), error(), *text("m2")], True),
    "no terminal event": ([started(), *text(), *call()], False),
    "TOOL_CALL_END without START": (
        [started(), *text(), {"type": "TOOL_CALL_END", "toolCallId": "ghost"}, *call(), finished()], True),
    "TOOL_CALL_START never ended": ([started(), *text(), *call(end=False), finished()], True),
    "duplicate toolCallId": ([started(), *text(), *call("c1"), *call("c1"), finished()], True),
    "result for a call never started": (
        [started(), *text(), *call(), {"type": "TOOL_CALL_RESULT", "messageId": "r9", "toolCallId": "c9",
                                       "content": "?", "role": "tool"}, finished()], True),
    "tool call without result": ([started(), *text(), *call(result=False), finished()], True),
}  # fmt: skip


def theirs(events: list[dict[str, Any]]) -> list[str]:
    import ag_ui_validate

    validator = ag_ui_validate.create_validator()
    for number, event in enumerate(events):
        validator.feed({**event, "timestamp": 1_767_225_600_000 + number})
    validator.finalize()
    return sorted(d.rule for d in validator.report().diagnostics if d.severity == "error" and d.rule in COMPARED_RULES)


def ours(events: list[dict[str, Any]], terminal_seen: bool) -> list[str]:
    frames = tuple(Frame(received_at=100.0 + 0.001 * n, data=json.dumps(e)) for n, e in enumerate(events, start=1))
    recording = Recording(
        run_id=RUN_ID,
        trigger_at=100.0,
        ended_at=105.0,
        frames=frames,
        end=RecordingEnd.TERMINAL if terminal_seen else RecordingEnd.DEADLINE,
    )
    probe = parse_settings({"probe": {"preset": "ag-ui"}}).probe
    verdict = check_events(recording, expectation_for(probe, latency=Latency.TIMESTAMP))
    return sorted(f.message for f in verdict.findings if f.code in OURS and ADDED not in f.message)


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_the_agui_preset_agrees_with_ag_ui_validate(name):
    """On each stream, ag-ui-validate errs on its lifecycle/tool-call rules exactly when wiringcheck does."""
    events, terminal_seen = STREAMS[name]

    validator_fails = bool(theirs(events))
    wiringcheck_fails = bool(ours(events, terminal_seen))

    assert validator_fails == wiringcheck_fails, (theirs(events), ours(events, terminal_seen))


def test_the_streams_cover_both_verdicts():
    """The comparison is not vacuous: some streams pass and several rules fail."""
    failing = {rule for events, _ in STREAMS.values() for rule in theirs(events)}

    assert {"AGUI001", "AGUI002", "AGUI003", "AGUI004", "AGUI202", "AGUI203", "AGUI205", "AGUI207"} <= failing


def test_wiringcheck_adds_a_tool_call_that_never_gets_its_result():
    """A call that ends without a result passes ag-ui-validate; wiringcheck reports it (WC415)."""
    events = [started(), *text(), *call(result=False), finished()]
    probe = parse_settings({"probe": {"preset": "ag-ui"}}).probe
    recording = Recording(
        run_id=RUN_ID,
        trigger_at=100.0,
        ended_at=101.0,
        frames=tuple(Frame(received_at=100.0 + 0.001 * n, data=json.dumps(e)) for n, e in enumerate(events)),
    )

    verdict = check_events(recording, expectation_for(probe, latency=Latency.TIMESTAMP))

    assert ([], ["WC415"]) == (theirs(events), [f.code for f in verdict.findings if ADDED in f.message])
