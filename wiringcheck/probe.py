"""The probe: a real `websockets` client that starts one agent run and records what arrives.

It judges nothing.  It runs the setup steps (`setup_steps.py`), connects with the
configured credentials (query, header, subprotocol, first message, cookie), sends
the trigger, and appends every frame with its receive time until the terminal
event (plus a short linger, so that events sent after the terminal one are seen),
an error terminal (at once: a backend that signals failure never costs the
deadline), the deadline, or the server closing.  It reads frames through the same
protocol model as the checker, so both agree on which frame ends the run.  Every
await is bounded; a timeout or a refusal is recorded in the `Recording`, never raised.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from wiringcheck.containment import interrupting_after
from wiringcheck.events import Frame, Recording, RecordingEnd
from wiringcheck.protocol import Kind, RunTracker, decode_frame, parse_matcher, render_trigger
from wiringcheck.runrules import stall_after

if TYPE_CHECKING:
    import ssl

    from wiringcheck.config import ProbeSettings

__all__ = [
    "AUTH_CLOSE_CODES",
    "ProbeRequest",
    "build_request",
    "http_base",
    "placeholders",
    "record_run",
    "record_run_sync",
    "render_trigger",
    "start_run",
    "token_forms",
]

AUTH_CLOSE_CODES = frozenset({1008, 4001, 4003, 4401, 4403})
"""Close codes that, right after connecting and before any event, mean "your credentials were refused"."""


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """Everything needed to start one run: where, with which credentials, and what to send.

    Attributes:
        secrets: credentials a setup step received this run (the configured tokens are known to
            `Secrets.from_settings` already); whoever reports on the run scrubs them.
        server_run_id: the run id a setup step captured, for ``run_id = "server"``.
    """

    url: str
    headers: tuple[tuple[str, str], ...]
    trigger: str
    run_id: str
    secret: str | None = None
    subprotocols: tuple[str, ...] = ()
    first_message: str | None = None
    auth_method: str | None = None
    secrets: tuple[str, ...] = ()
    server_run_id: str | None = None
    ids: tuple[tuple[str, str], ...] = ()
    """The ids this run sent, by kind (user, thread, run), for the identifier cross-check."""


def token_forms(token: str) -> tuple[str, ...]:
    """The token and its base64url form (how a subprotocol carries it), for placing and for scrubbing."""
    b64 = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
    return (token, b64)


def placeholders(probe: ProbeSettings, *, run_id: str | None = None) -> dict[str, str]:
    """The placeholders every run starts with: a fresh run id and thread id, and the user id."""
    return {
        "run_id": run_id or f"wc-{uuid.uuid4().hex[:12]}",
        "thread_id": f"wc-thread-{uuid.uuid4().hex[:8]}",
        "user_id": probe.user_id,
    }


def build_request(
    url: str,
    probe: ProbeSettings,
    environ: Mapping[str, str],
    *,
    run_id: str | None = None,
    values: Mapping[str, str] | None = None,
    secrets: tuple[str, ...] = (),
    server_run_id: str | None = None,
) -> ProbeRequest:
    """The URL, headers, subprotocols, first message and trigger of one run, with the token placed as configured.

    `values` are the run's placeholders (a setup step's captures among them); they fill
    the URL (``/runs/{run_id}``), the trigger and the auth templates.
    """
    filled = dict(values) if values is not None else placeholders(probe, run_id=run_id)
    run_id = filled["run_id"]
    url = render_trigger(url, filled)
    trigger = json.dumps(render_trigger(probe.trigger, filled))
    headers: list[tuple[str, str]] = []
    auth = probe.auth
    secret = auth.resolve(environ) if auth.enabled else None
    subprotocols: tuple[str, ...] = ()
    first_message = None
    if secret is not None:
        raw, b64 = token_forms(secret)
        with_token = {**filled, "token": raw, "token_b64url": b64}
        if auth.query:
            parts = urlsplit(url)
            query = [*parse_qsl(parts.query, keep_blank_values=True), (auth.query, secret)]
            url = urlunsplit(parts._replace(query=urlencode(query)))
        elif auth.header:
            headers.append((auth.header, auth.header_value(secret)))
        elif auth.subprotocol:
            subprotocols = (render_trigger(auth.subprotocol, with_token),)
        elif auth.first_message is not None:
            first_message = json.dumps(render_trigger(auth.first_message, with_token))
        elif auth.cookie:
            headers.append(("Cookie", f"{auth.cookie}={secret}"))
    return ProbeRequest(
        url=url,
        headers=tuple(headers),
        trigger=trigger,
        run_id=run_id,
        secret=secret,
        subprotocols=subprotocols,
        first_message=first_message,
        auth_method=auth.method if secret is not None else None,
        secrets=tuple(value for value in secrets if value),
        server_run_id=server_run_id if probe.run_id == "server" else None,
        ids=(("user", filled.get("user_id", probe.user_id)), ("thread", filled.get("thread_id", "")), ("run", run_id)),
    )


def http_base(ws_url: str, http_url: str | None = None) -> str:
    """Where setup steps go: `http_url`, or the WebSocket URL's origin over http(s)."""
    if http_url:
        return http_url.rstrip("/")
    parts = urlsplit(ws_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return urlunsplit((scheme, parts.netloc, "", "", ""))


async def start_run(
    ws_url: str,
    probe: ProbeSettings,
    environ: Mapping[str, str],
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
    run_id: str | None = None,
    before_trigger: Callable[[], Awaitable[None]] | None = None,
) -> Recording:
    """One whole run: the setup steps (afresh), then connect, trigger and record.

    A failed setup step is the recording's ``setup_failed`` end, with the reason in `error`.
    `before_trigger` is `record_run`'s (all users of an isolation check start at once).
    """
    values = placeholders(probe, run_id=run_id)
    secrets: tuple[str, ...] = ()
    captured: dict[str, str] = {}
    if probe.setup:
        from wiringcheck.setup_steps import SetupFailed, run_setup

        started = clock()
        try:
            captured, secrets = await run_setup(
                probe.setup,
                base_url=http_base(ws_url, probe.http_url),
                values=values,
                environ=environ,
                ssl_context=ssl_context,
            )
        except SetupFailed as exc:
            return Recording(
                run_id=values["run_id"],
                trigger_at=started,
                ended_at=clock(),
                end=RecordingEnd.SETUP_FAILED,
                error=str(exc),
                secrets=exc.secrets,
            )
        values.update(captured)
    request = build_request(
        ws_url, probe, environ, values=values, secrets=secrets, server_run_id=captured.get("run_id")
    )
    return await record_run(request, probe, ssl_context=ssl_context, clock=clock, before_trigger=before_trigger)


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


def _rejected(request: ProbeRequest, start: float, now: float, error: str) -> Recording:
    return Recording(
        run_id=request.run_id,
        trigger_at=start,
        ended_at=now,
        end=RecordingEnd.AUTH_REJECTED,
        error=error,
        auth_method=request.auth_method,
        secrets=request.secrets,
    )


async def record_run(
    request: ProbeRequest,
    probe: ProbeSettings,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
    before_trigger: Callable[[], Awaitable[None]] | None = None,
) -> Recording:
    """Connect, authenticate, send the trigger, and record frames until the run ends.

    Never raises for anything the server does: a refused connection, refused credentials,
    a failed handshake, an error terminal, a close or a timeout is the recording's `end`.
    `before_trigger` is awaited once connected and authenticated, before the trigger is
    sent (an isolation check starts all users at once). A run that can no longer pass
    stops early (`RecordingEnd.STALLED`, `runrules.stall_after`).
    """
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

    protocol = probe.protocol()
    frames: list[Frame] = []
    start = clock()
    try:
        async with asyncio.timeout(probe.connect_timeout):
            # websockets rejects ssl=None for a wss:// URI: pass a context only when one is given.
            options: dict[str, Any] = {"ssl": ssl_context} if ssl_context is not None else {}
            if request.subprotocols:
                options["subprotocols"] = list(request.subprotocols)
            connection = await connect(
                request.url,
                additional_headers=list(request.headers),
                **options,
                open_timeout=None,
                close_timeout=CLOSE_TIMEOUT,
                max_size=16 * 1024 * 1024,
                proxy=None,
            )
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError, ValueError) as exc:
        if isinstance(exc, InvalidStatus) and request.auth_method and exc.response.status_code in (401, 403):
            return _rejected(request, start, clock(), f"HTTP {exc.response.status_code} on the WebSocket upgrade")
        reason = (
            "timed out during opening handshake" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        )
        return Recording(
            run_id=request.run_id,
            trigger_at=start,
            ended_at=clock(),
            end=RecordingEnd.CONNECT_FAILED,
            error=f"{type(exc).__name__}: {reason}",
            secrets=request.secrets,
        )

    end, close_code, close_reason = RecordingEnd.DEADLINE, None, ""
    received_bytes = 0
    # A backend in this process that blocks the event loop would stop the deadline from firing.
    trigger_at = clock()
    async with connection, _interrupting(2 * probe.connect_timeout + probe.deadline + 0.5):
        if request.first_message is not None:
            try:
                async with asyncio.timeout(probe.connect_timeout):
                    await connection.send(request.first_message)
                    if probe.auth.ack is not None:
                        ack = parse_matcher(probe.auth.ack, protocol.type_path)
                        while True:  # frames before the acknowledgement are not part of the run
                            reply = await connection.recv()
                            if any(ack.matches(item.message) for item in decode_frame(protocol, reply)):
                                break
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else 1006
                reason = f" ({closed.rcvd.reason})" if closed.rcvd is not None and closed.rcvd.reason else ""
                return _rejected(request, start, clock(), f"the server closed with code {code}{reason} after it")
            except TimeoutError:
                return _rejected(request, start, clock(), f"no acknowledgement within {probe.connect_timeout:g} s")
        if before_trigger is not None:
            await before_trigger()
        trigger_at = clock()
        deadline = trigger_at + probe.deadline
        terminal_seen_at: float | None = None
        tracker = RunTracker(protocol, request.server_run_id if protocol.correlation == "server" else request.run_id)
        # A run that can no longer pass stops early: nothing of it arrived for longer than it may be silent.
        stall = stall_after(probe.budget_ms, probe.gap_bound)
        progress_at = trigger_at
        try:
            # When the server closed first, what it sent before the close is still to be read below.
            with contextlib.suppress(ConnectionClosed):
                await asyncio.wait_for(connection.send(request.trigger), timeout=probe.deadline)
            while True:
                until = (
                    deadline if terminal_seen_at is None else min(deadline, terminal_seen_at + probe.linger_ms / 1000)
                )
                stalls_at = progress_at + stall if stall is not None and terminal_seen_at is None else deadline
                remaining = min(until, stalls_at) - clock()
                if remaining <= 0:
                    end = RecordingEnd.DEADLINE if terminal_seen_at is None else RecordingEnd.TERMINAL
                    if terminal_seen_at is None and stalls_at < deadline:
                        end = RecordingEnd.STALLED
                    if end in (RecordingEnd.DEADLINE, RecordingEnd.STALLED):
                        # A server that missed the deadline (or went silent) may be hung or flooding:
                        # it would not answer a close.
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
                    items = [item for item in decode_frame(protocol, data) if tracker.owns(item)]
                    if any(item.kind is Kind.ERROR for item in items):
                        end = RecordingEnd.ERROR
                        break
                    if any(item.kind is Kind.EVENT for item in items):
                        progress_at = frames[-1].received_at
                    if any(item.kind is Kind.EVENT and item.role == protocol.terminal for item in items):
                        terminal_seen_at = clock()
        except ConnectionClosed as closed:
            end, close_code, close_reason = _closed(closed, terminal_seen_at is not None)
            if end == RecordingEnd.CLOSED and not frames and request.auth_method and close_code in AUTH_CLOSE_CODES:
                reason = f" ({close_reason})" if close_reason else ""
                return _rejected(request, start, clock(), f"the server closed with code {close_code}{reason}")
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
        server_run_id=request.server_run_id,
        auth_method=request.auth_method,
        secrets=request.secrets,
        ids=request.ids,
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
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
    from websockets.sync.client import connect

    protocol = probe.protocol()
    frames: list[Frame] = []
    start = clock()
    try:
        tls: dict[str, Any] = {"ssl": ssl_context} if ssl_context is not None else {}
        if request.subprotocols:
            tls["subprotocols"] = list(request.subprotocols)
        connection = connect(
            request.url,
            additional_headers=list(request.headers),
            **tls,
            open_timeout=probe.connect_timeout,
            close_timeout=CLOSE_TIMEOUT,
            max_size=16 * 1024 * 1024,
            proxy=None,
        )
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError, ValueError) as exc:
        if isinstance(exc, InvalidStatus) and request.auth_method and exc.response.status_code in (401, 403):
            return _rejected(request, start, clock(), f"HTTP {exc.response.status_code} on the WebSocket upgrade")
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
        if request.first_message is not None:
            try:  # as record_run: the trigger waits for the acknowledgement, and a refusal is WC413
                connection.send(request.first_message)
                if probe.auth.ack is not None:
                    ack = parse_matcher(probe.auth.ack, protocol.type_path)
                    give_up = clock() + probe.connect_timeout
                    while not any(
                        ack.matches(item.message)
                        for item in decode_frame(protocol, connection.recv(timeout=max(give_up - clock(), 0.001)))
                    ):
                        pass
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else 1006
                return _rejected(request, start, clock(), f"the server closed with code {code} after it")
            except TimeoutError:
                return _rejected(request, start, clock(), f"no acknowledgement within {probe.connect_timeout:g} s")
        trigger_at = clock()
        deadline = trigger_at + probe.deadline
        terminal_seen_at: float | None = None
        tracker = RunTracker(protocol, request.server_run_id if protocol.correlation == "server" else request.run_id)
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
                    items = [item for item in decode_frame(protocol, data) if tracker.owns(item)]
                    if any(item.kind is Kind.ERROR for item in items):
                        end = RecordingEnd.ERROR
                        break
                    if any(item.kind is Kind.EVENT and item.role == protocol.terminal for item in items):
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
        server_run_id=request.server_run_id,
        auth_method=request.auth_method,
        ids=request.ids,
        secrets=request.secrets,
    )
