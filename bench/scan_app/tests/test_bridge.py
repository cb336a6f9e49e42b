from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock

from agentapp.bridge.websocket_bridge import AgentWebSocketBridge


async def test_notify() -> None:
    manager = MagicMock()
    manager.send_message = AsyncMock()
    bridge = AgentWebSocketBridge(manager)
    await bridge.notify("agent_started", {})
    mock_bridge = MagicMock()
    mock_bridge.notify_agent = AsyncMock()
    mock_bridge.publish = AsyncMock()
    mock_bridge.emit = AsyncMock()


class FakeBridge(AgentWebSocketBridge):
    async def publish(self, event: str) -> None:
        pass

    async def emit(self, event: str) -> None:
        pass
