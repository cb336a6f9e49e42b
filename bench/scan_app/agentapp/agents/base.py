from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentapp.services.llm import LLMClient


class BaseAgent:
    """An agent: a name, an LLM client, and a run loop."""

    def __init__(self, name: str, llm: LLMClient) -> None:
        self.name = name
        self.llm = llm
        self.runs = 0

    async def run(self, task: str) -> str:
        self.runs += 1
        return await self.llm.complete(f"{self.name}: {task}")

    def describe(self) -> str:
        return f"{self.name} ({self.runs} runs)"

    async def stop(self) -> None:
        self.llm.close()


class ResearchAgent(BaseAgent):
    async def run(self, task: str) -> str:
        notes = await self.llm.complete(f"research {task}")
        return notes.strip()


class WriterAgent(BaseAgent):
    def describe(self) -> str:
        return f"writer {self.name}"
