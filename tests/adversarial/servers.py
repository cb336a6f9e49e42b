"""One hostile WebSocket server for the whole adversarial suite, its misbehaviour chosen by path.

It is a `websockets.asyncio.server` on 127.0.0.1 (port 0) running its own event loop
in a daemon thread, the way websockets' own tests route ``/crash`` or ``/delay`` to a
misbehaviour.  The probe under test connects to ``ws://127.0.0.1:PORT/<route>``; the
route's handler does what an attacker's or a broken server would do.

Every handler is bounded (`HANDLER_LIMIT`), the server stops when the `HostileServer`
context exits, and in any case stops by itself after `LIFETIME` seconds, so a test
that forgets it never leaves it running.

Routes that echo the token read it where the probe sent it: the ``token`` query
parameter, else the ``Authorization`` header (``Bearer`` stripped).

Frames that no well-behaved server library would send (invalid UTF-8 in a text
frame, a length larger than the client accepts, 200 000 frames in one write) are
written as raw bytes on the transport; server frames are unmasked, so a frame is just
a header and its payload (`raw_frame`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

__all__ = [
    "BIG_FRAMES",
    "EVENTS",
    "FLOOD_FRAMES",
    "INJECTION",
    "LIFETIME",
    "RACE_FRAME",
    "HostileServer",
    "hostile_server",
    "raw_frame",
    "token_forms_in_frames",
]

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
"""The five events of a healthy run, in order (wiringcheck's defaults)."""

LIFETIME = 300.0
"""Seconds after which the server stops by itself, whatever the test did."""

HANDLER_LIMIT = 30.0
"""Seconds any one connection may last; a handler that outlives it is cancelled."""

FLOOD_FRAMES = 200_000
"""How many frames the ``flood`` route writes after the trigger."""

BIG_FRAMES = 1_000
"""How many 48 KiB frames the ``flood-bytes`` route writes after the trigger."""

INJECTION = "\n::warning::pwned\nPASSED\n"
"""Text that would forge a GitHub workflow command and a verdict line if printed raw."""

RACE_FRAME = '{"type": "server_notice", "note": "sent-right-before-close"}'
"""The frame the ``race`` route sends immediately before closing, without waiting for the trigger."""

_CLOSE_REASON_BYTES = 123
"""A close reason longer than this (in UTF-8) does not fit in a close frame (RFC 6455 §5.5)."""


def raw_frame(payload: bytes, *, opcode: int = 0x1, declared: int | None = None) -> bytes:
    """An unmasked, final server frame; `declared` overrides the length written in the header."""
    length = len(payload) if declared is None else declared
    head = bytes([0x80 | opcode])
    if length < 126:
        head += bytes([length])
    elif length < 1 << 16:
        head += bytes([126]) + struct.pack("!H", length)
    else:
        head += bytes([127]) + struct.pack("!Q", length)
    return head + payload


def _fit_reason(reason: str) -> str:
    """`reason` cut (on a character boundary) to fit a close frame."""
    while len(reason.encode("utf-8")) > _CLOSE_REASON_BYTES:
        reason = reason[:-1]
    return reason


def token_forms_in_frames(token: str) -> list[str]:
    """The non-JSON frames the ``echo`` routes send: the token raw, encoded, escaped, and straddling a cut."""
    raw = token.encode("utf-8")
    longer = f"Bearer {token} expires=3600".encode()
    frames = [
        f"rejecting client with token Bearer {token}",
        f"base64 {base64.b64encode(raw).decode()} urlsafe {base64.urlsafe_b64encode(raw).decode().rstrip('=')}",
        f"url {quote(token, safe='')} plus {quote(token)}",
        f"json {json.dumps(token)[1:-1]} ascii {json.dumps(token, ensure_ascii=True)[1:-1]}",
        f"xml {html.escape(token, quote=True)} minimal {token.replace('&', '&amp;').replace('<', '&lt;')}",
        # the forms the last scrubber missed
        json.dumps({"detail": token}).replace("/", "\\/"),
        repr(json.dumps({"detail": token})),
        f"lower {quote(token, safe='').lower()} twice {quote(quote(token, safe=''), safe='')}",
        f"in a longer text {base64.b64encode(longer).decode()} {base64.b64encode(b'x' + longer).decode()}",
        f"hex {longer.hex()} HEX {longer.hex().upper()}",
        "entities " + "".join(f"&#{ord(char)};" for char in token),
        f"SHOUTED {token.upper()}",
        f"bytes {raw!r}",
        f"split across frames: {token[: len(token) // 2]}",
        f"{token[len(token) // 2 :]} (the rest)",
    ]
    # wiringcheck cuts a frame shown in a message at 60 characters (its repr, quote included):
    # start the token a few characters before that cut, so only its first characters would show.
    frames.extend("x" * pad + token for pad in range(50, 58))
    return frames


def _token(connection: ServerConnection) -> str:
    request = connection.request
    assert request is not None
    query = dict(parse_qsl(urlsplit(request.path).query, keep_blank_values=True))
    if "token" in query:
        return query["token"]
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip()


async def _trigger(connection: ServerConnection) -> dict[str, Any]:
    """The probe's trigger message (a dict, or an empty one when it was not JSON)."""
    message = await connection.recv()
    try:
        parsed = json.loads(message)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


async def _linger(connection: ServerConnection, seconds: float = 10.0) -> None:
    """Keep the connection open until the client closes it, or `seconds` pass."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(seconds):
            await connection.wait_closed()


def _event(name: str, run_id: Any, **extra: Any) -> str:
    return json.dumps({"type": name, "run_id": run_id, "timestamp": time.time(), **extra})


# -- routes ----------------------------------------------------------------------------------------


async def healthy(connection: ServerConnection) -> None:
    """The five events for the trigger's run, in order, at once; then wait for the client to leave."""
    run_id = (await _trigger(connection)).get("run_id")
    for name in EVENTS:
        await connection.send(_event(name, run_id))
    await _linger(connection)


async def echo(connection: ServerConnection) -> None:
    """Echo the token in every form a careless server could: frames, event fields, the close reason."""
    token = _token(connection)
    run_id = (await _trigger(connection)).get("run_id")
    await connection.send(_event("agent_started", run_id, detail=f"hello {token}"))
    for text in token_forms_in_frames(token):
        await connection.send(text)
    await connection.send(token.encode("utf-8"))  # and raw, as a binary frame
    await connection.close(4401, _fit_reason(f"unauthorized token={token}"))


async def nonjson(connection: ServerConnection) -> None:
    """A text frame that is not JSON where the first event should be, then the run's events."""
    run_id = (await _trigger(connection)).get("run_id")
    await connection.send("this is not json {")
    for name in EVENTS:
        await connection.send(_event(name, run_id))
    await _linger(connection)


async def binary(connection: ServerConnection) -> None:
    """A binary frame where the first event should be, then the run's events."""
    run_id = (await _trigger(connection)).get("run_id")
    await connection.send(b"\x00\x01binary\xff")
    for name in EVENTS:
        await connection.send(_event(name, run_id))
    await _linger(connection)


async def close_mid_run(connection: ServerConnection) -> None:
    """The first event, then a close with 1011 before the run finishes."""
    run_id = (await _trigger(connection)).get("run_id")
    await connection.send(_event("agent_started", run_id))
    await connection.close(1011, "agent crashed")


async def flood(connection: ServerConnection) -> None:
    """`FLOOD_FRAMES` frames in one write: non-JSON text, typeless JSON and out-of-order events, repeated."""
    run_id = (await _trigger(connection)).get("run_id")
    kinds = [
        b"not json " + b"y" * 40,
        json.dumps({"run_id": run_id, "no": "type"}).encode(),
        json.dumps({"type": "tool_completed", "run_id": run_id}).encode(),
    ]
    frames = [raw_frame(kinds[index % len(kinds)]) for index in range(len(kinds))]
    blob = b"".join(frames[index % len(frames)] for index in range(FLOOD_FRAMES))
    assert connection.transport is not None
    connection.transport.write(blob)
    await _linger(connection)


async def flood_bytes(connection: ServerConnection) -> None:
    """`BIG_FRAMES` frames of 48 KiB in one write: more bytes than any sane per-run cap (about 48 MiB)."""
    await _trigger(connection)
    frame = raw_frame(b"z" * (48 * 1024))
    assert connection.transport is not None
    for _ in range(BIG_FRAMES):
        connection.transport.write(frame)
    await _linger(connection)


async def inject(connection: ServerConnection) -> None:
    """Workflow commands, fake verdicts and control characters in frames, an event field and the close reason."""
    run_id = (await _trigger(connection)).get("run_id")
    await connection.send(_event("agent_started", run_id, agent=f"x{INJECTION}\x1b[2J\x00"))
    await connection.send(f"{INJECTION}\x00\x1b[31mred\x1b]0;title\x07\r\x08\x7f")
    await connection.send(json.dumps({"run_id": run_id, "note": f"{INJECTION}\x00\x1b[0m"}))  # no type: WC407
    await connection.close(4000, _fit_reason(f"bye{INJECTION}\x1b[1m"))


async def timestamps(connection: ServerConnection) -> None:
    """The five events with timestamps no clock gives: 1e400 (inf once parsed), -1e308, "NaN", NaN, -Infinity."""
    run_id = json.dumps((await _trigger(connection)).get("run_id"))
    stamps = ("1e400", "-1e308", '"NaN"', "NaN", "-Infinity")
    for name, stamp in zip(EVENTS, stamps, strict=True):
        await connection.send(f'{{"type": "{name}", "run_id": {run_id}, "timestamp": {stamp}}}')
    await _linger(connection)


async def huge(connection: ServerConnection) -> None:
    """A binary frame whose header declares 1 GiB: larger than any sane client max_size (the client closes 1009)."""
    await _trigger(connection)
    assert connection.transport is not None
    connection.transport.write(raw_frame(b"x" * 1024, opcode=0x2, declared=1 << 30))
    await _linger(connection)


async def bad_utf8(connection: ServerConnection) -> None:
    """A text frame whose payload is not UTF-8 (the client closes 1007)."""
    await _trigger(connection)
    assert connection.transport is not None
    connection.transport.write(raw_frame(b'{"type": "agent_started", "x": "\xff\xfe"}'))
    await _linger(connection)


async def race(connection: ServerConnection) -> None:
    """A frame and a close sent at once on connect, racing the client's trigger."""
    await connection.send(RACE_FRAME)
    await connection.close(1011, "gone")


async def silent(connection: ServerConnection) -> None:
    """Accept, read the trigger, never answer."""
    await _trigger(connection)
    await _linger(connection)


ROUTES: dict[str, Callable[[ServerConnection], Awaitable[None]]] = {
    "healthy": healthy,
    "echo": echo,
    "nonjson": nonjson,
    "binary": binary,
    "close-mid-run": close_mid_run,
    "flood": flood,
    "flood-bytes": flood_bytes,
    "inject": inject,
    "timestamps": timestamps,
    "huge": huge,
    "bad-utf8": bad_utf8,
    "race": race,
    "silent": silent,
}
"""Route name → handler; ``http200`` and ``http403`` never upgrade (see `_process_request`)."""

_NO_UPGRADE = {"http200": HTTPStatus.OK, "http403": HTTPStatus.FORBIDDEN}


def _process_request(connection: ServerConnection, request: Request) -> Response | None:
    route = urlsplit(request.path).path.strip("/")
    status = _NO_UPGRADE.get(route)
    if status is None:
        return None
    body = f"{status.phrase}: no WebSocket here\n".encode()
    headers = Headers([("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


async def _handler(connection: ServerConnection) -> None:
    assert connection.request is not None
    route = urlsplit(connection.request.path).path.strip("/")
    handler = ROUTES.get(route)
    with contextlib.suppress(Exception):
        async with asyncio.timeout(HANDLER_LIMIT):
            if handler is None:
                await connection.close(4404, f"no route {route!r}")
                return
            await handler(connection)


@dataclass
class HostileServer:
    """The running server: `url` builds the address of a route."""

    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _error: BaseException | None = None

    def url(self, route: str, *, userinfo: str = "", **query: str) -> str:
        """``ws://127.0.0.1:PORT/route`` with `userinfo` (``user:password``) and query parameters."""
        at = f"{userinfo}@" if userinfo else ""
        suffix = f"?{urlencode(query)}" if query else ""
        return f"ws://{at}127.0.0.1:{self.port}/{route}{suffix}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hostile-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the hostile server did not start within 30 s")
        if self._error is not None:
            raise RuntimeError("the hostile server failed to start") from self._error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended (LIFETIME)
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by start(); never raised in the thread
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(
            _handler,
            "127.0.0.1",
            0,
            process_request=_process_request,
            compression=None,
            max_size=1 << 20,
            close_timeout=1.0,
            ping_interval=None,
        ) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LIFETIME):
                    await self._stop.wait()
            server.close(close_connections=True)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await server.wait_closed()


@contextmanager
def hostile_server() -> Iterator[HostileServer]:
    """Run the hostile server for the duration of the block."""
    server = HostileServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
