"""The probe: a real `websockets` client that starts one agent run and records what arrives.

It judges nothing.  It connects, sends the trigger, and appends every frame with
its receive time until the terminal event (plus a short linger, so that events
sent after the terminal one are seen), the deadline, or the server closing.
Every await is bounded; a timeout is recorded in the `Recording`, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from wiringcheck.containment import interrupting_after
from wiringcheck.events import Frame, Recording, RecordingEnd

if TYPE_CHECKING:
    import ssl

    from wiringcheck.config import ProbeSettings

__all__ = ["ProbeRequest", "build_request", "record_run", "record_run_sync", "render_trigger"]


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """Everything needed to start one run: where, with which headers, and what to send."""

    url: str
    headers: tuple[tuple[str, str], ...]
    trigger: str
    run_id: str
    secret: str | None = None
    ids: tuple[tuple[str, str], ...] = ()
    """The ids this run sent, by kind (user, thread, run), for the identifier cross-check."""


def render_trigger(template: Any, values: Mapping[str, str]) -> Any:
    """Fill ``{run_id}``-style placeholders in every string of a parsed JSON template.

    Substituting after parsing, not in the text, means a value can never break the
    JSON or inject fields.
    """
    if isinstance(template, str):
        result = template
        for key, value in values.items():
            result = result.replace("{" + key + "}", value)
        return result
    if isinstance(template, list):
        return [render_trigger(item, values) for item in template]
    if isinstance(template, dict):
        return {key: render_trigger(value, values) for key, value in template.items()}
    return template


def build_request(
    url: str, probe: ProbeSettings, environ: Mapping[str, str], *, run_id: str | None = None
) -> ProbeRequest:
    """The URL, headers and trigger text of one probe run, with the token placed as configured."""
    run_id = run_id or f"wc-{uuid.uuid4().hex[:12]}"
    values = {"run_id": run_id, "thread_id": f"wc-thread-{uuid.uuid4().hex[:8]}", "user_id": probe.user_id}
    trigger = json.dumps(render_trigger(probe.trigger, values))
    headers: list[tuple[str, str]] = []
    secret = probe.auth.resolve(environ) if probe.auth.enabled else None
    if secret is not None and probe.auth.query:
        parts = urlsplit(url)
        query = [*parse_qsl(parts.query, keep_blank_values=True), (probe.auth.query, secret)]
        url = urlunsplit(parts._replace(query=urlencode(query)))
    elif secret is not None and probe.auth.header:
        value = f"{probe.auth.scheme} {secret}".strip() if probe.auth.header.lower() == "authorization" else secret
        headers.append((probe.auth.header, value))
    ids = (("user", probe.user_id), ("thread", values["thread_id"]), ("run", run_id))
    return ProbeRequest(url=url, headers=tuple(headers), trigger=trigger, run_id=run_id, secret=secret, ids=ids)


def _frame_type(data: str | bytes, type_field: str, run_id_field: str) -> tuple[Any, Any]:
    if isinstance(data, bytes):
        return None, None
    try:
        message = json.loads(data)
    except ValueError:
        return None, None
    if not isinstance(message, dict):
        return None, None
    return message.get(type_field), message.get(run_id_field)


@contextlib.asynccontextmanager
async def _interrupting(seconds: float) -> AsyncIterator[None]:
    with interrupting_after(seconds):
        yield


CLOSE_TIMEOUT = 0.25
"""Seconds the closing handshake may take after the verdict is recorded: it decides nothing."""

MAX_FRAMES = 10_000
"""Frames recorded per run at most: past it the probe stops listening (WC411), so a flood cannot stall the verdict."""

MAX_BYTES = 32 * 1024 * 1024
"""Bytes recorded per run at most, for the same reason (a frame itself is at most 16 MiB)."""


def _closed(closed: Exception, terminal_seen: bool) -> tuple[RecordingEnd, int | None, str]:
    """How a closed connection ended the recording: who closed it, with which code and reason."""
    sent, rcvd = getattr(closed, "sent", None), getattr(closed, "rcvd", None)
    probe_first = sent is not None and (rcvd is None or getattr(closed, "rcvd_then_sent", None) is False)
    if sent is not None and probe_first and sent.code not in (1000, 1001):
        # The client refused what the server sent (1009 too big, 1007 invalid UTF-8): not the server's close.
        return RecordingEnd.PROBE_CLOSED, sent.code, sent.reason
    end = RecordingEnd.TERMINAL if terminal_seen else RecordingEnd.CLOSED
    if rcvd is not None:
        return end, rcvd.code, rcvd.reason
    return end, 1006, "connection lost without a close frame"


async def record_run(
    request: ProbeRequest,
    probe: ProbeSettings,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Recording:
    """Connect, send the trigger, and record frames until the terminal event, the deadline or a close.

    Never raises for anything the server does: a refused connection, a failed handshake,
    a close or a timeout is recorded as the recording's `end`.
    """
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

    frames: list[Frame] = []
    start = clock()
    try:
        async with asyncio.timeout(probe.connect_timeout):
            # websockets rejects ssl=None for a wss:// URI: pass a context only when one is given.
            tls: dict[str, Any] = {"ssl": ssl_context} if ssl_context is not None else {}
            connection = await connect(
                request.url,
                additional_headers=list(request.headers),
                **tls,
                open_timeout=None,
                close_timeout=CLOSE_TIMEOUT,
                max_size=16 * 1024 * 1024,
                proxy=None,
            )
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError, ValueError) as exc:
        reason = (
            "timed out during opening handshake" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        )
        return Recording(
            run_id=request.run_id,
            trigger_at=start,
            ended_at=clock(),
            end=RecordingEnd.CONNECT_FAILED,
            error=f"{type(exc).__name__}: {reason}",
        )

    end, close_code, close_reason = RecordingEnd.DEADLINE, None, ""
    received_bytes = 0
    # A backend in this process that blocks the event loop would stop the deadline from firing.
    async with connection, _interrupting(probe.deadline + 0.5):
        trigger_at = clock()
        deadline = trigger_at + probe.deadline
        terminal_seen_at: float | None = None
        try:
            # When the server closed first, what it sent before the close is still to be read below.
            with contextlib.suppress(ConnectionClosed):
                await asyncio.wait_for(connection.send(request.trigger), timeout=probe.deadline)
            while True:
                until = (
                    deadline if terminal_seen_at is None else min(deadline, terminal_seen_at + probe.linger_ms / 1000)
                )
                remaining = until - clock()
                if remaining <= 0:
                    end = RecordingEnd.DEADLINE if terminal_seen_at is None else RecordingEnd.TERMINAL
                    if end == RecordingEnd.DEADLINE:
                        # A server that missed the deadline may be hung or flooding: it would not answer a close.
                        connection.transport.abort()
                    break
                try:
                    # asyncio.timeout, not wait_for: no task per frame, which a flood would pay 10,000 times.
                    async with asyncio.timeout(remaining):
                        data = await connection.recv()
                except TimeoutError:
                    continue
                frames.append(Frame(received_at=clock(), data=data, received_wall=time.time()))
                received_bytes += len(data)
                if len(frames) >= MAX_FRAMES or received_bytes >= MAX_BYTES:
                    end = RecordingEnd.OVERFLOW
                    # A flooding server would answer our close frame only after everything it queued.
                    connection.transport.abort()
                    break
                if terminal_seen_at is None:
                    event_type, run_id = _frame_type(data, probe.type_field, probe.run_id_field)
                    if event_type == probe.terminal and (run_id is None or str(run_id) == request.run_id):
                        terminal_seen_at = clock()
        except ConnectionClosed as closed:
            end, close_code, close_reason = _closed(closed, terminal_seen_at is not None)
        except TimeoutError:
            end = RecordingEnd.DEADLINE
    return Recording(
        run_id=request.run_id,
        trigger_at=trigger_at,
        ended_at=clock(),
        frames=tuple(frames),
        end=end,
        close_code=close_code,
        close_reason=close_reason,
    )


def record_run_sync(
    request: ProbeRequest,
    probe: ProbeSettings,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Recording:
    """`record_run` with the synchronous `websockets.sync` client, for gevent (the Locust user) and threads.

    Same contract and limits: never raises for anything the server does; stops at the
    terminal event plus the linger, the deadline, a close, or `MAX_FRAMES`/`MAX_BYTES`.
    Under gevent's monkey patching its blocking socket calls yield to other greenlets,
    where ``asyncio.run()`` would fail with "cannot be called from a running event loop".
    """
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
    from websockets.sync.client import connect

    frames: list[Frame] = []
    start = clock()
    try:
        tls: dict[str, Any] = {"ssl": ssl_context} if ssl_context is not None else {}
        connection = connect(
            request.url,
            additional_headers=list(request.headers),
            **tls,
            open_timeout=probe.connect_timeout,
            close_timeout=1.0,
            max_size=16 * 1024 * 1024,
            proxy=None,
        )
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError, ValueError) as exc:
        reason = (
            "timed out during opening handshake" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        )
        return Recording(
            run_id=request.run_id,
            trigger_at=start,
            ended_at=clock(),
            end=RecordingEnd.CONNECT_FAILED,
            error=f"{type(exc).__name__}: {reason}",
        )

    end, close_code, close_reason = RecordingEnd.DEADLINE, None, ""
    received_bytes = 0
    with connection:
        trigger_at = clock()
        deadline = trigger_at + probe.deadline
        terminal_seen_at: float | None = None
        try:
            with contextlib.suppress(ConnectionClosed):
                connection.send(request.trigger)
            while True:
                until = (
                    deadline if terminal_seen_at is None else min(deadline, terminal_seen_at + probe.linger_ms / 1000)
                )
                remaining = until - clock()
                if remaining <= 0:
                    end = RecordingEnd.DEADLINE if terminal_seen_at is None else RecordingEnd.TERMINAL
                    break
                try:
                    data = connection.recv(timeout=remaining)
                except TimeoutError:
                    continue
                frames.append(Frame(received_at=clock(), data=data, received_wall=time.time()))
                received_bytes += len(data)
                if len(frames) >= MAX_FRAMES or received_bytes >= MAX_BYTES:
                    end = RecordingEnd.OVERFLOW
                    break
                if terminal_seen_at is None:
                    event_type, run_id = _frame_type(data, probe.type_field, probe.run_id_field)
                    if event_type == probe.terminal and (run_id is None or str(run_id) == request.run_id):
                        terminal_seen_at = clock()
        except ConnectionClosed as closed:
            end, close_code, close_reason = _closed(closed, terminal_seen_at is not None)
    return Recording(
        run_id=request.run_id,
        trigger_at=trigger_at,
        ended_at=clock(),
        frames=tuple(frames),
        end=end,
        close_code=close_code,
        close_reason=close_reason,
    )
