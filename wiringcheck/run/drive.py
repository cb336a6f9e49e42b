"""One whole run, made: the setup steps, the request, the session, and the transport that drives it.

`perform` (asyncio) and `perform_sync` (threads, gevent) are the only two ways wiringcheck
makes a run; every entry point calls one of them.  Both do the same three things: run
the setup steps afresh (`SetupSteps`, through httpx), build the request once
(`build_request`: auth, captures, trigger, bounds), and let the transport drive a
`RunSession` until it is done.  Neither raises for anything the server does: a failed
setup step, a refused connection or a timeout is the recording's `end`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from wiringcheck.run.recording import NOT_STARTED, Recording, RecordingEnd
from wiringcheck.run.request import RunRequest, build_request, http_base, placeholders, run_url
from wiringcheck.run.session import RunSession
from wiringcheck.run.setup import BODY_LIMIT, SetupFailed, SetupSteps

if TYPE_CHECKING:
    import ssl

    from wiringcheck.config import ProbeSettings
    from wiringcheck.protocol import Protocol

__all__ = [
    "WARMUP_PHASE",
    "perform",
    "perform_sync",
    "perform_users",
    "preload",
    "run_bound",
    "warm_up",
    "warm_up_sync",
]

_SPARE = 2.0
"""Seconds past every configured bound before the last line of defence cuts a run off."""


def _transport(transport: str, *, sync: bool) -> ModuleType:
    """The module of `run.transports` that drives `transport` (a WebSocket has a module of its own without asyncio)."""
    name = {"websocket": "websocket_sync" if sync else "websocket", "socketio": "socketio"}.get(transport, "http")
    return importlib.import_module(f"wiringcheck.run.transports.{name}")


def preload(probe: ProbeSettings, *, sync: bool = False) -> None:
    """Import what `perform` will need for runs of `probe`, before any clock runs.

    A load worker's users share one loop: the first run's imports (httpx for a setup step,
    h11 and httpx-sse for a stream: 0.2 s of CPU) would hold every user's frames back and be
    reported as the client's own saturation (WC506). Each transport module names what it
    imports lazily (`LIBRARIES`); a library that is not installed is left for the run to report.
    """
    for name in (*_transport(probe.transport, sync=sync).LIBRARIES, *(("httpx",) if probe.setup else ())):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def run_bound(probe: ProbeSettings) -> float:
    """The longest one run may take, setup steps included: the last line of defence, past every bound of its own."""
    return 2 * probe.connect_timeout + probe.deadline + sum(step.timeout for step in probe.setup) + _SPARE


def _setup_failed(run_id: str, started: float, now: float, failure: SetupFailed) -> Recording:
    return Recording(
        run_id=run_id,
        trigger_at=started,
        ended_at=now,
        end=RecordingEnd.SETUP_FAILED,
        error=str(failure),
        secrets=failure.secrets,
    )


def _request(
    url: str,
    probe: ProbeSettings,
    environ: Mapping[str, str],
    steps: SetupSteps | None,
    values: dict[str, str],
    **options: Any,
) -> RunRequest:
    captured = steps.captured if steps is not None else {}
    return build_request(
        url,
        probe,
        environ,
        values=steps.values if steps is not None else values,
        secrets=tuple(steps.secrets) if steps is not None else (),
        server_run_id=captured.get("run_id"),
        **options,
    )


async def perform(
    url: str,
    probe: ProbeSettings,
    environ: Mapping[str, str],
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
    run_id: str | None = None,
    before_trigger: Callable[[], Awaitable[None]] | None = None,
    earlier_runs: tuple[str, ...] = (),
    protocol: Protocol | None = None,
) -> Recording:
    """One whole run, on the running event loop: setup steps, then connect, trigger and record.

    `before_trigger` is awaited once connected and authenticated (an isolation check starts
    all users at once); `earlier_runs` are the same user's earlier runs (load);
    `protocol` saves rebuilding the protocol model run after run.
    """
    values = placeholders(probe, run_id=run_id)
    url = run_url(probe, url)
    steps: SetupSteps | None = None
    started = clock()
    if probe.setup:
        steps = SetupSteps(probe.setup, base_url=http_base(url, probe.http_url), values=values, environ=environ)
        try:
            await _setup(steps, ssl_context)
        except SetupFailed as failure:
            return _setup_failed(values["run_id"], started, clock(), failure)
    request = _request(url, probe, environ, steps, values, earlier_runs=earlier_runs, protocol=protocol)
    session = RunSession(request)
    try:
        async with asyncio.timeout(run_bound(probe)):
            await _drive(session, ssl_context=ssl_context, clock=clock, before_trigger=before_trigger)
    except TimeoutError:  # every await of the transport is bounded; this is the last line of defence
        session.interrupted(clock())
    return session.recording()


async def _drive(
    session: RunSession,
    *,
    ssl_context: ssl.SSLContext | None,
    clock: Callable[[], float],
    before_trigger: Callable[[], Awaitable[None]] | None,
) -> None:
    """The transport the request names drives the session."""
    transport = _transport(session.request.transport, sync=False)
    await transport.drive(session, ssl_context=ssl_context, clock=clock, before_trigger=before_trigger)


def perform_sync(
    url: str,
    probe: ProbeSettings,
    environ: Mapping[str, str],
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
    run_id: str | None = None,
    earlier_runs: tuple[str, ...] = (),
    protocol: Protocol | None = None,
) -> Recording:
    """`perform` without asyncio, for threads and gevent greenlets (the Locust user): same run, same bounds."""
    values = placeholders(probe, run_id=run_id)
    url = run_url(probe, url)
    steps: SetupSteps | None = None
    started = clock()
    if probe.setup:
        steps = SetupSteps(probe.setup, base_url=http_base(url, probe.http_url), values=values, environ=environ)
        try:
            _setup_sync(steps, ssl_context)
        except SetupFailed as failure:
            return _setup_failed(values["run_id"], started, clock(), failure)
    request = _request(url, probe, environ, steps, values, earlier_runs=earlier_runs, protocol=protocol)
    session = RunSession(request)
    transport = _transport(request.transport, sync=True)
    drive = transport.drive if request.transport == "websocket" else transport.drive_sync
    drive(session, ssl_context=ssl_context, clock=clock)
    return session.recording()


WARMUP_PHASE = "warm-up"
"""The phase an observer is told of before each unjudged run (`before_each`)."""

WARMUP_STOPS = (RecordingEnd.CONNECT_FAILED, RecordingEnd.AUTH_REJECTED)
"""How a warm-up run ends that makes the next ones pointless: the judged runs will say why, with their findings."""


async def warm_up(
    url: str,
    probe: ProbeSettings,
    environ: Mapping[str, str],
    *,
    ssl_context: ssl.SSLContext | None = None,
    before_each: Callable[[], None] | None = None,
) -> None:
    """`probe.warmup` unjudged runs, one after the other, for a server whose first runs pay for lazy imports.

    What they sent and how they went are nobody's findings; the first that cannot connect ends them.
    """
    for _ in range(probe.warmup):
        if before_each is not None:
            before_each()
        if (await perform(url, probe, environ, ssl_context=ssl_context)).end in WARMUP_STOPS:
            return


def warm_up_sync(
    url: str, probe: ProbeSettings, environ: Mapping[str, str], *, ssl_context: ssl.SSLContext | None = None
) -> None:
    """`warm_up` without asyncio (the Locust user)."""
    for _ in range(probe.warmup):
        if perform_sync(url, probe, environ, ssl_context=ssl_context).end in WARMUP_STOPS:
            return


async def perform_users(
    url: str,
    probes: Sequence[ProbeSettings],
    environ: Mapping[str, str],
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float],
) -> list[Recording]:
    """Each user's run at once: every user connects (and authenticates) first, then all triggers go out together.

    A user that cannot connect never holds the others back longer than the connect timeout.
    """
    if len(probes) == 1:
        return [await perform(url, probes[0], environ, ssl_context=ssl_context, clock=clock)]
    barrier = asyncio.Barrier(len(probes))
    connect_timeout = max(probe.connect_timeout for probe in probes)

    async def all_connected() -> None:
        with contextlib.suppress(TimeoutError, asyncio.BrokenBarrierError):
            async with asyncio.timeout(connect_timeout):
                await barrier.wait()

    async def one(probe: ProbeSettings) -> Recording:
        recording = await perform(
            url, probe, environ, ssl_context=ssl_context, clock=clock, before_trigger=all_connected
        )
        if recording.end in NOT_STARTED:
            await barrier.abort()
        return recording

    return list(await asyncio.gather(*(one(probe) for probe in probes)))


# -- setup steps over HTTP -------------------------------------------------------------------------


def _verify(steps: SetupSteps, ssl_context: ssl.SSLContext | None) -> Any:
    """What httpx verifies with: the given context, else the system's, built only when a step uses https."""
    if ssl_context is not None:
        return ssl_context
    if steps.encrypted:
        return True
    import ssl

    # Building a default TLS context costs tens of milliseconds: never used over http://, so an empty one.
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


