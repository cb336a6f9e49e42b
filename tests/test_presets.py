"""The presets for real agent servers: each a plain table that parses, with the transport and keys its server needs.

How each preset reads its server's events is checked on streams shaped like the real ones
(`tests/test_agui_preset.py`, `tests/test_stream_presets.py`) and against the real servers
(`tests/integration/test_agui_server.py`, `tests/integration/test_adk_server.py`).
"""

from __future__ import annotations

import pytest

from wiringcheck.config import ConfigError, parse_settings
from wiringcheck.protocol import PRESETS


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_each_preset_is_a_plain_table_of_probe_keys(name):
    """A preset holds only data a user could have written under [probe] (no code path), and parses alone."""
    table = PRESETS[name]

    assert (name, True) == (parse_settings({"probe": {"preset": name}}).probe.preset, isinstance(table, dict))
    assert name == parse_settings({"probe": dict(table) | {"preset": name}}).probe.preset


def test_the_agui_preset_posts_a_run_agent_input_over_sse():
    """`preset = "ag-ui"` alone: Server-Sent Events, a POST whose body is a RunAgentInput naming the run."""
    probe = parse_settings({"probe": {"preset": "ag-ui", "path": "/agent"}}).probe

    assert ("sse", "POST", "/agent", "{run_id}", "{thread_id}") == (
        probe.transport,
        probe.method,
        probe.path,
        probe.trigger["runId"],
        probe.trigger["threadId"],
    )
    assert {"threadId", "runId", "state", "messages", "tools", "context", "forwardedProps"} == set(probe.trigger)


def test_the_agui_preset_over_a_websocket_keeps_its_mapping():
    """`transport = "websocket"` over the preset: the same events, matchers and lifecycle rules, on a socket."""
    over_sse = parse_settings({"probe": {"preset": "ag-ui"}}).probe
    over_ws = parse_settings({"probe": {"preset": "ag-ui", "transport": "websocket"}}).probe

    assert ("websocket", False) == (over_ws.transport, over_ws.over_http)
    assert over_sse.protocol() == over_ws.protocol()


@pytest.mark.parametrize(
    ("url", "transport"),
    [("ws://h:1/ws", "websocket"), ("wss://h/ws", "websocket"), ("http://h:1/agent", "sse"), ("https://h/a", "sse")],
)
def test_a_presets_transport_yields_to_the_scheme_of_the_url_given(url, transport):
    """The preset's SSE is a default: a ws:// target keeps the WebSocket it has always spoken."""
    assert transport == parse_settings({"url": url, "probe": {"preset": "ag-ui"}}).probe.transport


def test_a_transport_the_user_wrote_still_must_match_the_url():
    """Only the preset's default yields: `transport = "sse"` written by the user with a ws:// URL is an error."""
    with pytest.raises(ConfigError) as raised:
        parse_settings({"url": "ws://h:1/ws", "probe": {"preset": "ag-ui", "transport": "sse"}})

    assert "is a WebSocket URL, but probe.transport is 'sse'" in str(raised.value)


def test_the_adk_preset_sets_up_a_session_and_warms_the_server_up():
    """`preset = "adk"` alone: the app from /list-apps, a session created for the run, /run_sse over SSE, the
    response and the end of its body for the start and end ADK does not send, one warm-up run per boot."""
    probe = parse_settings({"probe": {"preset": "adk"}}).probe

    assert ("sse", "/run_sse", "response", "end_of_stream", 1) == (
        probe.transport,
        probe.path,
        probe.started_by,
        probe.completed_by,
        probe.warmup,
    )
    assert (["/list-apps", "/apps/{app}/users/{user_id}/sessions"], "{session_id}") == (
        [step.path for step in probe.setup],
        probe.trigger["session_id"],
    )


def test_the_langgraph_preset_streams_a_run_on_a_thread_it_creates():
    """`preset = "langgraph"` alone: a thread created over REST, the run streamed on it with the two stream modes
    its matchers read."""
    probe = parse_settings({"probe": {"preset": "langgraph"}}).probe

    assert ("sse", "/threads/{thread_id}/runs/stream", ["/threads"], ["updates", "messages-tuple"]) == (
        probe.transport,
        probe.path,
        [step.path for step in probe.setup],
        probe.trigger["stream_mode"],
    )
