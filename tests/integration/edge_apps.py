"""Tiny ASGI apps that misbehave at the edges a real server can: the probe must never crash or hang."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket


async def _closes_mid_run(websocket: WebSocket) -> None:
    await websocket.accept()
    message = await websocket.receive_json()
    await websocket.send_json({"type": "agent_started", "run_id": message["run_id"]})
    await websocket.close(code=1011, reason="agent crashed")


async def _rejects(websocket: WebSocket) -> None:
    await websocket.close(code=1008)  # before accept: the handshake fails with HTTP 403


async def _silent(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_text()
    await asyncio.Event().wait()  # never answers; the probe's deadline must end the run


def closes_mid_run() -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws", _closes_mid_run)])


def rejects() -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws", _rejects)])


def silent() -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws", _silent)])


async def _studio_like(websocket: WebSocket) -> None:
    """A protocol wiringcheck did not write: nested types, a heartbeat, a completion frame."""
    await websocket.accept()
    await websocket.receive_text()
    await websocket.send_json({"type": "heartbeat"})
    for kind in ("TaskStarted", "ThoughtEvent", "ToolCallRequestEvent", "ToolCallExecutionEvent"):
        await websocket.send_json({"type": "message", "data": {"type": kind}})
    await websocket.send_json({"type": "completion", "status": "complete"})
    await asyncio.sleep(0.01)
    await websocket.close()


def studio_like() -> Starlette:
    return Starlette(routes=[WebSocketRoute("/api/chat", _studio_like)])


async def _issue_ticket(request: Request) -> JSONResponse:
    return JSONResponse({"ticket": f"tk-{uuid.uuid4().hex}"}, status_code=201)


async def _ticketed(websocket: WebSocket) -> None:
    """Accepts any ticket, then fails the run quoting it: the report must not show it."""
    ticket = websocket.query_params.get("ticket", "")
    await websocket.accept()
    message = await websocket.receive_json()
    await websocket.send_json({"type": "agent_started", "run_id": message["run_id"]})
    await websocket.send_json({"type": "failed", "error": f"ticket {ticket} expired"})
    await asyncio.sleep(0.01)
    await websocket.close()


def ticketed() -> Starlette:
    return Starlette(routes=[Route("/tickets", _issue_ticket, methods=["POST"]), WebSocketRoute("/ws", _ticketed)])


async def _floods(websocket: WebSocket) -> None:
    await websocket.accept()
    message = await websocket.receive_json()
    frame = json.dumps({"type": "agent_thinking", "run_id": message["run_id"]})
    with contextlib.suppress(Exception):
        for _ in range(12_000):  # past the probe's 10,000-frame cap, without a pause
            await websocket.send_text(frame)


def floods() -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws", _floods)])
