"""Boot a backend and hand out its roles, without running the whole report.

The runner checks everything in one pass; this module only starts, probes and
stops, for people who write their own tests (the pytest plugin's fixtures) and for
`wiringcheck inspect`::

    async with booted(settings) as backend:
        registry = backend.roles["registry"]
        recording = await backend.probe()
        assert_events(recording)

It is built from the same pieces as the runner (`targets.make_target`,
`runner.resolve_path`, `probe.build_request`/`record_run`, `events.check_events`),
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

from wiringcheck.config import DEFAULT_EVENTS, Settings
from wiringcheck.events import Expectation, Recording, Verdict, attach_send_times, check_events, expectation_for
from wiringcheck.suggest import suggest

if TYPE_CHECKING:
    import ssl

    from wiringcheck.targets import Handle, Target

__all__ = ["Backend", "BackendError", "RoleNotFound", "Roles", "assert_events", "booted", "expectation_for"]


class BackendError(Exception):
    """The backend could not be started or stopped; `phase` says which (``boot`` or ``shutdown``).

    The backend's own exception, when there is one, is chained as the cause, so a
    test's traceback shows the line of startup that raised.
    """

    def __init__(self, phase: str, problem: str) -> None:
        self.phase = phase
        self.problem = problem
        super().__init__(problem)

    def __str__(self) -> str:
        return f"{self.phase}: {self.problem}"


class RoleNotFound(KeyError):
    """A role asked for by name that the backend does not offer; the message says why."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


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


_EXPECTATIONS: OrderedDict[str, Expectation] = OrderedDict()
"""The expectation of each recent probe run, by run id, so `assert_events(recording)` needs no other argument."""

_REMEMBERED = 256


def _remember(run_id: str, expectation: Expectation) -> None:
    _EXPECTATIONS[run_id] = expectation
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
    def latency(self) -> str:
        """How delivery latency is measured: ``send`` (in-process hand-off) or ``timestamp`` (event field)."""
        return "send" if self.handle.sends is not None else "timestamp"

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
        from wiringcheck.probe import build_request, record_run

        probe = replace(self.settings.probe, **changes) if changes else self.settings.probe
        request = build_request(self.handle.ws_url, probe, self.environ)
        async with asyncio.timeout(probe.connect_timeout + probe.deadline + 2.0):
            recording = await record_run(request, probe, ssl_context=self.ssl_context)
        if self.handle.sends is not None:
            recording = replace(recording, frames=attach_send_times(recording.frames, self.handle.sends))
        _remember(recording.run_id, expectation_for(probe, latency=self.latency))
        return recording


def _resolve_roles(settings: Settings, handle: Handle, target: Target) -> Roles:
    from wiringcheck.runner import resolve_path

    found: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for role in settings.roles.values():
        if not target.in_process:
            missing[role.name] = "a running URL exposes no in-process objects"
            continue
        try:
            found[role.name] = resolve_path(handle.root, role.path)
        except LookupError as exc:
            missing[role.name] = f"not found at {role.path!r}: {exc}"
    return Roles(found, missing)


async def _abort(target: Target) -> None:
    abort = getattr(target, "abort", None)
    if abort is not None:
        await abort()


@asynccontextmanager
async def booted(
    settings: Settings,
    *,
    environ: Mapping[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[Backend]:
    """Start the configured backend, yield it with its roles resolved, and always shut it down.

    Startup and shutdown run under the configuration's `startup_timeout` and
    `shutdown_timeout`. A `url` target is only connected to: it has no roles.

    Raises:
        BackendError: startup raised or hung, or shutdown did (only when the body did not raise).
        wiringcheck.importing.ImportRefError: the target's import path does not resolve.
    """
    from wiringcheck.diagnose import describe_exception
    from wiringcheck.importing import ImportRefError
    from wiringcheck.targets import BootError, make_target

    target = make_target(settings)
    try:
        async with asyncio.timeout(settings.startup_timeout):
            handle = await target.start()
    except TimeoutError:
        await _abort(target)
        raise BackendError("boot", f"startup did not finish within {settings.startup_timeout:g} s") from None
    except ImportRefError:
        raise
    except Exception as exc:
        await _abort(target)
        error = exc.error if isinstance(exc, BootError) else exc
        where = f" during {exc.phase}" if isinstance(exc, BootError) else ""
        headline, _ = describe_exception(error)
        raise BackendError("boot", f"startup raised{where}: {headline}") from error
    except BaseException:  # cancelled or interrupted: never leave the backend running
        await _abort(target)
        raise

    backend = Backend(
        settings=settings,
        handle=handle,
        roles=_resolve_roles(settings, handle, target),
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
        try:
            async with asyncio.timeout(settings.shutdown_timeout):
                await target.stop()
        except TimeoutError:
            await _abort(target)
            if not body_failed:
                raise BackendError(
                    "shutdown", f"shutdown did not finish within {settings.shutdown_timeout:g} s"
                ) from None
        except Exception as exc:
            if not body_failed:
                headline, _ = describe_exception(exc)
                raise BackendError("shutdown", f"shutdown raised: {headline}") from exc


# -- assertions on a recording ---------------------------------------------------------------------


def _latency_of(recording: Recording, expectation: Expectation) -> Expectation:
    """Measure latency the way the recording allows: send times when frames carry them."""
    has_send_times = any(frame.sent_at is not None for frame in recording.frames)
    if expectation.latency == "send" and recording.frames and not has_send_times:
        return replace(expectation, latency="timestamp")
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
    if expectation is None:
        expectation = _EXPECTATIONS.get(recording.run_id) or Expectation(
            events=DEFAULT_EVENTS, terminal=DEFAULT_EVENTS[-1]
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
    errors = [finding for finding in verdict.findings if finding.severity.value == "error"]
    if errors:
        from wiringcheck.render.junit import finding_text

        blocks = "\n\n".join(finding_text(finding) for finding in errors)
        raise AssertionError(f"the run's events failed {len(errors)} check(s):\n\n{blocks}")
    return verdict
