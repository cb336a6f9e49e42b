from __future__ import annotations

from starlette.applications import Starlette


class HealthChecker:
    """Reports whether the wiring startup did is still in place."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def check(self) -> dict[str, bool]:
        registry = self.app.state.agent_registry
        bridge = self.app.state.agent_websocket_bridge
        return {
            "registry": registry.connected,
            "bridge": bridge.manager is not None,
            "agents": bool(registry.names()),
        }

    async def ping_agents(self) -> int:
        supervisor = self.app.state.agent_supervisor
        count = 0
        for agent in supervisor.registry.agents.values():
            await agent.run("ping")
            count += 1
        return count
