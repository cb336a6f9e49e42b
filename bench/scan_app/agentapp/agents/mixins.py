from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentapp.agents.base import BaseAgent
    from agentapp.agents.registry import AgentRegistry


class LookupMixin:
    """Lookups shared by registries; AgentRegistry derives from it."""

    def find(self: AgentRegistry, name: str) -> BaseAgent:
        self.ensure_known(name)
        return self.agents[name]

    def ensure_known(self: AgentRegistry, name: str) -> None:
        if name not in self.agents:
            raise KeyError(name)

    def names(self: AgentRegistry) -> list[str]:
        return sorted(self.agents)
