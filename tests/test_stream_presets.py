"""The `adk` and `langgraph` presets on recorded streams shaped like their servers'.

The ADK streams are the ones google-adk 2.13's ``/run_sse`` sends (``fixtures/adk`` runs the
real server); the LangGraph streams follow langgraph-api 0.16's run stream as its source
writes it (``event: metadata`` first, then one event per stream mode; the in-memory server
simply ends the body, LangGraph Platform sends ``event: end``), since langgraph-api is not
installed here (see docs/configuration.md).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from wiringcheck.config import parse_settings
from wiringcheck.run.judge import expectation_for, judge
from wiringcheck.run.recording import Frame, Latency, Recording, RecordingEnd

Sent = tuple[str | None, Any]
"""One SSE event as the server sent it: its `event:` name (None: none), and its data."""


def verdict_of(preset: str, sent: list[Sent], end: RecordingEnd = RecordingEnd.TERMINAL) -> Any:
    """How the preset judges a stream that the session recorded up to `end` (a clean end of the body: TERMINAL)."""
    frames = tuple(
        Frame(received_at=100.0 + 0.001 * n, data=data if isinstance(data, str) else json.dumps(data), name=name)
        for n, (name, data) in enumerate(sent, start=1)
    )
    recording = Recording(
        run_id="wc-run-1",
        trigger_at=100.0,
        ended_at=100.0 + 0.001 * (len(sent) + 1),
        frames=frames,
        end=end,
        opened_at=100.0005,
        stream_completed=end is RecordingEnd.TERMINAL,
        transport="sse",
    )
    probe = parse_settings({"probe": {"preset": preset}}).probe
    return judge(recording, expectation_for(probe, latency=Latency.TIMESTAMP))


def codes_of(verdict: Any) -> list[str]:
    return sorted({finding.code for finding in verdict.findings if finding.severity == "error"})


# -- Google ADK's /run_sse ------------------------------------------------------------------------

INVOCATION = "e-0c1f9a6e-3d2b-4f6a-9c61-2b7d8e0f4a15"


def adk(*parts: dict[str, Any], role: str = "model", **fields: Any) -> Sent:
    event = {
        "content": {"parts": list(parts), "role": role},
        "invocationId": INVOCATION,
        "author": "calculator",
        "actions": {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {}},
        "id": "5d2f0c1e",
        "timestamp": 1_796_428_463.39,
        **fields,
    }
    return (None, event)


THOUGHT = {"text": "The user wants a product: use the calculator.", "thought": True}
ANSWER = {"text": "6 times 7 is 42."}


def call(call_id: str = "call-1") -> dict[str, Any]:
    return {"functionCall": {"id": call_id, "args": {"a": 6, "b": 7}, "name": "multiply"}}


def result(call_id: str = "call-1") -> dict[str, Any]:
    return {"functionResponse": {"id": call_id, "name": "multiply", "response": {"result": 42}}}


ERROR_CODE: Sent = (
    None,
    {"errorCode": "RuntimeError", "errorMessage": "the calculator is broken", "invocationId": INVOCATION},
)
ERROR_FRAME: Sent = (
    None,
    {"error": "RuntimeError: the calculator is broken", "error_details": {"error_type": "RuntimeError"}},
)

ADK_STREAMS: dict[str, tuple[list[Sent], RecordingEnd, list[str]]] = {
    "one event with a thought, then a call (streaming off, ADK's default)": (
        [adk(THOUGHT, call()), adk(result(), role="user"), adk(ANSWER, finishReason="STOP")],
        RecordingEnd.TERMINAL, []),
    "partial thoughts before the aggregated event (streaming on)": (
        [adk(THOUGHT, partial=True), adk(THOUGHT, call()), adk(result(), role="user"), adk(ANSWER, partial=True),
         adk(ANSWER)], RecordingEnd.TERMINAL, []),
    "the call at parts.0, after an event that talks": (
        [adk({"text": "Let me calculate."}), adk(call()), adk(result(), role="user"), adk(ANSWER)],
        RecordingEnd.TERMINAL, []),
    "an event with no parts (state only) is counted, not judged": (
        [adk(THOUGHT, call()), (None, {"invocationId": INVOCATION, "actions": {"stateDelta": {"n": 1}}}),
         adk(result(), role="user"), adk(ANSWER)], RecordingEnd.TERMINAL, []),
    "the tool raised: an errorCode event": (
        [adk(THOUGHT, call()), ERROR_CODE], RecordingEnd.ERROR, ["WC402", "WC412", "WC415"]),
    "a run that raised before any event: the error frame, which names no run": (
        [ERROR_FRAME], RecordingEnd.ERROR, ["WC402", "WC412"]),
    "a result under another call's id": (
        [adk(THOUGHT, call("call-1")), adk(result("call-2"), role="user"), adk(ANSWER)],
        RecordingEnd.TERMINAL, ["WC415"]),
    "the body ended before the tool's result": ([adk(THOUGHT, call())], RecordingEnd.TERMINAL, ["WC402", "WC415"]),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ADK_STREAMS))
def test_the_adk_preset_on_adks_streams(name):
    """Each stream ADK sends gets the verdict a user of ADK's web UI would give it."""
    sent, end, expected = ADK_STREAMS[name]

    assert expected == codes_of(verdict_of("adk", sent, end))


