"""Isolation: K users connected at once, each starting its own run, none seeing another's frames.

The probe's own run proves that events reach *a* user; this proves they reach *only*
the user who started the run. Every user connects (and authenticates) first; once all
are connected, or the connect timeout passed, each sends its trigger at the same moment,
so a backend that broadcasts, or routes by the wrong key, has every chance to misdeliver.
What each user received is judged by the pure rules (`runrules.check_cross_talk`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from wiringcheck.config import user_identity
from wiringcheck.errors import UsageError
from wiringcheck.events import Recording, RecordingEnd
from wiringcheck.probe import start_run
from wiringcheck.runrules import UserRun

if TYPE_CHECKING:
    import ssl

    from wiringcheck.config import ProbeSettings, Settings

__all__ = ["SimulatedUser", "record_users", "users_of"]

_NOT_STARTED = (RecordingEnd.CONNECT_FAILED, RecordingEnd.AUTH_REJECTED, RecordingEnd.SETUP_FAILED)


@dataclass(frozen=True, slots=True)
class SimulatedUser:
    """One user of an isolation check: its label, and its probe settings (its token, its user id)."""

    label: str
    probe: ProbeSettings

    def run(self, recording: Recording) -> UserRun:
        """What this user received, with the values only its own run carries (its run, thread and user ids)."""
        identity = {kind: value for kind, value in recording.ids if value}
        identity.setdefault("run", recording.run_id)
        return UserRun(label=self.label, identity=identity, recording=recording)


def users_of(url: str, settings: Settings, environ: Mapping[str, str]) -> list[SimulatedUser]:
    """The K users of `settings.isolation`, each with its own user id and token (`config.user_identity`).

    Raises:
        UsageError: a user has no token, or two users would send the same one (the backend would see one user).
    """
    probe = settings.probe
    users = []
    tokens: dict[str | None, int] = {}
    for number in range(1, settings.isolation.users + 1):
        identity = user_identity(settings.isolation, number, probe, environ, count=settings.isolation.users)
        token = identity.token
        if probe.auth.enabled and token in tokens:
            raise UsageError(
                f"isolation: users {tokens[token]} and {number} would send the same token, so the backend would "
                "see one user in two tabs: give each user its own ([isolation] token = '...{n}' or tokens_env)"
            )
        tokens[token] = number
        auth = replace(probe.auth, token_env=None, token=token) if probe.auth.enabled else probe.auth
        users.append(SimulatedUser(f"user {number}", replace(probe, user_id=identity.user_id, auth=auth)))
    return users


async def record_users(
    users: list[SimulatedUser],
    environ: Mapping[str, str],
    *,
    ws_url: str,
    ssl_context: ssl.SSLContext | None,
    clock: Callable[[], float],
) -> list[Recording]:
    """Connect every user, then start every run at once; each recording ends as a single probe's does."""
    barrier = asyncio.Barrier(len(users))
    connect_timeout = max(user.probe.connect_timeout for user in users)

    async def all_connected() -> None:
        # A user that cannot connect must not hold the others back longer than the connect timeout.
        with contextlib.suppress(TimeoutError, asyncio.BrokenBarrierError):
            async with asyncio.timeout(connect_timeout):
                await barrier.wait()

    async def one(user: SimulatedUser) -> Recording:
        recording = await start_run(
            ws_url, user.probe, environ, ssl_context=ssl_context, clock=clock, before_trigger=all_connected
        )
        if recording.end in _NOT_STARTED:
            await barrier.abort()
        return recording

    return list(await asyncio.gather(*(one(user) for user in users)))
