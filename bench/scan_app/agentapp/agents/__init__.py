"""The agents: a base class, the registry, the supervisor (imported from its module)."""

from __future__ import annotations

from agentapp.agents.base import BaseAgent
from agentapp.agents.registry import AgentRegistry

__all__ = ["AgentRegistry", "BaseAgent"]
