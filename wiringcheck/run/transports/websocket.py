"""The WebSocket transport, asyncio: a `websockets` client that moves messages between the socket and a session.

It decides nothing: the session says what to send and when to stop; this module
connects (with the request's headers and subprotocols), sends, receives with the
deadline the session gives, and reports what happened, with the time it happened.
A refused connection, a failed handshake or a close is reported to the session, never
raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from wiringcheck.run.transports import CLOSE_TIMEOUT, MAX_MESSAGE, close_of, http_instead, port_of

if TYPE_CHECKING:
    import ssl

    from wiringcheck.run.session import RunSession

__all__ = ["LIBRARIES", "drive"]

LIBRARIES = ("websockets.asyncio.client",)
"""What a run imports lazily (`run.drive.preload` imports it before any clock runs)."""


async def drive(
    session: RunSession,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
    before_trigger: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Connect, exchange messages until the session is done, and close (or drop) the connection.

    `before_trigger` is awaited once connected and authenticated, before the trigger goes
    out (an isolation check starts every user at once).
    """
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

    request = session.request
    session.begin(clock())
    # websockets rejects ssl=None for a wss:// URI: pass a context only when one is given.
    options: dict[str, Any] = {"ssl": ssl_context} if ssl_context is not None else {}
    if request.subprotocols:
        options["subprotocols"] = list(request.subprotocols)
    wake = session.wake_at()
    try:
        async with asyncio.timeout(max(wake - clock(), 0.0)):
            connection = await connect(
                request.url,
                additional_headers=list(request.headers),
                **options,
                open_timeout=None,
                close_timeout=CLOSE_TIMEOUT,
                max_size=MAX_MESSAGE,
                proxy=None,
            )
    except TimeoutError:
        session.tick(max(clock(), wake))
        return
    except (OSError, InvalidHandshake, InvalidURI, ValueError, ConnectionClosed) as exc:
        # ConnectionClosed too: a server that hangs up during the handshake (a request line it will not read).
        status = exc.response.status_code if isinstance(exc, InvalidStatus) else None
        said = f"{type(exc).__name__}: {str(exc) or type(exc).__name__}"
        if isinstance(exc, InvalidStatus) and not (request.auth_method and status in (401, 403)):
            said += http_instead(status or 0, exc.response.headers.get("content-type", ""))
            said += await _http_route(request.url, ssl_context, session.wake_at() - clock())
        session.refused(clock(), said, status=status)
        return
    session.connected(clock(), local_port=port_of(connection.transport.get_extra_info("sockname")))
    async with connection:
        try:
            await _exchange(session, connection, clock, until_ready=True)
            if session.ready:
                if before_trigger is not None:
                    await before_trigger()
                session.start(clock())
                await _exchange(session, connection, clock, until_ready=False)
        except ConnectionClosed as closed:
            code, reason, by_client = close_of(closed)
            session.closed(clock(), code, reason, by_client=by_client)
        if session.abort:
            # A flooding or hung server would answer a close frame late or never.
            connection.transport.abort()


async def _http_route(url: str, ssl_context: ssl.SSLContext | None, budget: float) -> str:
    """After a refused upgrade: whether an HTTP route answers at the same path (a server that streams over HTTP)."""
    import httpx

    from wiringcheck.run.request import http_base

    parts = url.split("/", 3)
    target = http_base(url) + "/" + (parts[3] if len(parts) > 3 else "")
    try:
        async with (
            asyncio.timeout(min(max(budget, 0.05), 1.0)),
            httpx.AsyncClient(verify=ssl_context or True, trust_env=False) as client,
        ):
            answer = await client.options(target)
    except (TimeoutError, httpx.HTTPError):
        return ""
    allowed = answer.headers.get("allow", "")
    if answer.status_code == 405 and allowed:
        return (
            f"; an HTTP route answers there (it allows {allowed}): if the server streams its runs over HTTP, set "
            'probe.transport = "sse" (or "ndjson") and probe.path to this route'
        )
    return ""


async def _exchange(session: RunSession, connection: Any, clock: Callable[[], float], *, until_ready: bool) -> None:
    """Send what the session has to send and feed it what arrives, until it is done (or ready for its trigger).

    One timer per wait, not per message: the session's next bound usually moves later with
    each event (the run is making progress), so the timer is re-armed only when it fires early
    or when the bound moves earlier (the terminal event starts the short linger).
    """
    from websockets.exceptions import ConnectionClosed

    loop = asyncio.get_running_loop()
    while True:
        wake = session.wake_at()
        try:
            async with asyncio.timeout_at(loop.time() + (wake - clock())) as timer:
                while True:
                    for message in session.to_send():
                        # When the server closed first, what it sent before the close is still read below.
                        with contextlib.suppress(ConnectionClosed):
                            await connection.send(message)
                    if session.done or (until_ready and session.ready):
                        return
                    sooner = session.wake_at()
                    if sooner < wake:
                        wake = sooner
                        timer.reschedule(loop.time() + (wake - clock()))
                    data = await connection.recv()
                    session.receive(data, clock(), wall=time.time())
        except TimeoutError:
            session.tick(max(clock(), wake))
            if session.done or (until_ready and session.ready):
                return
