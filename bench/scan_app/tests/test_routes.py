from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock

from agentapp.agents.supervisor import SupervisorAgent
from agentapp.bridge.manager import ConnectionManager


def test_status(supervisor: SupervisorAgent) -> None:
    app = MagicMock()
    app.state.agent_supervisor = supervisor
    app.state.agent_supervisor.describe_agents = MagicMock(return_value=[])
    assert supervisor.status() == {}


def test_manager() -> None:
    manager = ConnectionManager()
    manager.send = AsyncMock()
    manager.send_json = AsyncMock()
    manager.connect_client = AsyncMock()
    manager.drop = MagicMock()


class FakeSupervisor(SupervisorAgent):
    def route(self, task: str) -> None:
        pass

    def statuses(self) -> dict[str, str]:
        return {}

    def send(self, message: str) -> None:
        pass
