"""An ASGI app (or a factory of one), booted in-process and served by uvicorn on loopback.

The lifespan is driven here rather than by uvicorn so that a startup failure
surfaces as the backend's own exception (uvicorn would log it and exit), and so
that a hanging startup can be cancelled at its deadline.  uvicorn then serves the
booted app with `lifespan="off"`, sharing the lifespan state with every request.

Every WebSocket message the app sends passes through `_stamp_sends`, which records
the moment the backend handed it to the server: the start of its delivery latency.
HTTP response bodies (an SSE or NDJSON stream) are recorded chunk by chunk too, beneath
the app's middleware when the app is Starlette's (FastAPI's too): a middleware that
holds the stream back then shows as latency of every event it held, not as silence only.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import TYPE_CHECKING, Any

from wiringcheck.containment import contain_exit
from wiringcheck.importing import import_ref, prepend_paths
from wiringcheck.targets import BootError, Handle

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    from wiringcheck.config import Settings

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]

__all__ = ["AsgiTarget", "is_factory"]


def is_factory(obj: Any) -> bool:
    """Whether `obj` is a zero-argument factory of an app rather than an ASGI app itself.

    An ASGI app is called with (scope, receive, send); a factory with nothing.
    """
    if inspect.isclass(obj):
        return False
    target = obj if inspect.isfunction(obj) or inspect.ismethod(obj) else getattr(obj, "__call__", obj)  # noqa: B004
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return False
    required = [
        p
        for p in signature.parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return not required


class AsgiTarget:
    """Boot `settings.app` in this event loop; serve it on 127.0.0.1 on a free port."""

    kind = "app"
    in_process = True

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.app: Any = None
        self.sends: list[tuple[float, str | bytes]] = []
        self.streams: list[list[tuple[float, bytes]]] = []
        self.send_ports: list[int | None] = []
        self.stream_ports: list[int | None] = []
        self._streamed = 0
        self._inner = False
        self.state: dict[str, Any] = {}
        self._lifespan_task: asyncio.Task[None] | None = None
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._server: Any = None

    @property
    def lifespan_task(self) -> asyncio.Task[None] | None:
        return self._lifespan_task

    def load(self) -> Any:
        """Import the app, calling it first when it is a factory."""
        assert self.settings.app is not None
        prepend_paths(self.settings.pythonpath)
        obj = import_ref(self.settings.app)
        factory = self.settings.factory if self.settings.factory is not None else is_factory(obj)
        if factory:
            try:
                obj = obj()
            except Exception as exc:
                raise BootError("factory", exc) from exc
            if inspect.isawaitable(obj):
                raise TypeError(f"{self.settings.app} is an async factory; make it a plain function returning the app")
        return obj

    async def start(self) -> Handle:
        self.app = self.load()
        self._inner = _beneath_middleware(self.app, self._stamp_http)
        await self._startup()
        ready_at = self.clock()  # the app says it is ready: from here on, a server would accept connections
        port = await self._serve()
        url = f"ws://127.0.0.1:{port}{self.settings.ws_path}"
        return Handle(
            ws_url=url,
            root=self.app,
            sends=self.sends,
            streams=self.streams,
            send_ports=self.send_ports,
            stream_ports=self.stream_ports,
            latency="send",
            description=self.settings.app or "",
            ready_at=ready_at,
        )

    async def _startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}

        async def receive() -> Message:
            return await self._to_app.get()

        async def send(message: Message) -> None:
            await self._from_app.put(message)

        self._lifespan_task = asyncio.create_task(self.app(scope, receive, send), name="wiringcheck-lifespan")
        await self._to_app.put({"type": "lifespan.startup"})
        reply = asyncio.ensure_future(self._from_app.get())
        try:
            await asyncio.wait({reply, self._lifespan_task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not reply.done():
                reply.cancel()
        if reply.done() and not reply.cancelled():
            message = reply.result()
            if message["type"] == "lifespan.startup.complete":
                return
            # Starlette sends `startup.failed` and then re-raises: prefer the exception itself.
            try:
                await asyncio.wait_for(asyncio.shield(self._lifespan_task), timeout=1.0)
            except Exception as exc:
                raise BootError("lifespan", exc) from exc
            raise BootError("lifespan", RuntimeError(message.get("message") or "lifespan startup failed"))
        error = self._lifespan_task.exception()
        if error is not None:
            raise BootError("lifespan", error) from error
        # The app returned from the lifespan scope without answering: it does not use lifespan.

    async def _serve(self) -> int:
        import uvicorn

        config = uvicorn.Config(
            self._stamp_sends,
            host="127.0.0.1",
            port=0,
            lifespan="off",
            interface="asgi3",
            log_config=None,
            log_level="warning",
            access_log=False,
            ws_max_size=16 * 1024 * 1024,
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        server.lifespan.state = self.state
        await server.startup()
        self._server = server
        if not server.servers or server.should_exit:
            raise RuntimeError("uvicorn could not listen on 127.0.0.1")
        port: int = server.servers[0].sockets[0].getsockname()[1]
        return port

    async def _stamp_sends(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._serve_one(scope, receive, send)
        except (SystemExit, KeyboardInterrupt) as exc:
            # uvicorn would log the exit and carry on: record it, so the run reports it (WC108).
            raise contain_exit(exc) from exc

    async def _serve_one(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._inner:
            await self._stamp_http(self.app, scope, receive, send)
            return
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return

        port = _client_port(scope)

        async def stamped(message: Message) -> None:
            if message["type"] == "websocket.send":
                payload = message.get("text")
                self.sends.append((self.clock(), payload if payload is not None else message.get("bytes", b"")))
                self.send_ports.append(port)
            await send(message)

        await self.app(scope, receive, stamped)

    async def _stamp_http(self, app: Any, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request with `app`, recording each chunk of its response body and when it was sent."""
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        chunks: list[tuple[float, bytes]] = []

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.streams.append(chunks)
                self.stream_ports.append(_client_port(scope))
            elif message["type"] == "http.response.body" and self._streamed < _STREAMED_AT_MOST:
                body = message.get("body", b"")
                if body:
                    self._streamed += len(body)
                    chunks.append((self.clock(), body))
            await send(message)

        await app(scope, receive, stamped)

    async def stop(self) -> None:
        """Stop serving, then run the app's lifespan shutdown."""
        server, self._server = self._server, None
        if server is not None:
            await _close_server(server)
        task = self._lifespan_task
        if task is None or task.done():
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        reply = asyncio.ensure_future(self._from_app.get())
        try:
            await asyncio.wait({reply, task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not reply.done():
                reply.cancel()
        if reply.done() and not reply.cancelled() and reply.result()["type"] == "lifespan.shutdown.failed":
            await asyncio.wait({task}, timeout=1.0)
            error = task.exception() if task.done() and not task.cancelled() else None
            raise RuntimeError(reply.result().get("message") or "lifespan shutdown failed") from error
        await task

    async def abort(self) -> None:
        """Cancel whatever is still running after a failed or timed-out boot."""
        if self._server is not None:
            await _close_server(self._server)
            self._server = None
        task = self._lifespan_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)


_STREAMED_AT_MOST = 64 * 1024 * 1024
"""Bytes of HTTP response bodies recorded in all: a flood beyond stays untimed rather than exhaust memory."""


class _Stamped:
    """An ASGI app (the router, beneath the middleware) whose HTTP responses are recorded as they are sent."""

    def __init__(self, app: Any, stamp: Callable[..., Awaitable[None]]) -> None:
        self.app, self.stamp = app, stamp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.stamp(self.app, scope, receive, send)


def _beneath_middleware(app: Any, stamp: Callable[..., Awaitable[None]]) -> bool:
    """Record HTTP responses where the app produces them, beneath its middleware, when it is a Starlette app.

    Starlette builds its middleware stack around `app.router` on its first call; building
    it here, with the router wrapped, puts the recording beneath every middleware.
    Returns whether it could (other apps are recorded where the server meets them).
    """
    router = getattr(app, "router", None)
    if router is None or not callable(getattr(app, "build_middleware_stack", None)):
        return False
    if getattr(app, "middleware_stack", None) is not None:
        return False  # already built by something else: leave it alone
    try:
        app.router = _Stamped(router, stamp)
        app.middleware_stack = app.build_middleware_stack()
    except Exception:  # an app that builds its stack its own way: record where the server meets it
        return False
    finally:
        app.router = router
    return True


async def _close_server(server: Any, *, grace: float = 1.0) -> None:
    """Close uvicorn's listener and connections, polling briefly for them to drain.

    `uvicorn.Server.shutdown` sleeps a fixed 100 ms and then polls every 100 ms, which
    would be most of a run's time. Handlers still running after `grace` seconds (one
    that ignores the disconnect, say) are cancelled, as uvicorn's graceful-shutdown
    timeout would, so that the app's own lifespan shutdown still runs.
    """
    server.should_exit = True
    for listener in server.servers:
        listener.close()
    for connection in list(server.server_state.connections):
        connection.shutdown()
    loop = asyncio.get_running_loop()
    give_up = loop.time() + grace
    while server.server_state.connections or server.server_state.tasks:
        if loop.time() > give_up:
            for task in list(server.server_state.tasks):
                task.cancel()
            await asyncio.wait(set(server.server_state.tasks), timeout=grace)
            break
        await asyncio.sleep(0.002)
    for listener in server.servers:
        await listener.wait_closed()


def _client_port(scope: Scope) -> int | None:
    """The port of the client's end of the connection (the probe's local port), when the server says."""
    client = scope.get("client")
    return client[1] if client else None
