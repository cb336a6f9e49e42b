"""In-process backends that attack the process running them: they exit, block, leave threads, leak the token.

Each is a factory (or a boot context manager) a test names in a scratch
configuration, ``app = "tests.adversarial.backends:exit_in_factory"``.  Every test
that boots one that exits or blocks runs ``python -m wiringcheck`` in a subprocess
with a hard timeout, so the attack can only end that process, never the test run.

Every backend stops by itself: a blocking call is bounded (60 s at most, which the
subprocess's timeout cuts short), and a thread left behind ends after
`THREAD_LIFETIME` seconds.

The healthy part of each app is one WebSocket route, ``/ws``, that answers the
probe's trigger with the five events in order.  The blocking and exiting lines are
marked ``# BLOCKS HERE`` / ``# EXITS HERE`` so that a test can find their line
numbers and look for them in the evidence.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from .servers import EVENTS, token_forms_in_frames

__all__ = [
    "THREAD_LIFETIME",
    "blocking_boot",
    "blocks_in_shutdown",
    "cancelled_in_boot",
    "cancelled_in_factory",
    "custom_base_exception_in_lifespan",
    "custom_base_exception_in_shutdown",
    "echo_token",
    "exit_in_agent_task",
    "exit_in_factory",
    "exit_in_request",
    "exit_in_shutdown",
    "exit_in_startup",
    "healthy",
    "keyboard_interrupt_in_factory",
    "kills_itself_in_factory",
    "leaves_thread",
    "os_exit_in_factory",
    "os_exit_in_request",
    "prints_the_token",
    "sleeps_in_factory",
    "types_with_a_delete_character",
    "types_with_a_lone_surrogate",
]

logger = logging.getLogger("hostile.backend")

THREAD_LIFETIME = 30.0
"""Seconds the non-daemon thread `leaves_thread` starts keeps running (then it ends by itself)."""

_BLOCK = 60.0
"""Seconds a blocking call lasts: far beyond any startup or shutdown timeout the tests set."""


async def _five_events(websocket: WebSocket) -> None:
    await websocket.accept()
    message = await websocket.receive_json()
    for name in EVENTS:
        await websocket.send_text(json.dumps({"type": name, "run_id": message.get("run_id"), "timestamp": time.time()}))
    await _until_closed(websocket)


async def _until_closed(websocket: WebSocket) -> None:
    """Wait for the client to close, at most 10 s."""
    try:
        async with asyncio.timeout(10):
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
    except (TimeoutError, RuntimeError):
        return


Lifespan = Callable[[Starlette], Any]


def _app(socket_handler: Callable[[WebSocket], Awaitable[None]] = _five_events, *, lifespan: Lifespan | None = None):
    return Starlette(routes=[WebSocketRoute("/ws", socket_handler)], lifespan=lifespan)


def healthy() -> Starlette:
    """A backend that does everything right (the control of the other backends)."""
    return _app()


# -- secrets ---------------------------------------------------------------------------------------


async def _echo_token(websocket: WebSocket) -> None:
    token = websocket.query_params.get("token") or websocket.headers.get("authorization", "").removeprefix("Bearer ")
    await websocket.accept()
    message = await websocket.receive_json()
    logger.warning("rejecting client with token Bearer %s", token)
    run_id = message.get("run_id")
    await websocket.send_text(json.dumps({"type": "agent_started", "run_id": run_id, "detail": f"hello {token}"}))
    for index, text in enumerate(token_forms_in_frames(token)):
        # One log line per form, each its own message (so each is a finding of its own, shown whole).
        logger.warning(f"echo {index}: {text}")
        await websocket.send_text(text)
    reason = f"unauthorized token={token}"
    while len(reason.encode("utf-8")) > 123:
        reason = reason[:-1]
    await websocket.close(code=4401, reason=reason)


def echo_token() -> Starlette:
    """Logs the token it received as a warning (WC105), echoes it in frames, closes with it in the reason."""
    return _app(_echo_token)


PRINTED = "backend says: not JSON {"
"""The start of every line `prints_the_token` prints: what would break a JSON report on stdout."""


async def _fails_with(token: str) -> None:
    await asyncio.sleep(0)
    raise RuntimeError(f"agent crashed holding token {token}")


async def _print_and_echo(websocket: WebSocket) -> None:
    token = websocket.query_params.get("token", "")
    print(f"{PRINTED} request with token {token}")  # noqa: T201 (printing is the attack)
    print(f"{PRINTED} to stderr: {token}", file=sys.stderr)  # noqa: T201
    sys.stdout.buffer.write(f"{PRINTED} raw bytes {token}\n".encode())
    logging.getLogger("hostile.printer").error("request with token %s", token)
    asyncio.get_running_loop().create_task(_fails_with(token))  # no reference kept: its exception is never retrieved
    await _five_events(websocket)


@asynccontextmanager
async def _print_on_startup(app: Starlette) -> AsyncIterator[None]:
    token = os.environ.get("WC_ADV_TOKEN", "")
    print(f"{PRINTED} starting with token {token}")  # noqa: T201
    logging.getLogger("hostile.printer").warning("startup saw token %s", token)
    yield
    print(f"{PRINTED} stopping with token {token}", file=sys.stderr)  # noqa: T201


def prints_the_token() -> Starlette:
    """A healthy backend that prints the token to stdout and stderr (also as bytes), logs it with no handler
    configured, and leaves a task's exception holding it unretrieved: at startup, in each request, at shutdown."""
    token = os.environ.get("WC_ADV_TOKEN", "")
    print(f"{PRINTED} factory with token {token}")  # noqa: T201
    return _app(_print_and_echo, lifespan=_print_on_startup)


