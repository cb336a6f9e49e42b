"""Backends whose trouble shows only while a run goes on, or only in what they did to logging."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")


async def notify(websocket: WebSocket, event: str, run_id: str) -> None:
    await websocket.send_json({"type": event, "run_id": run_id})


async def _index_tool_results(run_id: str) -> None:
    raise RuntimeError(f"index unavailable for {run_id}")


async def _forgets_to_await(websocket: WebSocket) -> None:
    await websocket.accept()
    message = await websocket.receive_json()
    for event in EVENTS:
        if event == "tool_completed":
            notify(websocket, event, message["run_id"])  # type: ignore[unused-coroutine]  # the fault
        else:
            await notify(websocket, event, message["run_id"])
    with contextlib.suppress(WebSocketDisconnect):
        await websocket.receive_text()


async def _loses_a_task(websocket: WebSocket) -> None:
    await websocket.accept()
    message = await websocket.receive_json()
    asyncio.get_running_loop().create_task(_index_tool_results(message["run_id"]))  # nobody keeps or awaits it
    for event in EVENTS:
        await notify(websocket, event, message["run_id"])
    with contextlib.suppress(WebSocketDisconnect):
        await websocket.receive_text()


@contextlib.asynccontextmanager
async def _silences_logging(app: Starlette) -> AsyncIterator[None]:
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)  # the test process goes on


def forgets_to_await() -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws", _forgets_to_await)])


def loses_a_task() -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws", _loses_a_task)])


def silences_logging() -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws", _loses_a_task)], lifespan=_silences_logging)
