from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from agentapp.routes.http import agents, run_tool, status
from agentapp.routes.websocket import agent_socket
from agentapp.startup import lifespan


def create_app() -> Starlette:
    routes = [
        Route("/status", status),
        Route("/agents", agents),
        Route("/tools", run_tool, methods=["POST"]),
        WebSocketRoute("/ws", agent_socket),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
