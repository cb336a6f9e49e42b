"""FastAPI and Starlette apps whose routes `wiringcheck inspect` must find: included routers, mounts, HTTP streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, WebSocket
from fastapi.responses import StreamingResponse
from starlette.applications import Starlette
from starlette.routing import Mount, Route


class Agent:
    """What the lifespan stores on app.state: an agent and its tools."""

    def __init__(self) -> None:
        self.tools = Tools()


class Tools:
    """The agent's tool box."""

    def __init__(self) -> None:
        self.names = ["lookup_order"]


async def _events() -> AsyncIterator[str]:
    yield 'data: {"type": "RUN_STARTED"}\n\n'


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.agent = Agent()
    yield


def sse_only() -> FastAPI:
    """An AG-UI-style app: its runs stream over HTTP (an included router, under two prefixes), no WebSocket."""
    router = APIRouter(prefix="/agent")

    @router.post("/run")
    async def run_agent() -> StreamingResponse:
        return StreamingResponse(_events(), media_type="text/event-stream")

    @router.get("/export", response_class=StreamingResponse)
    async def export() -> StreamingResponse:
        return StreamingResponse(_events())

    @router.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app = FastAPI(lifespan=_lifespan)
    app.include_router(router, prefix="/api")
    return app


def socket_in_a_router() -> Starlette:
    """A WebSocket route in a FastAPI router included with a prefix, the FastAPI app mounted in Starlette."""
    router = APIRouter(prefix="/chat")

    @router.websocket("/ws")
    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    api = FastAPI()
    api.include_router(router, prefix="/v1")

    async def home(request: object) -> None: ...

    return Starlette(routes=[Route("/", home), Mount("/api", app=api)])


LANGGRAPH_WAIT = 0.15
"""Seconds the LangGraph-like server waits before a run's first event, as langgraph dev's queue worker does: at
least this long, so always past the default 100 ms gap bound."""


def langgraph_like() -> Starlette:
    """A server shaped like `langgraph dev` (langgraph-api 0.16, seen on a real one): threads over REST, each
    run streamed from POST /threads/{id}/runs/stream, its first event late, its body ended with no `end` event."""
    import asyncio
    import json
    import uuid

    from starlette.requests import Request
    from starlette.responses import JSONResponse

    async def thread(request: Request) -> JSONResponse:
        return JSONResponse({"thread_id": str(uuid.uuid4()), "status": "idle"})

    async def stream(request: Request) -> StreamingResponse:
        call = {"name": "multiply", "args": {"a": 6, "b": 7}, "id": "call-1", "type": "tool_call"}
        calling = {"type": "ai", "content": "", "tool_calls": [call], "id": "lc_run--1"}
        result = {"type": "tool", "content": "42", "name": "multiply", "tool_call_id": "call-1", "id": "t-1"}
        answer = {"type": "ai", "content": "6 times 7 is 42.", "tool_calls": [], "id": "lc_run--2"}
        node = {"created_by": "system", "graph_id": "agent"}
        sent = [
            ("metadata", {"run_id": str(uuid.uuid4()), "attempt": 1}),
            ("messages", [calling, node]),
            ("updates", {"agent": {"messages": [calling]}}),
            ("messages", [result, node]),
            ("updates", {"tools": {"messages": [result]}}),
            ("messages", [answer, node]),
            ("updates", {"agent": {"messages": [answer]}}),
        ]

        async def events() -> AsyncIterator[str]:
            await asyncio.sleep(LANGGRAPH_WAIT)
            for name, data in sent:
                yield f"event: {name}\ndata: {json.dumps(data)}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/threads", thread, methods=["POST"]),
            Route("/threads/{thread_id}/runs/stream", stream, methods=["POST"]),
        ]
    )
