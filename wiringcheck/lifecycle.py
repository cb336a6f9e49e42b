"""The backend's lifecycle: start, abort and stop a target under deadlines, and find its roles.

The runner, the session behind the pytest fixtures and `wiringcheck inspect` all
boot backends; they all come here, so a deadline, an abort after a failed start and
the wording of a crash or a hang exist once.  Failures come back as `Finding`s
(WC101 crash, WC102 hang, WC103 shutdown) together with the backend's exception,
so the runner can report them and the session can raise them with their cause.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wiringcheck.config import TargetKind
from wiringcheck.containment import BackendExit, Overrun, exit_code_of, interrupting_after
from wiringcheck.diagnose import FrameInfo, describe_exception, innermost_error, pending_stacks
from wiringcheck.errors import BootError, ImportRefError
from wiringcheck.findings import Finding, Phase
from wiringcheck.importing import prepend_paths, remove_paths
from wiringcheck.suggest import suggest

if TYPE_CHECKING:
    from wiringcheck.config import Settings
    from wiringcheck.targets import Handle, Target

__all__ = [
    "Outcome",
    "abort",
    "backend_environment",
    "exit_finding",
    "resolve_path",
    "resolve_roles",
    "start",
    "stop",
]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a start or a stop went: the handle when it worked, else the finding and the backend's error."""

    handle: Handle | None = None
    finding: Finding | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.finding is None


@contextlib.contextmanager
def backend_environment(settings: Settings) -> Iterator[None]:
    """The `[env]` variables set in ``os.environ`` for the block, then every one restored exactly.

    Entered where the backend lives, around everything that imports it (the roles'
    classes, the boot), runs it and shuts it down; a variable that was unset is unset
    again, whatever the backend did to it meanwhile. ``{tmp}`` in a value is one fresh
    directory for the block, removed afterwards. Values are never printed: some are secrets.
    A `url` target runs elsewhere, in its own environment: nothing is set for it.
    """
    if not settings.env or settings.target_kind not in (TargetKind.APP, TargetKind.BOOT):
        yield
        return
    saved = {name: os.environ.get(name) for name, _ in settings.env}
    scratch: str | None = None
    try:
        if any("{tmp}" in value for _, value in settings.env):
            scratch = tempfile.mkdtemp(prefix="wiringcheck-env-")
        for name, value in settings.env:
            os.environ[name] = value.replace("{tmp}", scratch) if scratch is not None else value
        yield
    finally:
        for name, before in saved.items():
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


_PATHS: weakref.WeakKeyDictionary[Any, list[str]] = weakref.WeakKeyDictionary()
"""The `sys.path` entries each started target added, taken off again when it stops."""

_GRACE = 0.5
"""Seconds past a deadline before blocked code is interrupted: the loop's own timeout fires first when it can."""


async def start(target: Target, settings: Settings) -> Outcome:
    """Start `target` within `settings.startup_timeout`; abort whatever it left running when it fails.

    A startup that blocks the event loop (a sleeping factory, a blocking socket) is
    interrupted just after the deadline too (`containment.interrupting_after`), and a
    startup that exits the process (`sys.exit`) is a finding, never wiringcheck's exit.

    Raises:
        ImportRefError: the target's import path does not resolve (a usage error, not the backend's fault).
    """
    timeout = settings.startup_timeout
    before = set(asyncio.all_tasks())
    # On sys.path until the backend stops (`stop`, or `abort` when the start fails), and off it after.
    _PATHS[target] = [*_PATHS.get(target, ()), *prepend_paths(settings.pythonpath)]
    try:
        with interrupting_after(timeout + _GRACE):
            async with asyncio.timeout(timeout):
                handle = await target.start()
    except TimeoutError:
        current = asyncio.current_task()
        stacks = pending_stacks(t for t in asyncio.all_tasks() if t not in before and t is not current)
        await abort(target)
        return Outcome(finding=_hang_finding(timeout, stacks))
    except ImportRefError:
        await abort(target)
        raise
    except (SystemExit, KeyboardInterrupt, Overrun) as exc:
        await abort(target)
        return Outcome(finding=_failure(Phase.BOOT, "startup", exc, timeout), error=exc)
    except BootError as exc:
        await abort(target)
        return Outcome(finding=_failure(Phase.BOOT, exc.phase, exc.error, timeout), error=exc.error)
    except Exception as exc:
        await abort(target)
        return Outcome(finding=_failure(Phase.BOOT, "startup", exc, timeout), error=exc)
    except BaseException as exc:
        await abort(target)  # never leave the backend running
        if _ours(exc):
            raise
        # CancelledError nobody asked for, GeneratorExit, a BaseException of the backend's own: its failure.
        return Outcome(finding=_failure(Phase.BOOT, "startup", exc, timeout), error=exc)
    return Outcome(handle=handle)


