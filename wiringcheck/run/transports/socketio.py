"""The socket.io transport (placeholder until it lands): a run over socket.io is refused with a clear reason."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

    from wiringcheck.run.session import RunSession

__all__ = ["drive", "drive_sync"]

_NOT_YET = "RuntimeError: the socket.io transport is not available in this version of wiringcheck"


async def drive(
    session: RunSession,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
    before_trigger: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Refuse the run: nothing is sent."""
    session.begin(clock())
    session.refused(clock(), _NOT_YET)


def drive_sync(
    session: RunSession, *, ssl_context: ssl.SSLContext | None = None, clock: Callable[[], float] = time.monotonic
) -> None:
    """Refuse the run: nothing is sent."""
    session.begin(clock())
    session.refused(clock(), _NOT_YET)
