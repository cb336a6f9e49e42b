from __future__ import annotations

from agentapp.agents.base import BaseAgent
from agentapp.agents.registry import AgentRegistry


class SupervisorAgent:
    """Routes a task to the agent named in it, through the registry."""

    def __init__(self, registry: AgentRegistry, default: str = "research") -> None:
        self.registry = registry
        self.default = default
        self.history: list[BaseAgent] = []

    def dispatch(self, task: str) -> BaseAgent:
        name, _, _ = task.partition(":")
        agent = self.registry.find(name or self.default)
        self.history.append(agent)
        return agent

    async def delegate(self, task: str, *, user_id: str) -> str:
        agent = self.dispatch(task)
        return await agent.run(f"{user_id}: {task}")

    def status(self) -> dict[str, str]:
        report: dict[str, str] = {}
        for name, agent in self.registry.agents.items():
            report[name] = agent.describe()
        return report

    def recent(self) -> list[str]:
        return [agent.describe() for agent in self.history]

    async def shutdown(self) -> None:
        for agent in self.history:
            await agent.stop()
