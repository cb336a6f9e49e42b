"""Boot a backend and hand out its roles, without running the whole report.

The runner checks everything in one pass; this module only starts, probes and
stops, for people who write their own tests (the pytest plugin's fixtures) and for
`wiringcheck inspect`::

    async with booted(settings) as backend:
        registry = backend.roles["registry"]
        recording = await backend.probe()
        assert_events(recording)

It is built from the same pieces as the runner (`targets.make_target`,
`lifecycle.resolve_path`, `probe.start_run`, `events.check_events`),
so a role found here is the object the runner checks, and a recording judged here is
judged by the same rules.
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from wiringcheck.config import Settings
from wiringcheck.errors import BackendError, RoleNotFound
from wiringcheck.events import (
    DEFAULT_EVENTS,
    Expectation,
    Latency,
    Recording,
    Verdict,
    attach_send_times,
    check_events,
    expectation_for,
)
from wiringcheck.findings import Severity
from wiringcheck.secrets import Secrets
from wiringcheck.suggest import suggest

if TYPE_CHECKING:
    import ssl

    from wiringcheck.targets import Handle, Target

__all__ = ["Backend", "BackendError", "RoleNotFound", "Roles", "assert_events", "booted", "expectation_for"]


class Roles(Mapping[str, Any]):
    """The configured roles of a booted backend, by name; a missing one says why it is missing."""

    def __init__(self, found: Mapping[str, Any], missing: Mapping[str, str]) -> None:
        self._found = dict(found)
        self._missing = dict(missing)

    def __getitem__(self, name: str) -> Any:
        if name in self._found:
            return self._found[name]
        if name in self._missing:
            raise RoleNotFound(f"role {name!r} is not available: {self._missing[name]}")
        known = [*self._found, *self._missing]
        guess = suggest(name, known)
        hint = f"; did you mean {guess!r}?" if guess else f"; configured roles: {', '.join(known) or 'none'}"
        raise RoleNotFound(f"no role named {name!r} in the configuration{hint}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._found)

    def __len__(self) -> int:
        return len(self._found)

    @property
    def missing(self) -> dict[str, str]:
        """Roles that are configured but were not found, with the reason."""
        return dict(self._missing)


_EXPECTATIONS: OrderedDict[str, tuple[Expectation, Secrets]] = OrderedDict()
"""The expectation and secrets of each recent probe run, by run id, so `assert_events(recording)` needs no more."""

_REMEMBERED = 256


def _remember(run_id: str, expectation: Expectation, secrets: Secrets) -> None:
    _EXPECTATIONS[run_id] = (expectation, secrets)
    while len(_EXPECTATIONS) > _REMEMBERED:
        _EXPECTATIONS.popitem(last=False)


@dataclass(slots=True)
class Backend:
    """A booted backend: its roles by name, where to connect, and a probe that starts one run.

    Attributes:
        settings: the configuration it was booted with.
        handle: what the target returned (the app, the boot handle, the send log).
        roles: the configured roles, resolved on the live objects startup built.
    """

    settings: Settings
    handle: Handle
    roles: Roles
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    ssl_context: ssl.SSLContext | None = None

    @property
    def ws_url(self) -> str:
        """Where the probe connects (without any token)."""
        return self.handle.ws_url

    @property
    def app(self) -> Any:
        """The object role paths start from: the ASGI app or the boot handle (None for a URL)."""
        return self.handle.root

    @property
    def latency(self) -> Latency:
        """How delivery latency is measured: in-process hand-off (`SEND`) or the event's field (`TIMESTAMP`)."""
        return Latency.SEND if self.handle.sends is not None else Latency.TIMESTAMP

    @property
    def expectation(self) -> Expectation:
        """What a healthy run of this backend delivers, from the configuration."""
        return expectation_for(self.settings.probe, latency=self.latency)

    async def probe(self, **changes: Any) -> Recording:
        """Start one run (the configured trigger) and record what arrives, until the terminal event or deadline.

        Keyword arguments replace fields of the probe settings for this run only
        (``await backend.probe(deadline=1.0)``). Never raises for what the server does:
        a refused connection or a timeout is the recording's `end`.
        """
        from wiringcheck.probe import start_run

        probe = replace(self.settings.probe, **changes) if changes else self.settings.probe
        bound = probe.connect_timeout + probe.deadline + sum(step.timeout for step in probe.setup) + 2.0
        async with asyncio.timeout(bound):
            recording = await start_run(self.handle.ws_url, probe, self.environ, ssl_context=self.ssl_context)
        if self.handle.sends is not None:
            recording = replace(recording, frames=attach_send_times(recording.frames, self.handle.sends))
        secrets = Secrets.from_settings(replace(self.settings, probe=probe), self.environ, *recording.secrets)
        _remember(recording.run_id, expectation_for(probe, latency=self.latency), secrets)
        return recording


