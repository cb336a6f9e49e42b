from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from agentapp.agents.base import ResearchAgent, WriterAgent
from agentapp.agents.registry import AgentRegistry
from agentapp.agents.supervisor import SupervisorAgent
from agentapp.bridge.manager import ConnectionManager
from agentapp.bridge.websocket_bridge import AgentWebSocketBridge
from agentapp.errors import StartupError
from agentapp.services.llm import LLMClient, default_client


def build_registry(llm: LLMClient) -> AgentRegistry:
    registry = AgentRegistry()
    registry.register_agent(ResearchAgent("research", llm))
    registry.register_agent(WriterAgent("writer", llm))
    registry.configure({"mode": "default"})
    return registry


def load_tools():
    try:
        from agentapp.services.tools import ToolRunner
    except ImportError as error:
        raise StartupError("the tools extra is not installed") from error
    return ToolRunner()


async def wire(app: Starlette) -> None:
    llm = default_client()
    registry = build_registry(llm)
    manager = ConnectionManager()
    bridge = AgentWebSocketBridge(manager, client_id="all")
    registry.set_websocket_bridge(bridge)
    connected = await registry.connect()
    if not connected:
        raise StartupError("registry could not connect")
    app.state.agent_registry = registry
    app.state.ws_manager = manager
    app.state.agent_websocket_bridge = bridge
    app.state.agent_supervisor = SupervisorAgent(registry)
    app.state.tools = load_tools()


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    await wire(app)
    yield
    registry: AgentRegistry = app.state.agent_registry
    await registry.stop_all()
