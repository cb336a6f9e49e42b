"""The HTTP transports: one request whose streamed response carries the run's events (SSE or NDJSON).

The request is the trigger (POST by default, its body the trigger; GET for a stream a
setup step opened), sent with the request's headers and ``Accept``.  A response that is
not a stream (a status that is not 2xx, an HTML error page, another content type) ends
the run with the status and a short excerpt, never a traceback; the end of the body ends
the stream, which the session judges (a run completed by its end, or one cut short).

Reading is done by a task (a thread, for the synchronous driver) that puts each event on
a queue as it arrives, so the driver can wait for the next one with the session's moving
bound and stop at once, whatever the server is in the middle of sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from wiringcheck.secrets import shorten

if TYPE_CHECKING:
    import ssl

    from wiringcheck.run.session import RunSession

__all__ = ["EXCERPT", "drive", "drive_sync", "format_of", "stream_problem"]

EXCERPT = 2048
"""Bytes of a response that is not a stream read for the evidence (the finding shows a scrubbed, shortened excerpt)."""

_END = object()
"""What the reader puts on the queue when the body ended."""


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


def _verify(url: str, ssl_context: ssl.SSLContext | None) -> Any:
    if ssl_context is not None:
        return ssl_context
    if url.startswith("https://"):
        return True
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # never used over http://: skips loading the CA bundle


def _request_headers(session: RunSession, stream: ModuleType) -> dict[str, str]:
    """The run's headers, with what a stream client sends unless the configuration says otherwise."""
    headers = dict(session.request.headers)
    given = {name.lower() for name in headers}
    defaults = {"Accept": stream.ACCEPT, "Cache-Control": "no-store"}
    if session.request.method != "GET":
        defaults["Content-Type"] = "application/json"  # the body is the JSON trigger; servers refuse it untyped (415)
    headers.update({name: value for name, value in defaults.items() if name.lower() not in given})
    return headers


async def drive(
    session: RunSession,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Send the run's request and feed the session each event of the response, until it is done."""
    import httpx

    request = session.request
    stream = format_of(request.transport)
    session.begin(clock())
    session.connected(clock())
    session.start(clock())
    (trigger,) = session.to_send()
    body = trigger.encode() if request.method != "GET" else None
    events: asyncio.Queue[Any] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    async def read(client: httpx.AsyncClient) -> None:
        try:
            async with client.stream(
                request.method, request.url, content=body, headers=_request_headers(session, stream)
            ) as response:
                problem = stream_problem(response.status_code, response.headers.get("content-type", ""), stream)
                if problem is not None:
                    excerpt = b""
                    async for chunk in response.aiter_bytes():
                        excerpt += chunk
                        if len(excerpt) >= EXCERPT:
                            break
                    events.put_nowait(("refused", clock(), response.status_code, problem, excerpt))
                    return
                events.put_nowait(("opened", clock()))
                async for data, name in stream.events(response):
                    events.put_nowait(("event", clock(), time.time(), data, name))
            events.put_nowait(("ended", clock()))
        except httpx.HTTPError as exc:
            events.put_nowait(("failed", clock(), f"{type(exc).__name__}: {exc}"))

    async with httpx.AsyncClient(
        verify=_verify(request.url, ssl_context), trust_env=False, follow_redirects=False, timeout=None
    ) as client:
        reader = asyncio.create_task(read(client), name="wiringcheck-stream")
        try:
            while not session.done:
                wake = session.wake_at()
                try:
                    async with asyncio.timeout_at(loop.time() + (wake - clock())):
                        item = await events.get()
                except TimeoutError:
                    session.tick(max(clock(), wake))
                    continue
                _feed(session, item)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader


def drive_sync(
    session: RunSession,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """`drive`, without asyncio: the response is read by a thread (a greenlet under gevent)."""
    import httpx

    request = session.request
    stream = format_of(request.transport)
    session.begin(clock())
    session.connected(clock())
    session.start(clock())
    (trigger,) = session.to_send()
    body = trigger.encode() if request.method != "GET" else None
    events: queue.Queue[Any] = queue.Queue()
    responses: list[Any] = []
    verify = _verify(request.url, ssl_context)
    client = httpx.Client(verify=verify, trust_env=False, follow_redirects=False, timeout=None)

    def read() -> None:
        try:
            with client.stream(
                request.method, request.url, content=body, headers=_request_headers(session, stream)
            ) as response:
                responses.append(response)
                problem = stream_problem(response.status_code, response.headers.get("content-type", ""), stream)
                if problem is not None:
                    excerpt = b""
                    for chunk in response.iter_bytes():
                        excerpt += chunk
                        if len(excerpt) >= EXCERPT:
                            break
                    events.put(("refused", clock(), response.status_code, problem, excerpt))
                    return
                events.put(("opened", clock()))
                for data, name in stream.events_sync(response):
                    events.put(("event", clock(), time.time(), data, name))
            events.put(("ended", clock()))
        except (httpx.HTTPError, OSError, RuntimeError) as exc:  # a response closed under the reader ends it too
            events.put(("failed", clock(), f"{type(exc).__name__}: {exc}"))

    reader = threading.Thread(target=read, name="wiringcheck-stream", daemon=True)
    reader.start()
    try:
        while not session.done:
            wake = session.wake_at()
            try:
                item = events.get(timeout=max(wake - clock(), 0.0))
            except queue.Empty:
                session.tick(max(clock(), wake))
                continue
            _feed(session, item)
    finally:
        for response in responses:
            with contextlib.suppress(Exception):
                response.close()
        client.close()
        reader.join(timeout=1.0)


def _feed(session: RunSession, item: tuple[Any, ...]) -> None:
    """Tell the session what the reader saw."""
    kind = item[0]
    if kind == "event":
        _, at, wall, data, name = item
        session.receive(data, at, wall=wall, name=name)
    elif kind == "opened":
        session.opened(item[1])
    elif kind == "ended":
        session.closed(item[1])
    elif kind == "refused":
        _, at, status, problem, excerpt = item
        shown = shorten(excerpt.decode("utf-8", "replace").strip(), 200) if excerpt else "an empty body"
        session.answered(at, status, f"{problem}: {shown}")
    else:
        session.refused(item[1], item[2])
