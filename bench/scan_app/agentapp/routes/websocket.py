from __future__ import annotations

from starlette.websockets import WebSocket, WebSocketDisconnect


async def agent_socket(websocket: WebSocket) -> None:
    client_id = websocket.query_params.get("client", "anonymous")
    manager = websocket.app.state.ws_manager
    await manager.connect(client_id, websocket)
    supervisor = websocket.app.state.agent_supervisor
    bridge = websocket.app.state.agent_websocket_bridge
    try:
        while True:
            message = await websocket.receive_json()
            await bridge.notify("agent_started", {"task": message["task"]})
            result = await supervisor.delegate(message["task"], user_id=client_id)
            await bridge.notify("agent_completed", {"result": result})
    except WebSocketDisconnect:
        manager.disconnect(client_id)