def _ours(error: BaseException) -> bool:
    """Whether `error` is wiringcheck being cancelled (a deadline above, Ctrl-C), not the backend raising it."""
    if not isinstance(error, asyncio.CancelledError):
        return False
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def stop(target: Target, settings: Settings) -> Outcome:
    """Stop `target` within `settings.shutdown_timeout`; abort it when it hangs, blocks or exits."""
    timeout = settings.shutdown_timeout
    try:
        return await _stop(target, timeout)
    finally:
        remove_paths(_PATHS.pop(target, ()))


async def _stop(target: Target, seconds: float) -> Outcome:
    try:
        with interrupting_after(seconds + _GRACE):
            async with asyncio.timeout(seconds):
                await target.stop()
    except TimeoutError:
        current = asyncio.current_task()
        stacks = pending_stacks(t for t in asyncio.all_tasks() if t is not current)
        await abort(target)
        stuck = f"; stuck awaiting `{stacks[0][1][-1].code}`" if stacks else ""
        return Outcome(
            finding=Finding(
                code="WC103",
                message=f"shutdown did not finish within {seconds:g} s{stuck}",
                location=stacks[0][1][-1].location if stacks else None,
                hint=_SHUTDOWN_HINTS.get(target.kind, _SHUTDOWN_HINTS["app"]),
                subject="shutdown",
                evidence=tuple(line for name, frames in stacks for line in _task_lines(name, frames)),
            )
        )
    except (SystemExit, KeyboardInterrupt, Overrun) as exc:
        await abort(target)
        return Outcome(finding=_failure(Phase.SHUTDOWN, "shutdown", exc, seconds), error=exc)
    except Exception as exc:
        return Outcome(finding=_failure(Phase.SHUTDOWN, "shutdown", exc, seconds), error=exc)
    except BaseException as exc:
        await abort(target)
        if _ours(exc):
            raise
        return Outcome(finding=_failure(Phase.SHUTDOWN, "shutdown", exc, seconds), error=exc)
    return Outcome()


def _failure(phase: Phase, step: str, error: BaseException, timeout: float) -> Finding:
    """The finding for a start or stop that raised: an exit (WC108), a blocked loop, or a crash."""
    inner = innermost_error(error)
    if isinstance(inner, BootError):
        inner = innermost_error(inner.error)
    if isinstance(inner, SystemExit | KeyboardInterrupt | BackendExit):
        return exit_finding(phase, inner)
    if isinstance(inner, Overrun):
        return _blocked_finding(phase, timeout, inner.stack)
    if phase is Phase.SHUTDOWN:
        headline, frames = describe_exception(error)
        return Finding(
            code="WC103",
            message=f"shutdown raised {headline}",
            location=frames[-1].location if frames else None,
            hint="Make shutdown tolerate the state startup left behind.",
            subject="shutdown",
            evidence=tuple(str(frame) for frame in frames),
        )
    return _crash_finding(step, error)


def exit_finding(phase: Phase, error: BaseException) -> Finding:
    """WC108: the backend tried to end the process; where, and what it would have exited with."""
    exit_error = error.exit if isinstance(error, BackendExit) else error
    _, frames = describe_exception(exit_error)
    return Finding(
        code="WC108",
        message=f"the backend called {exit_code_of(error)} during {phase}; wiringcheck kept running to report it",
        location=frames[-1].location if frames else None,
        hint="Raise an exception instead of exiting: a server that exits takes every user's connection with it.",
        subject=str(phase),
        evidence=tuple(f"  {frame}" for frame in frames),
    )


def _blocked_finding(phase: Phase, timeout: float, stack: list[FrameInfo]) -> Finding:
    """WC102 (boot) or WC103 (shutdown) for code that blocked the event loop past the deadline."""
    innermost = stack[-1] if stack else None
    where = f"; blocked in `{innermost.code}`" if innermost and innermost.code else ""
    step = "startup" if phase is Phase.BOOT else "shutdown"
    return Finding(
        code="WC102" if phase is Phase.BOOT else "WC103",
        message=f"{step} blocked the event loop past its {timeout:g} s deadline{where}",
        location=innermost.location if innermost else None,
        hint="Never block the event loop: await an async client, or run the blocking call in a thread "
        "(asyncio.to_thread) under a timeout.",
        subject="boot" if phase is Phase.BOOT else "shutdown",
        evidence=("where the event loop was stuck (backend frames, innermost last):", *(f"  {f}" for f in stack)),
    )


