from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock

import pytest
from agentapp.agents.registry import AgentRegistry
from agentapp.agents.supervisor import SupervisorAgent


class RecordingRegistry(AgentRegistry):
    """A registry that records what the code under test asks of it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def find(self, name: str):  # type: ignore[override]
        self.asked.append(name)
        return MagicMock()


@pytest.fixture
def registry() -> RecordingRegistry:
    return RecordingRegistry()


@pytest.fixture
def mock_bridge() -> MagicMock:
    bridge = MagicMock()
    bridge.notify = AsyncMock()
    bridge.send_message = AsyncMock()
    return bridge


@pytest.fixture
def supervisor(registry: RecordingRegistry) -> SupervisorAgent:
    return SupervisorAgent(registry)
