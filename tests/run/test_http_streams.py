"""The HTTP transports against a raw server on loopback that writes exactly the bytes a test gives it.

Each case is a response as real servers write them (chunked or closed at the end, CRLF or
CR or LF, a byte-order mark, comments, events split over several data: lines) or break
them (an error status, an HTML page, a body that ends early); both drivers, asyncio and
blocking, must read it the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from wiringcheck.config import parse_settings
from wiringcheck.run.drive import perform, perform_sync
from wiringcheck.run.judge import expectation_for, judge
from wiringcheck.run.recording import Latency, RecordingEnd

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")


class RawServer:
    """Answers every connection with the next scripted response (bytes, and pauses as floats), then closes."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.script: list[bytes | float] = []
        self.requests: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import time

        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with client:
                client.settimeout(2)
                request = b""
                with contextlib.suppress(OSError):
                    while b"\r\n\r\n" not in request:
                        request += client.recv(65536)
                self.requests.append(request)
                for part in self.script:
                    if isinstance(part, float):
                        time.sleep(part)
                        continue
                    with contextlib.suppress(OSError):
                        client.sendall(part)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(name="server", scope="module")
def _server() -> Iterator[RawServer]:
    server = RawServer()
    yield server
    server.close()


def head(content_type: str = "text/event-stream", status: str = "200 OK") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n".encode()


def event(kind: str, *, name: str | None = None, end: str = "\n") -> bytes:
    lines = ([f"event: {name}"] if name else []) + [f"data: {json.dumps({'type': kind})}"]
    return (end.join(lines) + end + end).encode()


def run_both(server: RawServer, script: list[bytes | float], **probe: object) -> list:
    """The recordings of the asyncio and the blocking driver, for the same script."""
    server.script = script
    settings = parse_settings(
        {"url": f"http://127.0.0.1:{server.port}/agent", "probe": {"deadline": 2.0, "gap_ms": False, **probe}}
    )
    url = settings.url or ""
    return [asyncio.run(perform(url, settings.probe, {})), perform_sync(url, settings.probe, {})]


def kinds(recording) -> list[str]:
    return [json.loads(frame.data)["type"] for frame in recording.frames]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_ending_reads_the_same_events(server, end):
    """LF, CRLF and CR line ends (the WHATWG rules) give the same five events, and the run is complete."""
    for recording in run_both(server, [head(), *(event(kind, end=end) for kind in EVENTS)]):
        assert (list(EVENTS), RecordingEnd.TERMINAL) == (kinds(recording), recording.end)


def test_a_byte_order_mark_does_not_eat_the_first_event(server):
    """A stream that starts with a BOM still gives its first event (httpx-sse alone would drop it)."""
    for recording in run_both(server, [head(), "\ufeff".encode(), *(event(kind) for kind in EVENTS)]):
        assert list(EVENTS) == kinds(recording)


def test_comments_are_keep_alives_and_data_lines_join_with_newlines(server):
    """`: ping` lines are skipped, and one event's JSON over two data: lines is read whole."""
    split = b'data: {"type":\ndata: "agent_thinking"}\n\n'
    script = [head(), b": ping\n\n", event("agent_started"), split, b": ping\n\n", *(event(k) for k in EVENTS[2:])]
    for recording in run_both(server, script):
        assert list(EVENTS) == kinds(recording)


def test_an_event_name_is_a_field_matchers_read(server):
    """With `type_field = "@event"`, the SSE event name says which event a frame is."""
    script = [head(), *(f"event: {kind}\ndata: {{}}\n\n".encode() for kind in EVENTS)]
    for recording in run_both(server, script, type_field="@event"):
        verdict = judge(recording, expectation_for(parse_settings({"probe": {"type_field": "@event"}}).probe))
        assert ([], RecordingEnd.TERMINAL) == ([f.code for f in verdict.findings], recording.end)


def test_a_chunked_response_is_read_as_it_comes(server):
    """Transfer-Encoding: chunked, one event per chunk, 20 ms apart: each frame is timed when it came."""
    chunked = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunks: list[bytes | float] = []
    for kind in EVENTS:
        body = event(kind)
        chunks += [f"{len(body):x}\r\n".encode() + body + b"\r\n", 0.02]
    for recording in run_both(server, [chunked, *chunks, b"0\r\n\r\n"]):
        gaps = [b.received_at - a.received_at for a, b in zip(recording.frames, recording.frames[1:], strict=False)]
        assert (list(EVENTS), True) == (kinds(recording), min(gaps) > 0.01)


def test_a_body_that_ends_before_the_terminal_is_a_stream_cut_short(server):
    """The body ends after three events: the run ended as closed (WC408), not as complete."""
    for recording in run_both(server, [head(), *(event(kind) for kind in EVENTS[:3])]):
        assert (RecordingEnd.CLOSED, None) == (recording.end, recording.close_code)


def test_a_body_that_ends_completes_the_run_when_the_server_sends_no_terminal(server):
    """completed_by = "end_of_stream": the clean end of the body is the run's end, and its terminal is implied."""
    for recording in run_both(server, [head(), *(event(kind) for kind in EVENTS[:4])], completed_by="end_of_stream"):
        verdict = judge(
            recording,
            expectation_for(parse_settings({"probe": {"completed_by": "end_of_stream"}}).probe, latency=Latency.SEND),
        )
        assert (RecordingEnd.TERMINAL, []) == (recording.end, [f.code for f in verdict.findings])
        assert "the end of the stream" == verdict.timeline[-1].implied


@pytest.mark.parametrize(
    ("response", "said"),
    [
        (
            head("application/json", "404 Not Found") + b'{"detail": "Not Found"}',
            'HTTP 404 (POST /agent): {"detail": "Not Found"}',
        ),
        (
            head("text/html") + b"<h1>502 Bad Gateway</h1>",
            "HTTP 200 with Content-Type 'text/html', not text/event-stream (POST /agent)",
        ),
    ],
    ids=["404", "html page"],
)
def test_a_response_that_is_not_a_stream_is_refused_with_its_status_and_an_excerpt(server, response, said):
    """A status that is not 2xx, or an HTML page, ends the run at once as an HTTP error with what it said."""
    for recording in run_both(server, [response]):
        assert (RecordingEnd.HTTP_ERROR, True) == (recording.end, said in recording.error), recording.error


def test_the_trigger_is_the_body_of_the_request(server):
    """POST with the trigger as JSON, asking for a stream, with no compression."""
    run_both(server, [head(), *(event(kind) for kind in EVENTS)], trigger={"question": "6 x 7?"})

    request = server.requests[-1]
    assert request.startswith(b"POST /agent HTTP/1.1\r\n")
    assert b"accept: text/event-stream" in request.lower()
    assert b"accept-encoding: identity" in request.lower()


def test_a_server_that_only_sends_keep_alives_meets_the_deadline(server):
    """Comments every 20 ms and no event: the run still ends at its deadline, not when the server stops."""
    script: list[bytes | float] = [head()]
    for _ in range(30):
        script += [b": ping\n\n", 0.02]
    server.script = script
    settings = parse_settings({"url": f"http://127.0.0.1:{server.port}/agent", "probe": {"deadline": 0.1}})
    recording = asyncio.run(perform(settings.url or "", settings.probe, {}))

    assert (RecordingEnd.DEADLINE, True) == (recording.end, recording.ended_at - recording.trigger_at < 0.5)
