from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket


class ConnectionManager:
    """The open WebSocket connections, by client id."""

    def __init__(self) -> None:
        self.connections: dict[str, WebSocket] = {}

    async def connect(self, client_id: str, websocket: WebSocket) -> None:
        await websocket.accept()
        self.connections[client_id] = websocket

    def disconnect(self, client_id: str) -> None:
        self.connections.pop(client_id, None)

    async def send_message(self, client_id: str, payload: dict[str, Any]) -> None:
        websocket = self.connections.get(client_id)
        if websocket is not None:
            await websocket.send_json(payload)

    async def broadcast(self, payload: dict[str, Any]) -> None:
        for client_id in list(self.connections):
            await self.send_message(client_id, payload)
