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
