from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse

if TYPE_CHECKING:
    from agentapp.agents.supervisor import SupervisorAgent


def summarize(supervisor: SupervisorAgent) -> list[str]:
    return [agent.describe() for agent in supervisor.registry.agents.values()]


async def status(request: Request) -> JSONResponse:
    supervisor = request.app.state.agent_supervisor
    return JSONResponse({"agents": supervisor.status(), "recent": supervisor.recent()})


async def agents(request: Request) -> JSONResponse:
    registry = request.app.state.agent_registry
    return JSONResponse({"names": registry.names(), "all": summarize(request.app.state.agent_supervisor)})


async def run_tool(request: Request) -> JSONResponse:
    body = await request.json()
    result = request.app.state.tools.run_tool(body["name"], body.get("arguments", {}))
    return JSONResponse(result)
