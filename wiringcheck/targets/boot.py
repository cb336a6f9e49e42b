"""A backend started by the user's own boot function: an async context manager yielding a handle.

The handle is what roles are found on.  The WebSocket URL comes from the handle
(`handle.ws_url`, or `handle["ws_url"]` for a mapping) or from `ws_url` in the config.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wiringcheck.importing import import_ref, prepend_paths
from wiringcheck.targets import BootError, Handle

if TYPE_CHECKING:
    from wiringcheck.config import Settings

__all__ = ["BootTarget"]


class BootTarget:
    """Enter `boot()` to start, exit it to stop."""

    kind = "boot"
    in_process = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._manager: contextlib.AbstractAsyncContextManager[Any] | None = None

    async def start(self) -> Handle:
        assert self.settings.boot is not None
        prepend_paths(self.settings.pythonpath)
        factory = import_ref(self.settings.boot)
        try:
            manager = factory()
        except Exception as exc:
            raise BootError("boot", exc) from exc
        if not hasattr(manager, "__aenter__"):
            raise TypeError(
                f"{self.settings.boot} returned {type(manager).__name__}, not an async context manager: "
                "decorate it with contextlib.asynccontextmanager"
            )
        try:
            handle = await manager.__aenter__()
        except Exception as exc:
            raise BootError("boot", exc) from exc
        self._manager = manager
        url = getattr(handle, "ws_url", None)
        if url is None and isinstance(handle, Mapping):
            url = handle.get("ws_url")
        url = url or self.settings.ws_url
        if not url:
            raise TypeError(
                f"{self.settings.boot} yielded no WebSocket URL: give the handle a `ws_url` "
                "or set ws_url in the configuration"
            )
        return Handle(ws_url=str(url), root=handle, latency="timestamp", description=self.settings.boot)

    async def stop(self) -> None:
        if self._manager is not None:
            manager, self._manager = self._manager, None
            await manager.__aexit__(None, None, None)

    async def abort(self) -> None:
        """Exit the boot manager as if its block had been cancelled, giving it one second."""
        if self._manager is not None:
            manager, self._manager = self._manager, None
            error = asyncio.CancelledError()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                async with asyncio.timeout(1.0):
                    await manager.__aexit__(type(error), error, None)
