"""A small `websockets` server that speaks whatever protocol a test asks for, over a real socket.

It authenticates one of five ways (refusing a wrong token the way real servers do:
HTTP 401 on the upgrade, or a policy close), then answers the trigger with the frames
a `Script` returns.  Tests drive the probe against it by configuration alone.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.conftest import MS

TOKEN = "wc-test-token-7f3a"

Script = Callable[[dict[str, Any]], list[Any]]
"""The frames to send for a trigger: each a JSON-able value, bytes, or ("sleep", seconds) or ("close", code)."""


@dataclass(frozen=True)
class Served:
    url: str


def _b64(token: str) -> str:
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def _credential(auth: str, request: Request) -> str | None:
    headers = request.headers
    if auth == "query":
        return (parse_qs(urlsplit(request.path).query).get("token") or [None])[0]
    if auth == "header":
        value = headers.get("Authorization", "")
        return value[len("Bearer ") :] if value.startswith("Bearer ") else None
    if auth == "header_raw":
        return headers.get("X-Api-Key")
    if auth == "cookie":
        cookies = dict(part.strip().split("=", 1) for part in headers.get("Cookie", "").split(";") if "=" in part)
        return cookies.get("session")
    if auth == "subprotocol":
        offered = [p.strip() for p in headers.get("Sec-WebSocket-Protocol", "").split(",")]
        jwt = next((p for p in offered if p.startswith("jwt.")), None)
        return jwt[4:] if jwt else None
    return TOKEN  # none, or first_message: checked after connecting


@contextlib.asynccontextmanager
async def serve_protocol(script: Script, *, auth: str = "none", token: str = TOKEN) -> AsyncIterator[Served]:
    """Serve on a free loopback port until the block exits."""
    expected = _b64(token) if auth == "subprotocol" else token

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        if _credential(auth, request) != expected:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "bad token\n")
        return None

    def select_subprotocol(connection: ServerConnection, offered: Any) -> str | None:
        return next((p for p in offered if p.startswith("jwt.")), None)

    async def handler(connection: ServerConnection) -> None:
        try:
            if auth == "first_message":
                hello = json.loads(await connection.recv())
                if hello.get("token") != token:
                    await connection.close(4401, "unauthorized")
                    return
                await connection.send(json.dumps({"op": "welcome"}))
            trigger = json.loads(await connection.recv())
            for frame in script(trigger):
                if isinstance(frame, tuple) and frame[0] == "sleep":
                    # Idle, but leave as soon as the probe hangs up, so the server closes quickly.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(connection.wait_closed(), frame[1])
                        return
                elif isinstance(frame, tuple) and frame[0] == "close":
                    await connection.close(frame[1], "server closed")
                    return
                else:
                    await connection.send(frame if isinstance(frame, bytes) else json.dumps(frame))
            await connection.wait_closed()
        except ConnectionClosed:
            pass

    options: dict[str, Any] = {"process_request": process_request}
    if auth == "subprotocol":
        options["select_subprotocol"] = select_subprotocol
    async with serve(handler, "127.0.0.1", 0, **options) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield Served(url=f"ws://127.0.0.1:{port}/ws")


def reference_run(trigger: dict[str, Any]) -> list[Any]:
    """The five default events for the trigger's run id, 1 ms apart."""
    frames: list[Any] = []
    for kind in ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"):
        frames += [("sleep", MS), {"type": kind, "run_id": trigger.get("run_id")}]
    return frames
