"""agentapp: an agent backend (supervisor, registry, WebSocket bridge) on Starlette."""
