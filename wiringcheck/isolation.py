"""Isolation: K users connected at once, each starting its own run, none seeing another's frames.

The probe's own run proves that events reach *a* user; this proves they reach *only*
the user who started the run.  This module says who the users are (their labels, ids
and tokens); `run.drive.perform_users` connects them all and starts every run at once,
so a backend that broadcasts, or routes by the wrong key, has every chance to misdeliver;
`run.judge.judge_isolation` judges what each received.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from wiringcheck.config import user_identity
from wiringcheck.errors import UsageError

if TYPE_CHECKING:
    from wiringcheck.config import ProbeSettings, Settings

__all__ = ["SimulatedUser", "users_of"]


@dataclass(frozen=True, slots=True)
class SimulatedUser:
    """One user of an isolation check: its label, and its probe settings (its token, its user id)."""

    label: str
    probe: ProbeSettings


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
                "see one user in two tabs: give each user its own ([isolation] tokens, token = '...{n}' or tokens_env)"
            )
        tokens[token] = number
        auth = replace(probe.auth, token_env=None, token=token) if probe.auth.enabled else probe.auth
        users.append(SimulatedUser(f"user {number}", replace(probe, user_id=identity.user_id, auth=auth)))
    return users
