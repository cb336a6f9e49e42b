from __future__ import annotations

from typing import Any

from agentapp.bridge.manager import ConnectionManager


class AgentWebSocketBridge:
    """Turns agent events into WebSocket messages."""

    def __init__(self, manager: ConnectionManager, *, client_id: str = "all") -> None:
        self.manager = manager
        self.client_id = client_id
        self.sent = 0

    async def notify(self, event: str, payload: dict[str, Any]) -> None:
        self.sent += 1
        await self.manager.send_message(self.client_id, {"type": event, **payload})

    async def notify_all(self, event: str) -> None:
        await self.manager.broadcast({"type": event})


def make_bridge(manager: ConnectionManager) -> AgentWebSocketBridge:
    return AgentWebSocketBridge(manager)
