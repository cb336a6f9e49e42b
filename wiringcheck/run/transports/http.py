"""The HTTP transports: one request whose streamed response carries the run's events (SSE or NDJSON).

HTTP/1.1 is spoken with h11, the sans-I/O protocol, over one connection: asyncio streams
for `drive`, a plain socket for `drive_sync` (safe under gevent: no thread, nothing left
watching a closed descriptor).  The request is the trigger (POST by default, its body the
trigger; GET for a stream a setup step opened), sent with the request's headers, an
``Accept`` for the stream, and ``Accept-Encoding: identity`` (a compressed stream could
only be read once a block is full).  A response that is not a stream (a status that is not
2xx, an HTML error page, another content type) ends the run with the status and a short
excerpt; the end of the body ends the stream, which the session judges.

The body is read as it comes, every wait bounded by the session's next bound; between
reads the session is told the time, so a server that sends only keep-alive comments
still meets its deadline.  The stream's format (`sse`, `ndjson`) turns the text into
frames.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wiringcheck.run.transports import port_of
from wiringcheck.secrets import shorten

if TYPE_CHECKING:
    import ssl

    from wiringcheck.run.session import RunSession

__all__ = ["EXCERPT", "LIBRARIES", "drive", "drive_sync", "format_of", "stream_problem"]

LIBRARIES = ("h11", "wiringcheck.run.transports.sse", "wiringcheck.run.transports.ndjson")
"""What a run imports lazily (`run.drive.preload` imports it before any clock runs): h11, and the stream
readers (`format_of`; sse imports httpx-sse and httpx)."""

EXCERPT = 2048
"""Bytes of a response that is not a stream read for the evidence (the finding shows a scrubbed, shortened excerpt)."""

_READ = 65536


def format_of(transport: str) -> ModuleType:
    """The module that reads a transport's stream: `sse` or `ndjson`."""
    from wiringcheck.run.transports import ndjson, sse

    return {"sse": sse, "ndjson": ndjson}[transport]


def stream_problem(status: int, content_type: str, stream: ModuleType) -> str | None:
    """Why a response cannot be read as the run's stream (None: it can)."""
    declared = content_type.partition(";")[0].strip().lower()
    if not 200 <= status < 300:
        return f"HTTP {status}"
    if declared not in stream.CONTENT_TYPES:
        return f"HTTP {status} with Content-Type {declared or 'none'!r}, not {stream.CONTENT_TYPES[0]}"
    return None


def _request_bytes(session: RunSession, stream: ModuleType, connection: Any) -> bytes:
    """The request, as h11 writes it: the trigger as the body, unless the method is GET."""
    import h11

    request = session.request
    parts = urlsplit(request.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    (trigger,) = session.to_send()
    body = trigger.encode() if request.method != "GET" else b""
    headers = [
        ("Host", parts.netloc.rpartition("@")[2]),
        ("User-Agent", "wiringcheck"),
        ("Accept", stream.ACCEPT),
        ("Accept-Encoding", "identity"),
        ("Cache-Control", "no-store"),
        ("Connection", "close"),
        *((("Content-Type", "application/json"), ("Content-Length", str(len(body)))) if body else ()),
        *request.headers,
    ]
    data = connection.send(h11.Request(method=request.method, target=target, headers=headers))
    if body:
        data += connection.send(h11.Data(data=body))
    return bytes(data + connection.send(h11.EndOfMessage()))


def _address(url: str) -> tuple[str, int, bool]:
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    return parts.hostname or "127.0.0.1", parts.port or (443 if secure else 80), secure


class _Response:
    """The response as a stream format reads it: its headers, and its body as text, chunk by chunk."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers
        self.chunks: AsyncIterator[bytes] | Iterator[bytes] | None = None

    async def aiter_text(self) -> AsyncIterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        assert isinstance(self.chunks, AsyncIterator)
        async for chunk in self.chunks:
            yield decoder.decode(chunk)

    def iter_text(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        assert isinstance(self.chunks, Iterator)
        for chunk in self.chunks:
            yield decoder.decode(chunk)

    async def aiter_lines(self) -> AsyncIterator[str]:
        pending = ""
        async for text in self.aiter_text():
            pending += text
            *lines, pending = pending.split("\n")
            for line in lines:
                yield line
        if pending:
            yield pending

    def iter_lines(self) -> Iterator[str]:
        pending = ""
        for text in self.iter_text():
            pending += text
            *lines, pending = pending.split("\n")
            yield from lines
        if pending:
            yield pending


def _answer(session: RunSession, at: float, status: int, headers: dict[str, str], excerpt: bytes) -> None:
    problem = stream_problem(status, headers.get("content-type", ""), format_of(session.request.transport))
    shown = shorten(excerpt.decode("utf-8", "replace").strip(), 200) if excerpt else "an empty body"
    # The route asked, without its query (which may carry a token): a 404 means little without it.
    asked = f"{session.request.method} {urlsplit(session.request.url).path or '/'}"
    session.answered(at, status, f"{problem} ({asked}): {shown}")


def _headers(response: Any) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in response.headers}


# -- asyncio -----------------------------------------------------------------------------------------


async def drive(
    session: RunSession,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
    before_trigger: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Send the run's request and feed the session each event of the response, until it is done.

    `before_trigger` is awaited first: the request is the trigger, so every user's goes out at once.
    """
    import h11

    if before_trigger is not None:
        await before_trigger()
    request = session.request
    stream = format_of(request.transport)
    host, port, secure = _address(request.url)
    loop = asyncio.get_running_loop()
    session.begin(clock())
    wake = session.wake_at()
    try:
        async with asyncio.timeout_at(loop.time() + (wake - clock())):
            tls: Any = (ssl_context or _default_tls()) if secure else None
            reader, writer = await asyncio.open_connection(
                host, port, ssl=tls, server_hostname=host if secure else None
            )
    except TimeoutError:
        session.tick(max(clock(), wake))
        return
    except OSError as exc:
        session.refused(clock(), f"{type(exc).__name__}: {exc}")
        return
    connection = h11.Connection(h11.CLIENT)
    try:
        session.connected(clock(), local_port=port_of(writer.get_extra_info("sockname")))
        session.start(clock())
        writer.write(_request_bytes(session, stream, connection))

        async def read() -> bytes | None:
            """The next bytes, or None when the session's bound passed first (it was told)."""
            while not session.done:
                wake = session.wake_at()
                try:
                    async with asyncio.timeout_at(loop.time() + (wake - clock())):
                        return await reader.read(_READ)
                except TimeoutError:
                    session.tick(max(clock(), wake))
            return None

        async def events() -> AsyncIterator[Any]:
            """h11's events, as the bytes come in."""
            while True:
                event = connection.next_event()
                if event is h11.NEED_DATA:
                    data = await read()
                    if data is None:
                        return
                    connection.receive_data(data)
                    continue
                yield event
                if isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    return

        messages = events()
        head = None
        async for event in messages:
            if isinstance(event, h11.Response):
                head = event
                break
        if head is None:
            if not session.done:
                session.closed(clock(), 1006, "the server closed the connection without answering")
            return
        headers = _headers(head)
        if stream_problem(head.status_code, headers.get("content-type", ""), stream) is not None:
            excerpt = b""
            async for event in messages:
                if isinstance(event, h11.Data):
                    excerpt += bytes(event.data)
                    if len(excerpt) >= EXCERPT:
                        break
            _answer(session, clock(), head.status_code, headers, excerpt)
            return
        session.opened(clock())

        async def body() -> AsyncIterator[bytes]:
            async for event in messages:
                if isinstance(event, h11.Data):
                    yield bytes(event.data)

        response = _Response(headers)
        response.chunks = body()
        async for data, name in stream.events(response):
            session.receive(data, clock(), wall=time.time(), name=name)
            if session.done:
                break
        if not session.done:
            session.closed(clock())  # the body ended
    except h11.RemoteProtocolError as exc:
        session.closed(clock(), 1002, f"the server broke HTTP: {exc}")
    except OSError as exc:
        session.closed(clock(), 1006, f"connection lost ({type(exc).__name__})")
    finally:
        if session.abort:
            writer.transport.abort()
        else:
            writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 0.1)


