"""The socket.io transport: python-socketio's async and sync clients drive a run session against real servers.

The reference backend (`fixtures/socketchat`) and a server that misbehaves on request
(`socketio_server`) run under uvicorn on loopback; every case runs through both drivers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import ssl
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from wiringcheck.config import load_settings, parse_settings
from wiringcheck.protocol import EVENT_NAME, decode_frame
from wiringcheck.run.drive import perform, perform_sync
from wiringcheck.run.judge import expectation_for, judge
from wiringcheck.run.recording import Latency, RecordingEnd
from wiringcheck.run.request import build_request
from wiringcheck.run.session import RunSession
from wiringcheck.run.transports import socketio as transport

from ..conftest import MS
from . import socketio_server

REPO = Path(__file__).resolve().parents[2]
DRIVERS = ("async", "sync")


@pytest.fixture(name="server", scope="module")
def _server() -> Iterator[str]:
    with socketio_server.served() as url:
        yield url


@pytest.fixture(name="chat", scope="module")
def _chat() -> Iterator[str]:
    """fixtures/socketchat, served: its http:// origin."""
    from fixtures.socketchat.app import create_app

    from .test_entry_points import _Served

    with _Served(create_app) as url:
        yield url.replace("ws://", "http://")


def session_for(url: str, do: str = "events", *, limits: dict[str, Any] | None = None, **probe: Any) -> RunSession:
    """A session over socket.io to `url`, whose trigger asks the test server to `do` something."""
    table = {
        "transport": "socketio",
        "trigger": {"do": do, "run_id": "{run_id}"},
        # Far from how long a run on loopback takes, however busy the machine: a test of a bound sets its own.
        "connect_timeout": 10.0,
        "deadline": 10.0,
        **probe,
    }
    request = build_request(url, parse_settings({"probe": table}).probe, {})
    if limits:
        request = replace(request, limits=replace(request.limits, **limits))
    return RunSession(request)


def drive(driver: str, session: RunSession, ssl_context: ssl.SSLContext | None = None) -> float:
    """Drive `session` to its end with the async or the sync driver; how long it took."""
    started = time.monotonic()
    if driver == "async":
        asyncio.run(transport.drive(session, ssl_context=ssl_context))
    else:
        transport.drive_sync(session, ssl_context=ssl_context)
    return time.monotonic() - started


def names(session: RunSession) -> list[str | None]:
    return [frame.name for frame in session.recording().frames]


# -- the wire format -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h:1", ("http://h:1", "socket.io")),
        ("http://h:1/", ("http://h:1", "socket.io")),
        ("https://h/ws/socket.io/", ("https://h", "ws/socket.io")),
        ("ws://h:1/chat/socket.io?token=t%20k", ("ws://h:1?token=t%20k", "chat/socket.io")),
    ],
)
def test_the_url_gives_the_server_and_the_socketio_path(url, expected):
    """The URL's path is the socket.io endpoint (socket.io by default); its origin and query go to the client."""
    assert expected == transport.endpoint(url)


@pytest.mark.parametrize(
    ("args", "data"),
    [
        ((), "{}"),
        (({"a": 1}, {"ignored": True}), '{"a": 1}'),
        (("hello",), '"hello"'),
        (([1, 2],), "[1, 2]"),
        ((b"\x00",), b"\x00"),
        (({"file": b"abc"},), '{"file": "<3 bytes>"}'),
    ],
)
def test_an_event_is_its_first_argument(args, data):
    """A frame is the event's first argument as JSON ({} without one, bytes as bytes); later arguments are dropped."""
    assert data == transport.frame_of(args)


def test_the_event_name_is_a_field_matchers_read():
    """The name travels beside the data: matchers read it under @event, an argument that is no object under @data."""
    protocol = parse_settings({"probe": {"transport": "socketio"}}).probe.protocol()

    (item,) = decode_frame(protocol, '"hello"', "text")

    assert {EVENT_NAME: "text", "@data": "hello"} == item.message
    assert "text" == item.type


def test_what_the_backend_handed_off_reads_as_the_frames_the_client_feeds():
    """In-process, each event the server sent pairs with its frame: same data; non-events skipped, and events with
    no argument too (their {} is every user's: it could pair with another user's hand-off)."""
    sends = [
        (1.0, '0{"sid": "x"}'),
        (2.0, '40{"sid": "y"}'),
        (3.0, '42["agent_started",{"run_id":"r"}]'),
        (4.0, '42/chat,7["tick",{"n":1},"extra"]'),
        (5.0, '42["bare"]'),
        (6.0, "2"),
        (7.0, b"\x04binary"),
        (8.0, "4nonsense"),
    ]

    assert [(3.0, '{"run_id": "r"}'), (4.0, '{"n": 1}')] == transport.sent(sends)


