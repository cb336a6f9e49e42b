"""A python-socketio server that misbehaves on request, served by uvicorn on loopback in a thread of its own.

The trigger's ``do`` says what the server does with it (``"events"`` answers with the five
default events, ``"flood"``, ``"disconnect"``, ``"silent"``; ``"shapes"``, ``"burst"`` and
``"echo"`` end with the terminal ``agent_completed``); the auth payload's ``do = "hang"``
keeps the namespace's answer back (the connect handler waits), ``do = "refuse"`` refuses
with a reason.  Everything runs on the namespaces ``/`` and ``/chat``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tests.conftest import MS

if TYPE_CHECKING:
    import socketio

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
FLOOD = 400
"""Events the flood sends: far more than the frame cap the flood tests give the session."""


def create_app() -> socketio.ASGIApp:
    import socketio  # imported when served, not when the tests that use it are collected (0.3 s)

    sio = socketio.AsyncServer(async_mode="asgi", logger=False, engineio_logger=False)

    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        do = auth.get("do") if isinstance(auth, dict) else None
        if do == "refuse":
            raise socketio.exceptions.ConnectionRefusedError("not today", {"retry": False})
        if do == "hang":
            await asyncio.sleep(1000 * MS)  # longer than any connect timeout the tests give

    async def trigger(sid: str, data: Any, namespace: str) -> None:
        do = data.get("do") if isinstance(data, dict) else None
        run_id = data.get("run_id") if isinstance(data, dict) else None
        if do == "events":
            for event in EVENTS:
                await sio.emit(event, {"run_id": run_id}, to=sid, namespace=namespace)
        elif do == "flood":
            for index in range(FLOOD):
                await sio.emit("agent_thinking", {"run_id": run_id, "n": index}, to=sid, namespace=namespace)
        elif do == "burst":  # queued back to back, read by the client many to a packet: reordering shows
            for index in range(200):
                await sio.emit("tick", {"n": index}, to=sid, namespace=namespace)
        elif do == "disconnect":
            await sio.emit("agent_started", {"run_id": run_id}, to=sid, namespace=namespace)
            await sio.disconnect(sid, namespace=namespace)
        elif do == "shapes":
            await sio.emit("bare", to=sid, namespace=namespace)
            await sio.emit("text", "hello", to=sid, namespace=namespace)
            await sio.emit("several", [1, 2], to=sid, namespace=namespace)
            await sio.emit("binary", b"\x00\x01", to=sid, namespace=namespace)
            await sio.emit("two", ({"a": 1}, {"b": 2}), to=sid, namespace=namespace)
        elif do == "echo":
            await sio.emit("echo", {"got": data, "namespace": namespace}, to=sid, namespace=namespace)
        if do in ("burst", "shapes", "echo"):
            await sio.emit("agent_completed", to=sid, namespace=namespace)
        # "silent": nothing at all

    def handler(namespace: str) -> Any:
        async def handle(sid: str, data: Any = None) -> None:
            await trigger(sid, data, namespace)

        return handle

    for namespace in ("/", "/chat"):
        sio.on("connect", connect, namespace=namespace)
        for event in ("message", "go"):
            sio.on(event, handler(namespace), namespace=namespace)
    return socketio.ASGIApp(sio, socketio_path="socket.io")


@contextlib.contextmanager
def served(certificate: tuple[str, str] | None = None) -> Iterator[str]:
    """The server on a free loopback port: its http:// origin (https:// with a (certfile, keyfile))."""
    import uvicorn

    tls = {"ssl_certfile": certificate[0], "ssl_keyfile": certificate[1]} if certificate else {}
    config = uvicorn.Config(
        create_app, factory=True, host="127.0.0.1", port=0, log_level="error", log_config=None, **tls
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="socketio-server", daemon=True)
    thread.start()
    give_up = time.monotonic() + 5
    while not server.started:
        assert time.monotonic() < give_up, "uvicorn did not start"
        time.sleep(2 * MS)
    try:
        scheme = "https" if certificate else "http"
        yield f"{scheme}://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
