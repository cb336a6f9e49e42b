"""One backend for the entry-point matrix: every auth kind, a setup step, server-assigned ids, an emitter role.

It accepts a token (``matrix-token-7`` is user 7) sent as the query parameter ``token``,
an ``Authorization: Bearer`` header, the subprotocol ``bearer.<base64url>``, the cookie
``sid``, or a first message ``{"op": "auth", "token": ...}`` answered by ``{"op":
"ready"}``.  ``POST /api/runs`` creates a run and answers its id (``{"run": {"id": ...}}``);
``/ws/{run_id}`` streams that run, ``/ws`` makes one up.  Events go through the
`Emitter` role to the connections of the run's user.  `create_app(mode=...)` changes
one thing: ``broadcast`` sends every run to everyone, ``hostile`` answers with text that
is not JSON and closes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

STEP = 0.002
_TOKEN = re.compile(r"^matrix-token-(\d+)$")


def user_of(token: str | None) -> str | None:
    match = _TOKEN.match(token or "")
    return f"user-{match.group(1)}" if match else None


class Emitter:
    """Sends a run's events to its user's connections (or to everyone, in ``broadcast`` mode)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.connections: dict[str, set[WebSocket]] = {}
        self.owners: dict[str, str] = {}

    async def _send(self, run_id: str, kind: str) -> None:
        frame = json.dumps({"type": kind, "run_id": run_id, "ts": time.time() * 1000})
        owner = self.owners.get(run_id, "")
        for user, sockets in list(self.connections.items()):
            if user == owner or self.mode == "broadcast":
                for socket in list(sockets):
                    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                        await socket.send_text(frame)

    async def started(self, run_id: str) -> None:
        await self._send(run_id, "agent_started")

    async def thinking(self, run_id: str) -> None:
        await self._send(run_id, "agent_thinking")

    async def tool(self, run_id: str) -> None:
        await self._send(run_id, "tool_executing")

    async def result(self, run_id: str) -> None:
        await self._send(run_id, "tool_completed")

    async def completed(self, run_id: str) -> None:
        await self._send(run_id, "agent_completed")


async def create_run(request: Request) -> JSONResponse:
    return JSONResponse({"run": {"id": f"run-{uuid.uuid4().hex[:10]}"}}, status_code=201)


def _token(socket: WebSocket) -> str | None:
    if "token" in socket.query_params:
        return socket.query_params["token"]
    scheme, _, credentials = socket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return credentials
    for offered in socket.scope.get("subprotocols", []):
        if offered.startswith("bearer."):
            encoded = offered.removeprefix("bearer.")
            with contextlib.suppress(ValueError):
                return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    return socket.cookies.get("sid")


async def stream(socket: WebSocket) -> None:
    emitter: Emitter = socket.app.state.emitter
    token = _token(socket)
    subprotocol = next((p for p in socket.scope.get("subprotocols", []) if p.startswith("bearer.")), None)
    if token is not None and user_of(token) is None:
        await socket.close(code=1008)  # before accept: HTTP 403
        return
    await socket.accept(subprotocol=subprotocol)
    try:
        if token is None:  # first-message auth
            hello = json.loads(await socket.receive_text())
            token = hello.get("token")
            if user_of(token) is None:
                await socket.close(code=4401, reason="unauthorized")
                return
            await socket.send_text(json.dumps({"op": "ready"}))
        user = user_of(token)
        assert user is not None
        emitter.connections.setdefault(user, set()).add(socket)
        trigger = json.loads(await socket.receive_text())
        if emitter.mode == "hostile":
            await socket.send_text("<html>502 Bad Gateway</html>")
            await socket.close(code=1011, reason="upstream failed")
            return
        # The run is the path's (created by POST /api/runs), else the trigger's, else one the server makes up.
        run_id = socket.path_params.get("run_id") or trigger.get("run_id") or f"run-{uuid.uuid4().hex[:10]}"
        emitter.owners[run_id] = user
        for step in (emitter.started, emitter.thinking, emitter.tool, emitter.result, emitter.completed):
            await step(run_id)
            await asyncio.sleep(STEP)
        with contextlib.suppress(WebSocketDisconnect):
            await socket.receive_text()
    except (WebSocketDisconnect, ValueError):
        return
    finally:
        for sockets in emitter.connections.values():
            sockets.discard(socket)


def create_app(mode: str = "healthy") -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.emitter = Emitter(mode)
        yield

    return Starlette(
        routes=[
            Route("/api/runs", create_run, methods=["POST"]),
            WebSocketRoute("/ws", stream),
            WebSocketRoute("/ws/{run_id}", stream),
        ],
        lifespan=lifespan,
    )


def broadcast_app() -> Starlette:
    return create_app("broadcast")


def hostile_app() -> Starlette:
    return create_app("hostile")


def describe(value: Any) -> str:
    return json.dumps(value)