def test_a_failed_connect_names_what_it_was_raised_from():
    """python-socketio's "Connection error" is shown with the error under it, and a refused upgrade's HTTP status."""

    class Refused(Exception):
        status = 403

    try:
        try:
            raise Refused("403, message='Invalid response status'")
        except Refused:
            raise ConnectionError("Connection error") from None
    except ConnectionError as outer:
        outer.__context__ = Refused("403, message='Invalid response status'")
        shown, status = transport.refusal_of(outer)

    assert ("ConnectionError: Connection error (Refused: 403, message='Invalid response status')", 403) == (
        shown,
        status,
    )


# -- runs against real servers ---------------------------------------------------------------------


@pytest.mark.parametrize("driver", DRIVERS)
def test_each_event_arrives_with_its_name_and_the_run_ends_at_the_terminal(driver, server):
    """The five events, named, in order; the session stops at the terminal (after its linger)."""
    session = session_for(server)

    drive(driver, session)

    recording = session.recording()
    assert RecordingEnd.TERMINAL == recording.end
    assert list(socketio_server.EVENTS) == names(session)
    assert all(json.loads(frame.data)["run_id"] == recording.run_id for frame in recording.frames)


@pytest.mark.parametrize("driver", DRIVERS)
def test_events_are_handed_over_in_the_order_they_arrived(driver, server):
    """200 events sent back to back reach the session in order, each stamped no earlier than the one before."""
    session = session_for(server, "burst", gap_ms=False)

    drive(driver, session)

    frames = session.recording().frames[:-1]
    assert list(range(200)) == [json.loads(frame.data)["n"] for frame in frames]
    assert all(a.received_at <= b.received_at for a, b in itertools.pairwise(frames))


@pytest.mark.parametrize("driver", DRIVERS)
def test_events_of_every_shape_become_frames(driver, server):
    """No argument, text, a list, bytes, several arguments: each a frame with its name, never a crash."""
    session = session_for(server, "shapes", gap_ms=False)

    drive(driver, session)

    frames = session.recording().frames[:-1]
    expected = [("bare", "{}"), ("text", '"hello"'), ("several", "[1, 2]"), ("binary", b"\x00\x01")]
    expected.append(("two", '{"a": 1}'))
    assert expected == [(frame.name, frame.data) for frame in frames]


@pytest.mark.parametrize("driver", DRIVERS)
def test_the_trigger_is_emitted_under_its_event_in_its_namespace(driver, server):
    """trigger_event and namespace: the server's handler for that event, on that namespace, gets the trigger."""
    session = session_for(server, "echo", trigger_event="go", namespace="/chat", gap_ms=False)

    drive(driver, session)

    frame, _ = session.recording().frames
    echoed = json.loads(frame.data)
    assert ("echo", "/chat", "echo") == (frame.name, echoed["namespace"], echoed["got"]["do"])


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_refused_connection_says_the_servers_reason(driver, server):
    """A connect handler's ConnectionRefusedError, credentials sent: they were refused, in the server's words."""
    session = session_for(
        server, auth={"first_message": {"do": "refuse", "token": "{token}"}, "token": "t"}, connect_timeout=10.0
    )

    elapsed = drive(driver, session)

    recording = session.recording()
    assert RecordingEnd.AUTH_REJECTED == recording.end
    assert 'the server refused the socket.io connection: not today ({"retry": false})' == recording.error
    assert elapsed < 5000 * MS  # it did not wait for the connect timeout (10 s)


@pytest.mark.parametrize("driver", DRIVERS)
def test_nothing_listening_is_a_failed_connection_at_once(driver):
    """A refused TCP connection is reported with what the OS said, without waiting for the connect timeout."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    session = session_for(f"http://127.0.0.1:{port}", connect_timeout=10.0)

    elapsed = drive(driver, session)

    recording = session.recording()
    assert (RecordingEnd.CONNECT_FAILED, True) == (recording.end, "ConnectionRefusedError" in recording.error)
    assert elapsed < 5000 * MS  # it did not wait for the connect timeout (10 s)


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("where", ["handshake", "namespace"])
def test_a_server_that_never_answers_is_cut_at_the_connect_timeout(driver, where, server):
    """No engine.io handshake (a bare socket), or no answer to the namespace's CONNECT: bounded by connect_timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        if where == "handshake":
            url, auth = f"http://127.0.0.1:{silent.getsockname()[1]}", {}
        else:
            url, auth = server, {"auth": {"first_message": {"do": "hang", "token": "{token}"}, "token": "t"}}
        session = session_for(url, connect_timeout=100 * MS, **auth)

        elapsed = drive(driver, session)

    recording = session.recording()
    assert RecordingEnd.CONNECT_FAILED == recording.end
    assert "timed out" in recording.error
    assert 100 * MS <= elapsed < 5000 * MS  # the connect timeout ended it, not the 10 s deadline


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_server_that_disconnects_mid_run_closed_it(driver, server):
    """A disconnect before the terminal is the server closing, with socket.io's reason."""
    session = session_for(server, "disconnect")

    drive(driver, session)

    recording = session.recording()
    assert (RecordingEnd.CLOSED, ["agent_started"]) == (recording.end, names(session))
    assert "server disconnect" in recording.close_reason


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_flood_stops_at_the_frame_cap_and_the_connection_is_dropped(driver, server):
    """Past the frame cap the session stops; the driver drops the connection instead of draining the flood."""
    session = session_for(server, "flood", limits={"max_frames": 20})

    elapsed = drive(driver, session)

    recording = session.recording()
    assert (RecordingEnd.OVERFLOW, 20) == (recording.end, len(recording.frames))
    assert elapsed < 5000 * MS  # it neither drained the flood nor waited for the 10 s deadline


