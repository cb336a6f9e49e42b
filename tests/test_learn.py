"""learn.py: the probe table the frames of one run suggest, to add to the configuration in force."""

from __future__ import annotations

import json
import tomllib

import pytest

from wiringcheck.commands.config_edit import suggested_table
from wiringcheck.config import parse_settings
from wiringcheck.learn import learn
from wiringcheck.run.recording import Frame, Recording


def recording_of(messages, *, run_id="wc-run-1", transport="websocket", names=None):
    """A recording of `messages`, sent as JSON frames (SSE event names from `names`), by a run `run_id`."""
    names = names or [None] * len(messages)
    frames = tuple(
        Frame(received_at=index / 100, data=json.dumps(message), name=name)
        for index, (message, name) in enumerate(zip(messages, names, strict=True))
    )
    return Recording(
        run_id=run_id,
        trigger_at=0.0,
        ended_at=1.0,
        frames=frames,
        ids=(("thread_id", "wc-thread-1"),),
        transport=transport,
    )


def table_for(messages, config=None, **recorded):
    return learn(recording_of(messages, **recorded), parse_settings(config or {}).probe).table


def test_a_run_id_the_trigger_did_not_send_is_the_servers():
    """Frames that carry a run id nobody sent: the server assigns it, `run_id = "server"`."""
    messages = [{"type": "run_started", "run_id": "srv-7"}, {"type": "run_finished", "run_id": "srv-7"}]

    assert "server" == table_for(messages).get("run_id")


def test_the_servers_run_id_under_another_field_names_it():
    """A run id under `runId` (not the configured `run_id`) is suggested with its field."""
    messages = [{"type": "RunStarted", "runId": "srv-7"}, {"type": "RunFinished", "runId": "srv-7"}]

    table = table_for(messages)

    assert ("server", "runId") == (table.get("run_id"), table.get("run_id_field"))


def test_frames_that_echo_the_trigger_ids_keep_client_correlation():
    """When frames carry the id the trigger sent, nothing about run ids is suggested."""
    messages = [{"type": "run_started", "run_id": "wc-run-1"}, {"type": "run_finished", "run_id": "wc-run-1"}]

    assert ("run_id" in table_for(messages)) is False


def test_a_frame_outside_any_run_is_ignored():
    """`connection_established` names no run while the run's frames do: it is said to the connection, ignored."""
    messages = [
        {"type": "connection_established", "client": "c-1"},
        {"type": "session_info", "server": "eu-1"},
        {"type": "run_started", "run_id": "wc-run-1"},
        {"type": "run_finished", "run_id": "wc-run-1"},
    ]

    table = table_for(messages)

    assert ["connection_established", "session_info"] == table["ignore"]


