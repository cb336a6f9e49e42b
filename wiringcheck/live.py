"""A backend booted on its own event loop, in a background thread: what the pytest fixtures hand to a test.

Its own loop keeps the fixture independent of the test's async framework: it works in
plain tests and under pytest-asyncio in strict or auto mode.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wiringcheck.backend import Backend, Roles
    from wiringcheck.config import Settings
    from wiringcheck.run.recording import Expectation, Recording

__all__ = ["LiveBackend"]


class LiveBackend:
    """A backend booted for one test, on its own event loop in a background thread.

    Its own loop keeps the fixture independent of the test's async framework: it works
    in plain tests and under pytest-asyncio in strict or auto mode. The roles are live
    objects of that loop; await their coroutines with ``await backend.run(coro)`` (or
    ``backend.run_sync(coro)`` in a plain test), not on the test's own loop.
    """

    def __init__(self, settings: Settings, *, timeout: float = 30.0) -> None:
        import asyncio
        import threading

        self.settings = settings
        self._timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="wiringcheck-backend", daemon=True)
        self._thread.start()
        self._manager: Any = None
        self._backend: Backend | None = None

    # -- the backend

    @property
    def backend(self) -> Backend:
        """The underlying `wiringcheck.backend.Backend`."""
        if self._backend is None:
            raise RuntimeError("the backend is not running")
        return self._backend

    @property
    def roles(self) -> Roles:
        """The configured roles by name (``backend.roles["registry"]``)."""
        return self.backend.roles

    @property
    def ws_url(self) -> str:
        """The backend's WebSocket URL (127.0.0.1, a free port), without any token."""
        return self.backend.ws_url

    @property
    def app(self) -> Any:
        """The object role paths start from: the ASGI app or the boot handle."""
        return self.backend.app

    @property
    def expectation(self) -> Expectation:
        """What a healthy run of this backend delivers, from the configuration."""
        return self.backend.expectation

    # -- running things on the backend's loop

    def run_sync(self, coroutine: Coroutine[Any, Any, Any], *, timeout: float | None = None) -> Any:
        """Run a coroutine on the backend's event loop and return its result (from a plain test)."""
        import asyncio

        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout=timeout or self._timeout)
        except TimeoutError:
            future.cancel()
            raise

    async def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Await a coroutine on the backend's event loop (from an async test, on any loop).

        Bounded by the fixture's timeout; wrap it in `asyncio.timeout` for a tighter bound.
        """
        import asyncio

        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        async with asyncio.timeout(self._timeout):
            return await asyncio.wrap_future(future)

    def probe_sync(self, **changes: Any) -> Recording:
        """Start one run and return its recording (from a plain test); see `Backend.probe`."""
        recording: Recording = self.run_sync(self.backend.probe(**changes))
        return recording

    async def probe(self, **changes: Any) -> Recording:
        """Start one run and return its recording (from an async test); see `Backend.probe`."""
        recording: Recording = await self.run(self.backend.probe(**changes))
        return recording

    # -- lifecycle

    def start(self) -> LiveBackend:
        from wiringcheck.backend import booted

        self._manager = booted(self.settings)
        self._backend = self.run_sync(self._manager.__aenter__(), timeout=self.settings.startup_timeout + 5.0)
        return self

    def stop(self) -> None:
        """Shut the backend down (under its shutdown deadline), then stop the loop and its thread."""
        try:
            if self._backend is not None:
                manager, self._backend = self._manager, None
                self.run_sync(manager.__aexit__(None, None, None), timeout=self.settings.shutdown_timeout + 5.0)
        finally:
            self._close_loop()

    def _close_loop(self) -> None:
        import asyncio

        async def drain() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.get_running_loop().shutdown_asyncgens()

        try:
            asyncio.run_coroutine_threadsafe(drain(), self._loop).result(timeout=5.0)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5.0)
            if not self._thread.is_alive():
                self._loop.close()
