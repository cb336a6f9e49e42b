from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock

import pytest
from agentapp.agents.registry import AgentRegistry
from agentapp.startup import build_registry


def test_build_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = AgentRegistry()
    registry.configure = MagicMock()
    monkeypatch.setattr(registry, "connect", AsyncMock(return_value=True))
    llm = MagicMock()
    built = build_registry(llm)
    assert sorted(built.agents) == ["research", "writer"]


def test_mock_everything() -> None:
    registry = MagicMock()
    registry.configure = MagicMock()
    registry.send_message = AsyncMock()
    registry.set_websocket_bridge(MagicMock())
    registry.setup_bridge = MagicMock()
    registry.attach_manager = MagicMock()


class FakeRegistry(AgentRegistry):
    def describe_agents(self) -> list[str]:
        return []

    def reconnect(self) -> bool:
        return True

    def start(self) -> None:
        pass