# -- blocking, for threads and gevent ----------------------------------------------------------------


def drive_sync(
    session: RunSession,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """`drive` over a plain socket, in the calling thread (or greenlet)."""
    import h11

    request = session.request
    stream = format_of(request.transport)
    host, port, secure = _address(request.url)
    session.begin(clock())
    wake = session.wake_at()
    try:
        sock = socket.create_connection((host, port), timeout=max(wake - clock(), 0.001))
        if secure:
            sock = (ssl_context or _default_tls()).wrap_socket(sock, server_hostname=host)
    except TimeoutError:
        session.tick(max(clock(), wake))
        return
    except OSError as exc:
        session.refused(clock(), f"{type(exc).__name__}: {exc}")
        return
    connection = h11.Connection(h11.CLIENT)
    try:
        session.connected(clock(), local_port=port_of(sock.getsockname()))
        session.start(clock())
        sock.sendall(_request_bytes(session, stream, connection))

        def read() -> bytes | None:
            while not session.done:
                wake = session.wake_at()
                sock.settimeout(max(wake - clock(), 0.001))
                try:
                    return sock.recv(_READ)
                except TimeoutError:
                    session.tick(max(clock(), wake))
            return None

        def events() -> Iterator[Any]:
            while True:
                event = connection.next_event()
                if event is h11.NEED_DATA:
                    data = read()
                    if data is None:
                        return
                    connection.receive_data(data)
                    continue
                yield event
                if isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    return

        messages = events()
        head = next((event for event in messages if isinstance(event, h11.Response)), None)
        if head is None:
            if not session.done:
                session.closed(clock(), 1006, "the server closed the connection without answering")
            return
        headers = _headers(head)
        if stream_problem(head.status_code, headers.get("content-type", ""), stream) is not None:
            excerpt = b""
            for event in messages:
                if isinstance(event, h11.Data):
                    excerpt += bytes(event.data)
                    if len(excerpt) >= EXCERPT:
                        break
            _answer(session, clock(), head.status_code, headers, excerpt)
            return
        session.opened(clock())
        response = _Response(headers)
        response.chunks = (bytes(event.data) for event in messages if isinstance(event, h11.Data))
        for data, name in stream.events_sync(response):
            session.receive(data, clock(), wall=time.time(), name=name)
            if session.done:
                break
        if not session.done:
            session.closed(clock())
    except h11.RemoteProtocolError as exc:
        session.closed(clock(), 1002, f"the server broke HTTP: {exc}")
    except OSError as exc:
        session.closed(clock(), 1006, f"connection lost ({type(exc).__name__})")
    finally:
        with contextlib.suppress(OSError):
            sock.close()


def _default_tls() -> ssl.SSLContext:
    import ssl

    return ssl.create_default_context()
