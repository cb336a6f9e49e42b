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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wiringcheck.diagnose import FrameInfo, describe_exception, innermost_error, pending_stacks
from wiringcheck.errors import BootError, ImportRefError
from wiringcheck.findings import Finding
from wiringcheck.suggest import suggest

if TYPE_CHECKING:
    from wiringcheck.config import Settings
    from wiringcheck.targets import Handle, Target

__all__ = ["Outcome", "abort", "resolve_path", "resolve_roles", "start", "stop"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a start or a stop went: the handle when it worked, else the finding and the backend's error."""

    handle: Handle | None = None
    finding: Finding | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.finding is None


async def start(target: Target, settings: Settings) -> Outcome:
    """Start `target` within `settings.startup_timeout`; abort whatever it left running when it fails.

    Raises:
        ImportRefError: the target's import path does not resolve (a usage error, not the backend's fault).
    """
    before = set(asyncio.all_tasks())
    try:
        async with asyncio.timeout(settings.startup_timeout):
            handle = await target.start()
    except TimeoutError:
        current = asyncio.current_task()
        stacks = pending_stacks(t for t in asyncio.all_tasks() if t not in before and t is not current)
        await abort(target)
        return Outcome(finding=_hang_finding(settings.startup_timeout, stacks))
    except ImportRefError:
        await abort(target)
        raise
    except BootError as exc:
        await abort(target)
        return Outcome(finding=_crash_finding(exc.phase, exc.error), error=exc.error)
    except Exception as exc:
        await abort(target)
        return Outcome(finding=_crash_finding("startup", exc), error=exc)
    except BaseException:  # cancelled or interrupted: never leave the backend running
        await abort(target)
        raise
    return Outcome(handle=handle)


async def stop(target: Target, settings: Settings) -> Outcome:
    """Stop `target` within `settings.shutdown_timeout`; abort it when it hangs."""
    timeout = settings.shutdown_timeout
    try:
        async with asyncio.timeout(timeout):
            await target.stop()
    except TimeoutError:
        await abort(target)
        return Outcome(
            finding=Finding(
                code="WC103",
                message=f"shutdown did not finish within {timeout:g} s",
                hint=_SHUTDOWN_HINTS.get(target.kind, _SHUTDOWN_HINTS["app"]),
                subject="shutdown",
            )
        )
    except Exception as exc:
        headline, frames = describe_exception(exc)
        return Outcome(
            finding=Finding(
                code="WC103",
                message=f"shutdown raised {headline}",
                location=frames[-1].location if frames else None,
                hint="Make shutdown tolerate the state startup left behind.",
                subject="shutdown",
                evidence=tuple(str(frame) for frame in frames),
            ),
            error=exc,
        )
    return Outcome()


_SHUTDOWN_HINTS = {
    "app": "Cancel background tasks and close connections in the lifespan's shutdown.",
    "boot": "Cancel background tasks and close connections when the boot context manager exits.",
}


async def abort(target: Target) -> None:
    """Cancel whatever a failed or timed-out start (or stop) left running; never raises."""
    with contextlib.suppress(Exception):  # the backend is already failing; its finding says why
        await target.abort()


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


def _hang_finding(timeout: float, stacks: list[tuple[str, list[FrameInfo]]]) -> Finding:
    evidence: list[str] = []
    location = None
    for name, frames in stacks:
        innermost = frames[-1]
        location = location or innermost.location
        evidence.append(f"task {name!r} stuck awaiting `{innermost.code}` at {innermost.path}:{innermost.line}")
        evidence.extend(f"  {frame}" for frame in frames)
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
    """Follow an attribute path from `root` (mappings by key). Raises LookupError naming the missing step."""
    value = root
    walked = "<root>"
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