_SHUTDOWN_HINTS = {
    "app": "Cancel background tasks and close connections in the lifespan's shutdown.",
    "boot": "Cancel background tasks and close connections when the boot context manager exits.",
}


async def abort(target: Target) -> None:
    """Cancel whatever a failed or timed-out start (or stop) left running; never raises."""
    try:
        with contextlib.suppress(Exception):  # the backend is already failing; its finding says why
            await target.abort()
    finally:
        remove_paths(_PATHS.pop(target, ()))


def _crash_finding(phase: str, error: BaseException) -> Finding:
    headline, frames = describe_exception(error)
    where = frames[-1].location if frames else None
    evidence = tuple(f"  {frame}" for frame in frames)
    hint = (
        "Fix the last line of the backend's own code in the traceback below, then run again."
        if frames
        else "The traceback has no line of the backend's own code; the exception above names what failed."
    )
    return Finding(
        code="WC101",
        message=f"{_PHASES.get(phase, phase)} raised {headline}",
        location=where,
        hint=hint,
        subject="boot",
        evidence=("traceback (backend frames, most recent call last):", *evidence) if evidence else (),
        data={"exception": type(innermost_error(error)).__name__},
    )


_PHASES = {
    "startup": "startup",
    "lifespan": "the lifespan's startup",
    "factory": "the app factory",
    "boot": "the boot function",
    "import": "importing the app",
}


def _task_lines(name: str, frames: list[FrameInfo]) -> list[str]:
    """Where one task waits: its innermost await, then its backend frames."""
    innermost = frames[-1]
    return [
        f"task {name!r} stuck awaiting `{innermost.code}` at {innermost.path}:{innermost.line}",
        *(f"  {frame}" for frame in frames),
    ]


def _hang_finding(timeout: float, stacks: list[tuple[str, list[FrameInfo]]]) -> Finding:
    evidence: list[str] = []
    location = None
    for name, frames in stacks:
        location = location or frames[-1].location
        evidence.extend(_task_lines(name, frames))
    stuck = f"; stuck awaiting `{stacks[0][1][-1].code}`" if stacks else ""
    return Finding(
        code="WC102",
        message=f"startup did not finish within {timeout:g} s{stuck}",
        location=location,
        hint="Bound the await with a timeout, or start the dependency it waits for; "
        "raise startup_timeout only if startup is legitimately slow.",
        subject="boot",
        evidence=tuple(evidence) or ("no backend task was pending: startup was busy, not waiting",),
    )


# -- roles -----------------------------------------------------------------------------------------


def _candidates(value: Any) -> list[str]:
    names = [name for name in dir(value) if not name.startswith("__")]
    state = getattr(value, "_state", None)  # starlette.datastructures.State keeps its attributes here
    if isinstance(state, dict):
        names.extend(state)
    if isinstance(value, Mapping):
        names.extend(str(key) for key in value)
    return names


def resolve_path(root: Any, path: str) -> Any:
    """Follow an attribute path from `root` (mappings by key). Raises LookupError naming the missing step.

    A path of the form ``package.module:global.attribute`` starts at a module global
    instead (a manager kept outside the app, built by the lifespan); it is read after
    boot, so it sees what startup assigned.
    """
    value = root
    walked = "<root>"
    if ":" in path:
        import importlib

        module_name, _, path = path.partition(":")
        try:
            value = importlib.import_module(module_name)
        except ImportError as exc:
            raise LookupError(f"module {module_name!r} cannot be imported: {exc}") from None
        walked = module_name
        first = path.split(".")[0]
        if hasattr(value, first) and getattr(value, first) is None:
            raise LookupError(f"{module_name}:{first} is None: startup did not assign it")
    for name in path.split("."):
        if isinstance(value, Mapping) and name in value:
            value = value[name]
        else:
            try:
                value = getattr(value, name)
            except AttributeError:
                guess = suggest(name, _candidates(value))
                hint = f"; did you mean {guess!r}?" if guess else ""
                raise LookupError(f"{walked} ({type(value).__name__}) has no attribute {name!r}{hint}") from None
        walked = name if walked == "<root>" else f"{walked}.{name}"
    return value


def resolve_roles(settings: Settings, handle: Handle, target: Target) -> tuple[dict[str, Any], dict[str, str]]:
    """The configured roles found on the booted backend, and why each missing one is missing."""
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
    return found, missing
