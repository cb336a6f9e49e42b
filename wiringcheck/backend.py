"""Boot a backend and hand out its roles, without running the whole report.

The runner checks everything in one pass; this module only starts, probes and
stops, for people who write their own tests (the pytest plugin's fixtures) and for
`wiringcheck inspect` and `init`::

    async with booted(settings) as backend:
        registry = backend.roles["registry"]
        recording = await backend.probe()
        assert_events(recording)

It is built from the same pieces as the runner (`targets.make_target`, `lifecycle`,
`run.inprocess.record`, `run.judge`), so a role found here is the object the runner
checks, a run made here is made the way the runner makes it (the client on its own
thread, emissions timed, every isolation user at once), and a recording judged here is
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
from wiringcheck.findings import Finding, Severity
from wiringcheck.run.judge import Verdict, expectation_for, judge, judge_isolation
from wiringcheck.run.recording import DEFAULT_EVENTS, Expectation, Latency, Recording
from wiringcheck.secrets import Secrets
from wiringcheck.suggest import suggest

if TYPE_CHECKING:
    import ssl

    from wiringcheck.containment import Containment
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


@dataclass(frozen=True, slots=True)
class _Remembered:
    """What `assert_events(recording)` needs of a run probed here: how to judge it, what to scrub, its peers."""

    expectation: Expectation
    secrets: Secrets
    isolation: tuple[Finding, ...] = ()
    """The cross-talk findings of the isolation check this run was part of (`[isolation]`)."""


_EXPECTATIONS: OrderedDict[str, _Remembered] = OrderedDict()
"""What each recent probe run was probed with, by run id, so `assert_events(recording)` needs no more."""

_REMEMBERED = 256


def _remember(run_id: str, remembered: _Remembered) -> None:
    _EXPECTATIONS[run_id] = remembered
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
    containment: Containment | None = None

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
        (``await backend.probe(deadline=1.0)``).  The run is made as `wiringcheck run` makes
        it: in-process, the client on its own thread, the `probe.emit` calls timed; with
        ``[isolation]`` enabled, every user at once, and `assert_events` then judges the
        cross-talk too.  Never raises for what the server does: a refused connection or a
        timeout is the recording's `end`.
        """
        import time

        from wiringcheck.findings import Phase
        from wiringcheck.run.inprocess import record

        settings = self.settings.with_probe(**changes) if changes else self.settings
        users = _users(settings, self.handle.ws_url, self.environ) if settings.isolation.enabled else []
        recorded = await record(
            self.handle,
            dict(self.roles),
            [probe for _, probe in users] or [settings.probe],
            self.environ,
            clock=time.monotonic,
            ssl_context=self.ssl_context,
            take_overruns=lambda: self.containment.take_overruns(Phase.PROBE) if self.containment else [],
        )
        recording = recorded.recordings[0]
        expectation = expectation_for(settings.probe, latency=self.latency)
        isolation: list[Finding] = []
        if users:
            labelled = [(label, each) for (label, _), each in zip(users, recorded.recordings, strict=True)]
            isolation, _ = judge_isolation(labelled, expectation)
        captured = [value for each in recorded.recordings for value in each.secrets]
        secrets = Secrets([*settings.credentials(self.environ), *captured])
        _remember(recording.run_id, _Remembered(expectation, secrets, tuple(isolation)))
        return recording


def _users(settings: Settings, url: str, environ: Mapping[str, str]) -> list[tuple[str, Any]]:
    from wiringcheck.isolation import users_of

    return [(user.label, user.probe) for user in users_of(url, settings, environ)]


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
    containment = Containment()
    with backend_environment(settings), containment.installed(asyncio.get_running_loop()):
        async with _booted(settings, target, environ, ssl_context) as backend:
            backend.containment = containment
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
    (or, for a recording made elsewhere, the five default events within 100 ms); a run
    probed with ``[isolation]`` also fails on cross-talk between its users.
    `events` and `budget_ms` adjust the expectation for this assertion only.

    Returns:
        The checker's `Verdict` (timeline and timings), when every check passes.

    Raises:
        AssertionError: one block per finding, with what, where, why and what to do.
    """
    __tracebackhide__ = True
    remembered = _EXPECTATIONS.get(recording.run_id)
    secrets = remembered.secrets if remembered is not None else Secrets()
    if expectation is None:
        expectation = (
            remembered.expectation
            if remembered is not None
            else Expectation(events=DEFAULT_EVENTS, terminal=DEFAULT_EVENTS[-1])
        )
    if events is not None:
        chosen = tuple(events)
        if not chosen:
            raise ValueError("events must name at least one event")
        terminal = expectation.terminal if expectation.terminal in chosen else chosen[-1]
        expectation = replace(expectation, events=chosen, terminal=terminal)
    if budget_ms is not None:
        expectation = replace(expectation, budget_ms=budget_ms)
    verdict = judge(recording, _latency_of(recording, expectation))
    errors = [finding for finding in verdict.findings if finding.severity is Severity.ERROR]
    if remembered is not None:
        errors += [finding for finding in remembered.isolation if finding.severity is Severity.ERROR]
    if errors:
        from wiringcheck.render import finding_text

        errors = secrets.scrub(errors)

        blocks = "\n\n".join(finding_text(finding) for finding in errors)
        raise AssertionError(f"the run's events failed {len(errors)} check(s):\n\n{blocks}")
    return verdict