@pytest.mark.parametrize("driver", DRIVERS)
def test_silence_ends_the_run_at_its_bound(driver, server):
    """A server that accepts the trigger and sends nothing: the session's bound ends the run, not the client."""
    session = session_for(server, "silent", deadline=150 * MS, gap_ms=False)

    elapsed = drive(driver, session)

    assert RecordingEnd.DEADLINE == session.recording().end
    assert 150 * MS <= elapsed < 5000 * MS  # its 150 ms deadline ended it, however slow the connection


@pytest.mark.parametrize("driver", DRIVERS)
def test_without_python_socketio_the_run_is_refused_with_the_install_command(driver, monkeypatch):
    """The extra is missing: the run is refused, saying pip install 'wiringcheck[socketio]', never a traceback."""
    monkeypatch.setitem(sys.modules, "socketio", None)
    session = session_for("http://127.0.0.1:9")

    drive(driver, session)

    recording = session.recording()
    assert (RecordingEnd.CONNECT_FAILED, transport.MISSING) == (recording.end, recording.error)
    assert "pip install 'wiringcheck[socketio]'" in recording.error


@pytest.fixture(name="tls", scope="module")
def _tls(tmp_path_factory) -> Iterator[tuple[str, ssl.SSLContext]]:
    """The misbehaving server over TLS, with a certificate from a private CA: its https:// origin, and a context
    that trusts the CA."""
    import trustme

    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    certfile, keyfile = folder / "server.pem", folder / "server.key"
    issued.cert_chain_pems[0].write_to_path(certfile)
    issued.private_key_pem.write_to_path(keyfile)
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with socketio_server.served((str(certfile), str(keyfile))) as url:
        yield url, context


@pytest.mark.parametrize("driver", DRIVERS)
def test_over_tls_the_given_context_is_the_one_trusted(driver, tls):
    """https://: with the context that trusts the server's CA the run goes through; with the system's, it is refused."""
    url, context = tls
    trusted, untrusted = session_for(url), session_for(url)

    drive(driver, trusted, context)
    drive(driver, untrusted)

    assert RecordingEnd.TERMINAL == trusted.recording().end
    assert RecordingEnd.CONNECT_FAILED == untrusted.recording().end
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.recording().error


# -- the reference backend --------------------------------------------------------------------------


def chat_settings(chat: str, **auth: Any):
    """socketchat's configuration aimed at the served one, with the token sent another way; its bounds far from how
    long a run takes (these tests are about getting the run)."""
    settings = load_settings(REPO / "fixtures" / "socketchat" / "wiringcheck.toml")
    probe = replace(settings.probe, budget_ms=2000.0)
    if auth:
        probe = replace(probe, auth=replace(probe.auth, first_message=None, **auth))
    return replace(settings, app=None, url=chat + (probe.path or ""), probe=probe)


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize(
    "auth",
    [{}, {"header": "Authorization"}, {"query": "token"}, {"cookie": "access_token"}],
    ids=["auth payload", "header", "query", "cookie"],
)
def test_socketchat_passes_with_each_way_of_sending_the_token(driver, auth, chat):
    """The auth payload, a Bearer header, the query string, a cookie: each gets the run, and the judge passes it."""
    settings = chat_settings(chat, **auth)
    expectation = expectation_for(settings.probe, latency=Latency.TIMESTAMP)
    url = settings.url or ""

    if driver == "async":
        recording = asyncio.run(perform(url, settings.probe, {}))
    else:
        recording = perform_sync(url, settings.probe, {})

    verdict = judge(recording, expectation)
    assert (RecordingEnd.TERMINAL, [], []) == (
        recording.end,
        verdict.general,
        [f for findings in verdict.per_event.values() for f in findings],
    )
