"""The request of a run: placeholders fill the URL (%-encoded), the trigger and the auth templates; the token
is placed the way probe.auth says, for every transport alike."""

from __future__ import annotations

import json

import pytest

from wiringcheck.config import parse_settings
from wiringcheck.run.request import build_request, fill_url, http_base, run_url, stall_after


def probe(**keys):
    return parse_settings({"probe": keys}).probe


@pytest.mark.parametrize(
    ("url", "keys", "expected"),
    [
        # The negative cases first: a URL that names a route, a WebSocket, socket.io keep the URL as given.
        ("http://h:1/agent", {"preset": "langgraph"}, "http://h:1/agent"),
        ("ws://h:1/ws", {"path": "/ignored", "transport": "sse"}, "http://h:1/ignored"),
        ("ws://h:1/ws", {}, "ws://h:1/ws"),
        ("http://h:1", {"transport": "socketio", "path": "/ws/socket.io"}, "http://h:1"),
        # An origin alone: the configured route on that server, its query kept.
        ("http://h:1", {"preset": "langgraph"}, "http://h:1/threads/{thread_id}/runs/stream"),
        ("https://h/?k=v", {"transport": "sse", "path": "/agent"}, "https://h/agent?k=v"),
    ],
)
def test_an_http_url_without_a_route_takes_the_configured_path(url, keys, expected):
    """`url = "http://host:8124"` with `preset = "langgraph"` posts to the preset's route, not to `/`."""
    assert expected == run_url(probe(**keys), url)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("run-1", "ws://h/ws/run-1"),
        ("a b+c", "ws://h/ws/a%20b%2Bc"),
        ("../admin?x=1#f", "ws://h/ws/..%2Fadmin%3Fx%3D1%23f"),
        ("a&b", "ws://h/ws/a%26b"),
    ],
)
def test_a_value_that_goes_into_a_url_is_one_encoded_segment(value, expected):
    """A captured id can never add a path segment, a query or a fragment: it is %-encoded, '+' included."""
    assert expected == fill_url("ws://h/ws/{rid}", {"rid": value})


def test_the_trigger_is_filled_after_parsing_so_a_value_cannot_break_it():
    """A placeholder value with quotes stays a string inside the trigger's JSON."""
    request = build_request("ws://h/ws", probe(trigger={"text": "{user_id}"}, user_id='x"y'), {})

    assert {"text": 'x"y'} == json.loads(request.trigger)


@pytest.mark.parametrize(
    ("auth", "where"),
    [
        ({"query": "token"}, "url"),
        ({"header": "Authorization"}, "headers"),
        ({"cookie": "sid"}, "headers"),
        ({"subprotocol": "bearer.{token_b64url}"}, "subprotocols"),
        ({"first_message": {"op": "auth", "key": "{token}"}}, "first_message"),
    ],
)
def test_each_auth_kind_places_the_token_where_it_says(auth, where):
    """Query, header, cookie, subprotocol and first message: the token is in exactly one place."""
    request = build_request("ws://h/ws", probe(auth={**auth, "token": "tok-42xyz"}), {})

    places = {
        "url": "tok-42xyz" in request.url,
        "headers": any("tok-42xyz" in value for _, value in request.headers),
        "subprotocols": any(s.startswith("bearer.") for s in request.subprotocols),
        "first_message": "tok-42xyz" in (request.first_message or ""),
    }
    assert {where} == {place for place, found in places.items() if found}


def test_a_first_message_that_names_no_token_is_sent_as_it_is_without_a_credential():
    """Chainlit's socket.io auth is a session id and a client type: no token to configure, none sent, and a
    refusal is then no refusal of credentials (no auth method); a first message that names {token} still needs one."""
    import uuid

    from wiringcheck.errors import ConfigError

    request = build_request(
        "ws://h/ws", probe(auth={"first_message": {"sessionId": "{thread_id}", "clientType": "webapp"}}), {}
    )

    sent = json.loads(request.first_message or "{}")
    assert ("webapp", True, None, None) == (
        sent["clientType"],
        sent["sessionId"].startswith("wc-thread-"),
        request.secret,
        request.auth_method,
    )
    with pytest.raises(ConfigError, match="token_env: missing"):
        probe(auth={"first_message": {"key": "{token}"}})
    trigger = json.loads(build_request("ws://h/ws", probe(trigger={"id": "{uuid}"}), {}).trigger)
    assert 4 == uuid.UUID(trigger["id"]).version  # a fresh UUID4 for servers that refuse any other id


def test_the_environment_variable_wins_over_the_literal_token():
    """token_env, when set, is the token sent; the literal token is only a development fallback."""
    request = build_request(
        "ws://h/ws", probe(auth={"query": "t", "token_env": "T", "token": "dev-tok"}), {"T": "env-tok"}
    )

    assert ("env-tok", "query") == (request.secret, request.auth_method)


def test_a_captured_server_id_is_kept_only_for_server_correlation():
    """run_id = "client" ignores a captured run id: the run is the id the probe sent."""
    assert None is build_request("ws://h/ws", probe(), {}, server_run_id="s1").server_run_id
    assert "s1" == build_request("ws://h/ws", probe(run_id="server"), {}, server_run_id="s1").server_run_id


@pytest.mark.parametrize(
    ("url", "expected"),
    [("ws://h:1/ws?t=1", "http://h:1"), ("wss://h/ws", "https://h"), ("https://h:2/agent", "https://h:2")],
)
def test_setup_steps_go_to_the_origin_of_the_url(url, expected):
    """Setup requests go to the run URL's origin, over http(s)."""
    assert expected == http_base(url)


def test_the_probe_stops_once_the_next_event_is_overdue():
    """Silence past the gap bound, the budget and the evidence margin stops the run; with gaps unbounded, never."""
    assert 0.5 == pytest.approx(stall_after(100.0, 100.0, 300.0))
    assert None is stall_after(100.0, None)
