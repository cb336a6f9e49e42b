"""Targets: the ways wiringcheck gets a backend to check.

Each target starts the backend (or finds it running) and yields a `Handle`: the
WebSocket URL to probe, the object the roles are found on, and, when the backend
runs in-process, the log of its WebSocket sends for latency measurement.

- `asgi.AsgiTarget`: an ASGI app or factory; lifespan in-process, uvicorn on 127.0.0.1.
- `boot.BootTarget`: a user async context manager that starts a non-ASGI backend.
- `url.UrlTarget`: a backend already running; only the probe can run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from wiringcheck.errors import BootError

if TYPE_CHECKING:
    from wiringcheck.config import Settings

__all__ = ["BootError", "Handle", "Target", "make_target"]


@dataclass(slots=True)
class Handle:
    """What a started target offers to the checks.

    Attributes:
        ws_url: where the probe connects.
        root: the object role paths start from (the app, or the boot handle); None for URLs.
        sends: (monotonic time, payload) of each WebSocket message the backend sent, when
            the target can see them; the probe's latency is measured from these.
        latency: ``"send"`` when `sends` is recorded, else ``"timestamp"`` (the event's own field).
    """

    ws_url: str
    root: Any = None
    sends: list[tuple[float, str | bytes]] | None = None
    latency: str = "timestamp"
    description: str = ""
    ready_at: float | None = None
    """When startup completed (monotonic): calls after it did not happen during startup. None: when start returned."""
    streams: list[list[tuple[float, bytes]]] | None = None
    """(monotonic time, chunk) of each HTTP response body the backend sent, one list per response, when the
    target can see them: an HTTP stream's events are timed from the chunk that carried them."""
    send_ports: list[int | None] | None = None
    """The client's port of the connection each of `sends` went to (None: not known), so that a run's frames pair
    only with what its own connection was sent, never with the same bytes sent to another user."""
    stream_ports: list[int | None] | None = None
    """The same for each of `streams`."""
    extra: dict[str, Any] = field(default_factory=dict)


class Target(Protocol):
    """A backend wiringcheck can start and stop (see `wiringcheck.lifecycle`, which runs them under deadlines).

    `abort` cancels whatever a failed or timed-out `start` or `stop` left running; it
    must be safe to call at any point, more than once.
    """

    kind: str
    in_process: bool

    async def start(self) -> Handle: ...

    async def stop(self) -> None: ...

    async def abort(self) -> None: ...


def make_target(settings: Settings) -> Target:
    """The target the settings describe."""
    if settings.app:
        from wiringcheck.targets.asgi import AsgiTarget

        return AsgiTarget(settings)
    if settings.boot:
        from wiringcheck.targets.boot import BootTarget

        return BootTarget(settings)
    if settings.url:
        from wiringcheck.targets.url import UrlTarget

        return UrlTarget(settings)
    raise ValueError("the configuration names no target: set app, boot or url")
