"""A backend that is already running: wiringcheck can only probe it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wiringcheck.targets import Handle

if TYPE_CHECKING:
    from wiringcheck.config import Settings

__all__ = ["UrlTarget"]


class UrlTarget:
    """Probe `settings.url`; the in-process checks are skipped, never passed."""

    kind = "url"
    in_process = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def start(self) -> Handle:
        assert self.settings.url is not None
        return Handle(ws_url=self.settings.url, latency="timestamp", description=self.settings.url)

    async def stop(self) -> None:
        return None

    async def abort(self) -> None:
        return None