@asynccontextmanager
async def booted(
    settings: Settings,
    *,
    environ: Mapping[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[Backend]:
    """Start the configured backend, yield it with its roles resolved, and always shut it down.

    Startup and shutdown run under the configuration's `startup_timeout` and
    `shutdown_timeout` (`wiringcheck.lifecycle`). A `url` target is only connected
    to: it has no roles.

    Raises:
        BackendError: startup raised or hung, or shutdown did (only when the body did not raise).
        wiringcheck.errors.ImportRefError: the target's import path does not resolve.
    """
    from wiringcheck.containment import Containment
    from wiringcheck.lifecycle import backend_environment
    from wiringcheck.targets import make_target

    target = make_target(settings)
    with backend_environment(settings), Containment().installed(asyncio.get_running_loop()):
        async with _booted(settings, target, environ, ssl_context) as backend:
            yield backend


@asynccontextmanager
async def _booted(
    settings: Settings, target: Target, environ: Mapping[str, str] | None, ssl_context: ssl.SSLContext | None
) -> AsyncIterator[Backend]:
    from wiringcheck import lifecycle

    started = await lifecycle.start(target, settings)
    if started.handle is None:
        assert started.finding is not None
        raise BackendError("boot", started.finding.message) from started.error
    handle = started.handle
    found, missing = lifecycle.resolve_roles(settings, handle, target)
    backend = Backend(
        settings=settings,
        handle=handle,
        roles=Roles(found, missing),
        environ=os.environ if environ is None else environ,
        ssl_context=ssl_context,
    )
    body_failed = False
    try:
        yield backend
    except BaseException:
        body_failed = True
        raise
    finally:
        stopped = await lifecycle.stop(target, settings)
        if stopped.finding is not None and not body_failed:
            raise BackendError("shutdown", stopped.finding.message) from stopped.error


# -- assertions on a recording ---------------------------------------------------------------------


def _latency_of(recording: Recording, expectation: Expectation) -> Expectation:
    """Measure latency the way the recording allows: send times when frames carry them."""
    has_send_times = any(frame.sent_at is not None for frame in recording.frames)
    if expectation.latency == Latency.SEND and recording.frames and not has_send_times:
        return replace(expectation, latency=Latency.TIMESTAMP)
    return expectation


def assert_events(
    recording: Recording,
    expectation: Expectation | None = None,
    *,
    events: tuple[str, ...] | list[str] | None = None,
    budget_ms: float | None = None,
) -> Verdict:
    """Assert that a recorded run delivered the expected events, in order, each within budget.

    Without `expectation`, the run is judged by the configuration it was probed with
    (or, for a recording made elsewhere, the five default events within 100 ms).
    `events` and `budget_ms` adjust the expectation for this assertion only.

    Returns:
        The checker's `Verdict` (timeline and timings), when every check passes.

    Raises:
        AssertionError: one block per finding, with what, where, why and what to do.
    """
    __tracebackhide__ = True
    remembered = _EXPECTATIONS.get(recording.run_id)
    secrets = remembered[1] if remembered is not None else Secrets()
    if expectation is None:
        expectation = (
            remembered[0] if remembered is not None else Expectation(events=DEFAULT_EVENTS, terminal=DEFAULT_EVENTS[-1])
        )
    if events is not None:
        chosen = tuple(events)
        if not chosen:
            raise ValueError("events must name at least one event")
        terminal = expectation.terminal if expectation.terminal in chosen else chosen[-1]
        expectation = replace(expectation, events=chosen, terminal=terminal)
    if budget_ms is not None:
        expectation = replace(expectation, budget_ms=budget_ms)
    verdict = check_events(recording, _latency_of(recording, expectation))
    errors = [finding for finding in verdict.findings if finding.severity is Severity.ERROR]
    if errors:
        from wiringcheck.render import finding_text

        errors = secrets.scrub(errors)

        blocks = "\n\n".join(finding_text(finding) for finding in errors)
        raise AssertionError(f"the run's events failed {len(errors)} check(s):\n\n{blocks}")
    return verdict