async def _setup(steps: SetupSteps, ssl_context: ssl.SSLContext | None) -> None:
    import httpx

    async with httpx.AsyncClient(verify=_verify(steps, ssl_context), trust_env=False, follow_redirects=False) as client:
        while (call := steps.next_call()) is not None:
            try:
                async with asyncio.timeout(call.timeout):
                    async with client.stream(
                        call.method,
                        call.url,
                        json=call.json,
                        headers=call.headers,
                        params=call.params or None,
                        timeout=call.timeout,
                    ) as response:
                        body = bytearray()
                        async for chunk in response.aiter_bytes():
                            body += chunk
                            if len(body) > BODY_LIMIT:
                                break
            except TimeoutError:
                raise steps.failed(f"no answer within {call.timeout:g} s") from None
            except httpx.HTTPError as exc:
                raise steps.failed(f"{type(exc).__name__}: {exc}") from None
            steps.answered(response.status_code, bytes(body[:BODY_LIMIT]), complete=len(body) <= BODY_LIMIT)


def _setup_sync(steps: SetupSteps, ssl_context: ssl.SSLContext | None) -> None:
    import httpx

    with httpx.Client(verify=_verify(steps, ssl_context), trust_env=False, follow_redirects=False) as client:
        while (call := steps.next_call()) is not None:
            try:
                with client.stream(
                    call.method,
                    call.url,
                    json=call.json,
                    headers=call.headers,
                    params=call.params or None,
                    timeout=call.timeout,
                ) as response:
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > BODY_LIMIT:
                            break
            except httpx.TimeoutException:
                raise steps.failed(f"no answer within {call.timeout:g} s") from None
            except httpx.HTTPError as exc:
                raise steps.failed(f"{type(exc).__name__}: {exc}") from None
            steps.answered(response.status_code, bytes(body[:BODY_LIMIT]), complete=len(body) <= BODY_LIMIT)