# -- exits -----------------------------------------------------------------------------------------


def exit_in_factory() -> Starlette:
    """The app factory calls sys.exit(0)."""
    sys.exit(0)  # EXITS HERE


def os_exit_in_factory() -> Starlette:
    """The app factory calls os._exit(0): the process ends at once, with status 0, unless something outside watches."""
    print("about to end the process")  # noqa: T201 (its last words)
    sys.stdout.flush()
    os._exit(0)  # EXITS HERE


async def _os_exit_on_trigger(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_json()
    os._exit(0)  # EXITS HERE


def os_exit_in_request() -> Starlette:
    """The WebSocket handler calls os._exit(0) when the trigger arrives: after boot, during the probe."""
    return _app(_os_exit_on_trigger)


def kills_itself_in_factory() -> Starlette:
    """The app factory sends itself SIGKILL (what the OOM killer does): no Python code runs after it."""
    os.kill(os.getpid(), signal.SIGKILL)  # EXITS HERE
    return _app()


@asynccontextmanager
async def _exit_on_startup(app: Starlette) -> AsyncIterator[None]:
    sys.exit(0)  # EXITS HERE
    yield


def exit_in_startup() -> Starlette:
    """The lifespan's startup calls sys.exit(0)."""
    return _app(lifespan=_exit_on_startup)


async def _exit_on_trigger(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_json()
    sys.exit(0)  # EXITS HERE


def exit_in_request() -> Starlette:
    """The WebSocket handler calls sys.exit(0) when the trigger arrives."""
    return _app(_exit_on_trigger)


async def _agent_exits() -> None:
    await asyncio.sleep(0)
    sys.exit(0)  # EXITS HERE


_tasks: set[asyncio.Task[None]] = set()


async def _exit_in_task(websocket: WebSocket) -> None:
    await websocket.accept()
    message = await websocket.receive_json()
    await websocket.send_text(json.dumps({"type": "agent_started", "run_id": message.get("run_id")}))
    task = asyncio.create_task(_agent_exits(), name="agent-run")
    _tasks.add(task)
    await _until_closed(websocket)


def exit_in_agent_task() -> Starlette:
    """The agent run, a background task the handler started, calls sys.exit(0)."""
    return _app(_exit_in_task)


@asynccontextmanager
async def _exit_on_shutdown(app: Starlette) -> AsyncIterator[None]:
    yield
    sys.exit(0)  # EXITS HERE


def exit_in_shutdown() -> Starlette:
    """A healthy backend whose lifespan shutdown calls sys.exit(0)."""
    return _app(lifespan=_exit_on_shutdown)


# -- BaseException that is not an exit ------------------------------------------------------------


class Abandon(BaseException):
    """A backend's own BaseException subclass: `except Exception` lets it through."""


def cancelled_in_factory() -> Starlette:
    """The app factory raises asyncio.CancelledError (a BaseException) that no one asked for."""
    raise asyncio.CancelledError("the factory gave up")  # EXITS HERE


@asynccontextmanager
async def _abandon_on_startup(app: Starlette) -> AsyncIterator[None]:
    raise Abandon("startup abandoned")  # EXITS HERE
    yield


def custom_base_exception_in_lifespan() -> Starlette:
    """The lifespan's startup raises a BaseException subclass of the backend's own."""
    return _app(lifespan=_abandon_on_startup)


@asynccontextmanager
async def cancelled_in_boot() -> AsyncIterator[BootHandle]:
    """A boot context manager that raises asyncio.CancelledError itself while starting."""
    raise asyncio.CancelledError("boot cancelled itself")  # EXITS HERE
    yield BootHandle(ws_url="ws://127.0.0.1:9/ws")


def keyboard_interrupt_in_factory() -> Starlette:
    """The app factory raises KeyboardInterrupt."""
    raise KeyboardInterrupt  # EXITS HERE


@asynccontextmanager
async def _abandon_on_shutdown(app: Starlette) -> AsyncIterator[None]:
    yield
    raise Abandon("shutdown abandoned")


def custom_base_exception_in_shutdown() -> Starlette:
    """A healthy backend whose lifespan shutdown raises a BaseException subclass of its own."""
    return _app(lifespan=_abandon_on_shutdown)


# -- frames with names no protocol has -------------------------------------------------------------


def _typed(kind: str) -> Callable[[WebSocket], Awaitable[None]]:
    """A handler answering the trigger with the five events, their types spelled by `kind` (a JSON text)."""

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        message = await websocket.receive_json()
        for name in EVENTS:
            await websocket.send_text(f'{{"type": {kind % name}, "run_id": {json.dumps(message.get("run_id"))}}}')
        await _until_closed(websocket)

    return handler


def types_with_a_delete_character() -> Starlette:
    """Its events' types hold a DEL (U+007F): ``"agent\\u007fstarted"``."""
    return _app(_typed('"%s\\u007f"'))


def types_with_a_lone_surrogate() -> Starlette:
    """Its events' types hold a lone surrogate (U+D800), which no UTF-8 file can hold."""
    return _app(_typed('"%s\\ud800"'))


# -- threads ---------------------------------------------------------------------------------------

_thread_stop = threading.Event()


def leaves_thread() -> Starlette:
    """A healthy backend that starts a non-daemon thread and never stops it (it ends after THREAD_LIFETIME)."""
    threading.Thread(target=_thread_stop.wait, args=(THREAD_LIFETIME,), name="left-behind", daemon=False).start()
    return _app()


# -- blocking --------------------------------------------------------------------------------------


def sleeps_in_factory() -> Starlette:
    """The app factory blocks the event loop's thread in time.sleep."""
    time.sleep(_BLOCK)  # BLOCKS HERE
    return _app()


@dataclass
class BootHandle:
    ws_url: str


@asynccontextmanager
async def blocking_boot() -> AsyncIterator[BootHandle]:
    """A boot context manager that blocks on a socket read no one will ever answer."""
    reader, writer = socket.socketpair()
    with reader, writer:
        reader.settimeout(_BLOCK)
        reader.recv(1)  # BLOCKS HERE
        yield BootHandle(ws_url="ws://127.0.0.1:9/ws")


@asynccontextmanager
async def _sleep_on_shutdown(app: Starlette) -> AsyncIterator[None]:
    yield
    time.sleep(_BLOCK)  # BLOCKS HERE  # noqa: ASYNC251 (blocking is the attack)


def blocks_in_shutdown() -> Starlette:
    """A healthy backend whose lifespan shutdown blocks in time.sleep."""
    return _app(lifespan=_sleep_on_shutdown)
