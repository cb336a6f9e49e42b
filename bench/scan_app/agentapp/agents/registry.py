from __future__ import annotations

from typing import TYPE_CHECKING

from agentapp.agents.base import BaseAgent
from agentapp.agents.mixins import LookupMixin
from agentapp.bridge.manager import ConnectionManager

if TYPE_CHECKING:
    from agentapp.bridge.websocket_bridge import AgentWebSocketBridge


class AgentRegistry(LookupMixin):
    """Every agent by name, and the bridge that reports their events."""

    agents: dict[str, BaseAgent]

    def __init__(self) -> None:
        self.agents = {}
        self.bridge: AgentWebSocketBridge | None = None
        self.settings: dict[str, str] = {}
        self.connected = False

    def register_agent(self, agent: BaseAgent) -> None:
        self.agents[agent.name] = agent

    def set_websocket_bridge(self, bridge: AgentWebSocketBridge) -> None:
        self.bridge = bridge

    def configure(self, settings: dict[str, str]) -> None:
        self.settings.update(settings)

    async def connect(self) -> bool:
        self.connected = True
        return self.connected

    async def build_manager(self) -> ConnectionManager:
        return ConnectionManager()

    def describe_all(self) -> list[str]:
        return [agent.describe() for agent in self.agents.values()]

    async def stop_all(self) -> None:
        for agent in self.agents.values():
            await agent.stop()