def test_adk_events_of_another_invocation_are_not_the_runs():
    """The run is the invocation ADK assigned (learnt from the first event): another invocation's result is not its."""
    other = adk(result(), role="user", invocationId="e-other")

    verdict = verdict_of("adk", [adk(THOUGHT, call()), other, adk(ANSWER)])

    assert (INVOCATION, 1, ["WC402", "WC415"]) == (verdict.run_id, verdict.other_runs, codes_of(verdict))


def test_adk_start_and_end_are_implied_by_the_response_and_the_end_of_its_body():
    """ADK sends neither: the timeline shows them as implied, without a latency."""
    verdict = verdict_of("adk", [adk(THOUGHT, call()), adk(result(), role="user"), adk(ANSWER)])

    implied = [(record.type, record.implied) for record in verdict.timeline if record.implied]
    assert [("agent_started", "the response"), ("agent_completed", "the end of the stream")] == implied


# -- LangGraph's run stream -----------------------------------------------------------------------

RUN = "1ef4a9b8-d7da-679a-a45a-872054341df2"
TOOL_CALL = {"name": "multiply", "args": {"a": 6, "b": 7}, "id": "call_1", "type": "tool_call"}


def chunk(**fields: Any) -> Sent:
    """A messages-tuple event: [the message chunk, its metadata]."""
    message = {"type": "AIMessageChunk", "content": "", "id": "run-7c1", **fields}
    return ("messages", [message, {"langgraph_node": "agent", "langgraph_step": 1}])


def update(node: str, *messages: dict[str, Any]) -> Sent:
    return ("updates", {node: {"messages": list(messages)}})


def tool_message(call_id: str = "call_1") -> dict[str, Any]:
    return {"type": "tool", "content": "42", "name": "multiply", "tool_call_id": call_id, "id": f"t-{call_id}"}


METADATA: Sent = ("metadata", {"run_id": RUN, "attempt": 1})
CALLING = [
    chunk(tool_call_chunks=[{"name": "multiply", "args": '{"a": 6, "b": 7}', "id": "call_1", "index": 0}]),
    update("agent", {"type": "ai", "content": "", "tool_calls": [TOOL_CALL], "id": "run-7c1"}),
    ("messages", [tool_message(), {"langgraph_node": "tools"}]),
    update("tools", tool_message()),
]
ANSWERING = [chunk(content="6 times 7 is 42."), update("agent", {"type": "ai", "content": "6 times 7 is 42."})]
END: Sent = ("end", {"run_id": RUN, "status": "success"})

LANGGRAPH_STREAMS: dict[str, tuple[list[Sent], RecordingEnd, list[str]]] = {
    "ended by event: end (LangGraph Platform)": ([METADATA, *CALLING, *ANSWERING, END], RecordingEnd.TERMINAL, []),
    "ended by the end of the body (the in-memory server)": (
        [METADATA, *CALLING, *ANSWERING], RecordingEnd.TERMINAL, []),
    "values and custom events between them are counted, not judged": (
        [METADATA, ("values", {"messages": []}), *CALLING, ("custom", {"progress": 0.5}), *ANSWERING, END],
        RecordingEnd.TERMINAL, []),
    "two tool calls in one update": (
        [METADATA, chunk(content="Two lookups."),
         update("agent", {"type": "ai", "tool_calls": [TOOL_CALL, {**TOOL_CALL, "id": "call_2"}]}),
         update("tools", tool_message(), tool_message("call_2")), *ANSWERING, END], RecordingEnd.TERMINAL, []),
    "a node raised: event: error": (
        [METADATA, *CALLING[:2], ("error", {"error": "ValueError", "message": "the calculator is broken"})],
        RecordingEnd.ERROR, ["WC402", "WC412"]),
    "the body ended before the tools node answered": (
        [METADATA, *CALLING[:2]], RecordingEnd.TERMINAL, ["WC402"]),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(LANGGRAPH_STREAMS))
def test_the_langgraph_preset_on_langgraph_run_streams(name):
    """Each run stream LangGraph's server sends gets the verdict its SDK's user would give it."""
    sent, end, expected = LANGGRAPH_STREAMS[name]

    assert expected == codes_of(verdict_of("langgraph", sent, end))


def test_the_langgraph_run_is_the_one_its_metadata_names():
    """`event: metadata` starts the run and names it; the events after it (which name no run) are its own."""
    verdict = verdict_of("langgraph", [METADATA, *CALLING, *ANSWERING, END])

    assert (RUN, 0, ["agent_started", "agent_thinking", "tool_executing"]) == (
        verdict.run_id,
        verdict.other_runs,
        [record.type for record in verdict.timeline[:3]],
    )