def test_the_preset_in_force_is_not_suggested_again():
    """Under `preset = "ag-ui"`, frames the preset maps or ignores get no suggestion (no TEXT_MESSAGE_END mapping)."""
    run = {"threadId": "wc-thread-1", "runId": "wc-run-1"}
    messages = [
        {"type": "RUN_STARTED", **run},
        {"type": "TEXT_MESSAGE_START", "messageId": "m1", "role": "assistant"},
        {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m1", "delta": "6 times 7"},
        {"type": "TEXT_MESSAGE_END", "messageId": "m1"},
        {"type": "TOOL_CALL_START", "toolCallId": "t1", "toolCallName": "multiply"},
        {"type": "TOOL_CALL_END", "toolCallId": "t1"},
        {"type": "TOOL_CALL_RESULT", "toolCallId": "t1", "content": "42"},
        {"type": "RUN_FINISHED", **run},
    ]

    table = table_for(messages, {"probe": {"preset": "ag-ui"}})

    assert {"match": {}} == table


def test_matchers_use_types_and_sources_never_payload_values():
    """A tool result's own `status` says what the tool returned: it is no part of the matcher."""
    messages = [
        {"type": "tool.result", "run_id": "wc-run-1", "payload": {"result": {"status": "shipped", "type": "order"}}},
    ]

    assert "tool.result" == table_for(messages)["match"]["tool_completed"]  # the type field's value alone


def test_the_users_echoed_message_is_told_from_the_agents_by_its_source():
    """Two TextMessage frames, the user's echo and the agent's thought: the echo is ignored, the thought mapped."""
    messages = [
        {"type": "message", "data": {"type": "TextMessage", "source": "user", "content": "6 times 7?"}},
        {"type": "message", "data": {"type": "ThoughtEvent", "source": "assistant", "content": "multiply"}},
    ]

    table = table_for(messages)

    assert (
        [{"type": "message", "data.type": "TextMessage", "data.source": "user"}],
        {"type": "message", "data.type": "ThoughtEvent", "data.source": "assistant"},
    ) == (table["ignore"], table["match"]["agent_thinking"])


def test_a_printed_table_loads_in_a_wiringcheck_toml():
    """The lines printed for a wiringcheck.toml parse there, with no [tool.wiringcheck] header, and map the run."""
    messages = [
        {"type": "hello"},
        {"type": "RunStarted", "runId": "srv-7"},
        {"type": "message", "runId": "srv-7", "data": {"type": "ToolCallRequestEvent"}},
        {"type": "message", "runId": "srv-7", "data": {"type": "ToolCallExecutionEvent"}},
        {"type": "RunFinished", "runId": "srv-7"},
        {"type": "failed", "runId": "srv-7"},
    ]
    lines = suggested_table(table_for(messages), prefix="")

    document = tomllib.loads("\n".join(lines))
    settings = parse_settings(document)

    assert ("[probe]", "server", "runId") == (lines[0], settings.probe.run_id, settings.probe.run_id_field)
    assert "tool.wiringcheck" not in "\n".join(lines)


def test_a_batched_frame_names_its_list_and_its_events_are_learnt_one_by_one():
    """Frames that carry a list of typed events: `batch_field`, and matchers for the events inside it."""
    messages = [
        {"op": "batch", "run": "wc-run-1", "events": [{"kind": "start"}, {"kind": "think"}]},
        {"op": "batch", "run": "wc-run-1", "events": [{"kind": "tool.call"}]},
        {"op": "batch", "run": "wc-run-1", "events": [{"kind": "tool.result"}, {"kind": "done"}]},
    ]

    table = table_for(messages)

    assert ("events", "kind") == (table["batch_field"], table["type_field"])
    assert ["start", "think", "tool.call", "tool.result", "done"] == list(table["match"].values())


def test_the_run_id_the_trigger_sent_found_under_another_field_names_that_field():
    """The run's own id under `run` (not the configured `run_id`): `run_id_field = "run"`, still the client's."""
    messages = [{"kind": "start", "run": "wc-run-1"}, {"kind": "done", "run": "wc-run-1"}, {"op": "ping"}]

    table = table_for(messages)

    assert ("run", None) == (table.get("run_id_field"), table.get("run_id"))
    assert [{"op": "ping"}] == table["ignore"]  # it names no run: said to the connection


def test_a_time_most_events_carry_is_the_timestamp_field():
    """`data.created` on every event but the terminal (AutoGen's completion has none): `timestamp_field`."""
    created = {"created": 1_796_000_000.25}
    messages = [
        {"type": "message", "run_id": "wc-run-1", "data": {"type": "TaskStarted", **created}},
        {"type": "message", "run_id": "wc-run-1", "data": {"type": "ThoughtEvent", **created}},
        {"type": "message", "run_id": "wc-run-1", "data": {"type": "ToolCallRequestEvent", **created}},
        {"type": "message", "run_id": "wc-run-1", "data": {"type": "ToolCallExecutionEvent", **created}},
        {"type": "message", "run_id": "wc-run-1", "data": {"type": "TextMessage", **created}},
        {"type": "completion", "run_id": "wc-run-1", "status": "complete"},
    ]

    assert "data.created" == table_for(messages).get("timestamp_field")


def test_a_count_is_no_timestamp():
    """A `ts` of 3 (a sequence number) reads as 1970: no `timestamp_field`."""
    messages = [{"type": "run_started", "ts": 1}, {"type": "run_finished", "ts": 2}]

    assert "timestamp_field" not in table_for(messages)


@pytest.mark.parametrize(
    ("call", "result", "expected"),
    [
        ({"id": "c1"}, {"id": "c1"}, "id"),
        ({"data": {"content": [{"id": "c1"}]}}, {"data": {"content": [{"call_id": "c1"}]}},
         {"tool_executing": "data.content.0.id", "tool_completed": "data.content.0.call_id"}),
    ],
)  # fmt: skip
def test_a_tool_call_and_its_result_with_the_same_id_pair_by_it(call, result, expected):
    """The same id on a tool call and its result: `tool_call_id_field`, one path or one per event."""
    messages = [{"type": "tool_call", **call}, {"type": "tool_result", **result}]

    assert expected == table_for(messages).get("tool_call_id_field")


def test_frames_of_a_known_protocol_suggest_its_preset_and_the_transport_they_came_over():
    """AG-UI events over a WebSocket: `preset = "ag-ui"` (nothing else to map), and `transport = "websocket"`."""
    run = {"threadId": "wc-thread-1", "runId": "wc-run-1"}
    messages = [
        {"type": "RUN_STARTED", **run},
        {"type": "TEXT_MESSAGE_START", "messageId": "m1", "role": "assistant"},
        {"type": "TOOL_CALL_START", "toolCallId": "t1", "toolCallName": "multiply"},
        {"type": "TOOL_CALL_END", "toolCallId": "t1"},
        {"type": "TOOL_CALL_RESULT", "toolCallId": "t1", "content": "42"},
        {"type": "RUN_FINISHED", **run},
    ]

    table = table_for(messages)

    assert ("ag-ui", "websocket", {}) == (table.get("preset"), table.get("transport"), table["match"])
    assert "transport" not in table_for(messages, transport="sse")


def test_a_type_field_is_renamed_only_when_nothing_else_reads_the_old_one():
    """With an `ignore` of its own on `type`, the suggestion keeps `kind` in tables rather than rename the field."""
    messages = [{"kind": "start"}, {"kind": "done"}]

    table = table_for(messages, {"probe": {"ignore": ["ping"], "events": ["agent_started", "agent_completed"]}})

    assert ("type_field" in table, {"agent_started": {"kind": "start"}, "agent_completed": {"kind": "done"}}) == (
        False,
        table["match"],
    )
