"""protocol.py's suggestions: a probe table learnt from the frames of one run, to add to the configuration."""

from __future__ import annotations

import tomllib

from wiringcheck.commands.inspect import suggested_table
from wiringcheck.config import parse_settings
from wiringcheck.protocol import frame_shapes, suggest_probe_table

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
SENT = {"wc-run-1", "wc-thread-1"}


def table_for(messages, config=None, sent=SENT):
    protocol = parse_settings(config or {}).probe.protocol()
    return suggest_probe_table(frame_shapes(messages, protocol), EVENTS, protocol=protocol, sent=sent)


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

    assert [{"type": "connection_established"}, {"type": "session_info"}] == table["ignore"]


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

    assert {"type": "tool.result"} == table_for(messages)["match"]["tool_completed"]


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
