"""The configuration of a run over socket.io: its keys, their defaults, and what socket.io cannot carry."""

from __future__ import annotations

from pathlib import Path

import pytest

from wiringcheck.config import ConfigError, parse_settings
from wiringcheck.protocol import EVENT_NAME
from wiringcheck.run.request import build_request

SOURCE = Path("x.toml")


def probe_of(**probe):
    return parse_settings({"probe": {"transport": "socketio", **probe}}, source=SOURCE).probe


def error_of(table):
    with pytest.raises(ConfigError) as caught:
        parse_settings(table, source=SOURCE)
    return caught.value


def test_the_event_name_is_the_type_by_default():
    """Over socket.io a frame's type is its event name: type_field defaults to @event; the trigger goes as message."""
    probe = probe_of()

    assert (EVENT_NAME, "message", "/") == (probe.type_field, probe.trigger_event, probe.namespace)


def test_a_type_field_given_wins():
    """A backend whose events all share one name keeps its kind in the payload: type_field says where."""
    assert "kind" == probe_of(type_field="kind").type_field


def test_the_request_carries_the_trigger_event_the_namespace_and_the_auth_payload():
    """The transport reads all it needs from the request: the event, the namespace, the filled-in auth payload."""
    probe = probe_of(
        trigger_event="client_message",
        namespace="/chat",
        auth={"first_message": {"token": "{token}", "session": "{thread_id}"}, "token": "t0k"},
    )

    request = build_request("http://h/ws/socket.io", probe, {})

    where = (request.trigger_event, request.namespace, request.auth_method)
    assert ("client_message", "/chat", "first_message") == where
    assert '"token": "t0k"' in (request.first_message or "")


@pytest.mark.parametrize("url", ["http://h:1/ws/socket.io", "https://h/socket.io", "ws://h:1/socket.io"])
def test_a_socketio_server_is_named_by_an_http_or_a_ws_url(url):
    """python-socketio's clients take http(s):// URLs; ws(s):// ones work too: neither changes the transport."""
    settings = parse_settings({"url": url, "probe": {"transport": "socketio"}}, source=SOURCE)

    assert "socketio" == settings.probe.transport


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        (
            {"probe": {"transport": "socketio", "auth": {"subprotocol": "jwt.{token}", "token": "t"}}},
            "probe.auth.subprotocol",
            "socket.io carries no WebSocket subprotocol: send the token in its auth payload (first_message), a "
            "header, the query or a cookie",
        ),
        (
            {"probe": {"transport": "socketio", "auth": {"first_message": {"t": "{t}"}, "ack": "ok", "token": "t"}}},
            "probe.auth.ack",
            "socket.io answers its auth payload (first_message) itself, by accepting or refusing the connection: "
            "remove ack",
        ),
        (
            {"probe": {"transport": "socketio", "trigger_event": "connect"}},
            "probe.trigger_event",
            "'connect' is an event socket.io keeps for itself; name the event the server's handler listens to",
        ),
        (
            {"probe": {"transport": "socketio", "namespace": "chat"}},
            "probe.namespace",
            "must start with '/', got 'chat'",
        ),
        (
            {"probe": {"trigger_event": "client_message"}},
            "probe.trigger_event",
            "only a socket.io run has trigger_event; transport is 'websocket'",
        ),
        (
            {"probe": {"transport": "sse", "namespace": "/chat"}},
            "probe.namespace",
            "only a socket.io run has namespace; transport is 'sse'",
        ),
    ],
)
def test_what_socketio_cannot_carry_is_a_clear_error(table, key, problem):
    """Each mistake names its key and says what to do instead."""
    error = error_of(table)

    assert (key, problem) == (error.key, error.problem)
