"""Turn what went wrong during boot into evidence a developer can act on.

- `describe_exception`: the exception line as Python prints it (keeping its
  did-you-mean), and the traceback trimmed to the backend's own frames;
- `pending_stacks`: for a startup that hangs, where each of the backend's tasks
  is waiting, following the chain of awaits down to the innermost frame;
- `where_recorded`: for an error startup caught and stored (``app.state.startup_error``),
  where it was raised, or where startup logged it when only its text was kept.

"The backend's own frames" are those outside the standard library, outside
wiringcheck, and outside the server and framework layers it runs under.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sysconfig
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from wiringcheck.findings import Location

if TYPE_CHECKING:
    from collections.abc import Sequence

    from wiringcheck.report import LogRecord

__all__ = [
    "FrameInfo",
    "describe_exception",
    "innermost_error",
    "is_user_file",
    "is_wiringcheck_file",
    "pending_stacks",
    "where_recorded",
]

_LIBRARY_ROOTS = tuple(
    os.path.realpath(path) + os.sep
    for path in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]}
    if path
)
_SCRIPTS = os.path.realpath(sysconfig.get_paths()["scripts"]) + os.sep
"""Where console scripts live (``venv/bin``): ``venv/bin/wiringcheck`` is wiringcheck, not the backend."""
_FRAMEWORKS = (
    "wiringcheck",
    "starlette",
    "uvicorn",
    "anyio",
    "websockets",
    "fastapi",
    "h11",
    "httpx",
    "httpcore",
    "_pytest",
    "pytest",
    "pluggy",
    "typer",
    "click",
    "rich",
)


@functools.lru_cache(maxsize=4096)
def is_user_file(path: str) -> bool:
    """Whether a frame in `path` belongs to the backend rather than to Python or the framework.

    Cached: it resolves symlinks, and the tracer and the task factory ask it for every call.
    """
    if not path or path.startswith("<"):
        return False
    real = os.path.realpath(path)
    if real.startswith(_LIBRARY_ROOTS) and "site-packages" not in real:
        return False
    if real.startswith(_SCRIPTS) and not real.endswith(".py"):
        return False
    parts = real.split(os.sep)
    return not any(
        part in _FRAMEWORKS and (index == 0 or parts[index - 1] in ("site-packages", "dist-packages"))
        for index, part in enumerate(parts)
    ) and not _inside_wiringcheck(real)


def _inside_wiringcheck(real: str) -> bool:
    here = os.path.dirname(os.path.realpath(__file__)) + os.sep
    return real.startswith(here)


@functools.lru_cache(maxsize=1024)
def is_wiringcheck_file(path: str) -> bool:
    """Whether a frame in `path` is wiringcheck's own code (a lookup it makes is not the backend's)."""
    return bool(path) and not path.startswith("<") and _inside_wiringcheck(os.path.realpath(path))


@dataclass(frozen=True, slots=True)
class FrameInfo:
    """One frame of a trimmed traceback or await chain."""

    path: str
    line: int
    function: str
    code: str = ""

    @property
    def location(self) -> Location:
        return Location(self.path, self.line)

    def __str__(self) -> str:
        code = f": {self.code}" if self.code else ""
        return f"{self.path}:{self.line} in {self.function}{code}"


def innermost_error(error: BaseException) -> BaseException:
    """Unwrap exception groups of one member (task groups wrap a lone failure)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def describe_exception(error: BaseException) -> tuple[str, list[FrameInfo]]:
    """The exception line as Python prints it, and the backend's own frames, outermost first."""
    error = innermost_error(error)
    headline = "".join(traceback.format_exception_only(type(error), error)).strip()
    headline += _did_you_mean(error, headline)
    frames = [
        FrameInfo(entry.filename, entry.lineno or 0, entry.name, (entry.line or "").strip())
        for entry in traceback.extract_tb(error.__traceback__)
        if is_user_file(entry.filename)
    ]
    return headline, frames


def _did_you_mean(error: BaseException, headline: str) -> str:
    """Python's own AttributeError suggestion, which 3.11 prints only in the interpreter's hook."""
    if not isinstance(error, AttributeError) or "Did you mean" in headline:
        return ""
    from wiringcheck.suggest import suggest

    name, obj = getattr(error, "name", None), getattr(error, "obj", None)
    if not name or obj is None:
        return ""
    try:
        candidates = dir(obj)
    except Exception:  # a hostile __dir__ must not hide the original error
        return ""
    guess = suggest(name, candidates)
    return f". Did you mean: {guess!r}?" if guess else ""


def _await_chain(task: asyncio.Task[object]) -> Iterator[FrameType]:
    """The frames of a suspended task, from its coroutine down the chain of awaits."""
    awaitable: object = task.get_coro()
    seen = 0
    while awaitable is not None and seen < 200:
        seen += 1
        frame = frame_of(awaitable)
        if frame is not None:
            yield frame
        awaitable = (
            getattr(awaitable, "cr_await", None)
            or getattr(awaitable, "gi_yieldfrom", None)
            or getattr(awaitable, "ag_await", None)
            or _generator_behind(awaitable)
        )


def _generator_behind(awaitable: object) -> object:
    """The async generator an `asend()` awaitable drives (how `@asynccontextmanager` lifespans wait).

    Python exposes no attribute for it, so ask the garbage collector what the awaitable refers to.
    """
    if frame_of(awaitable) is not None or type(awaitable).__name__ != "async_generator_asend":
        return None
    import gc
    import types

    return next((ref for ref in gc.get_referents(awaitable) if isinstance(ref, types.AsyncGeneratorType)), None)


def frame_of(awaitable: object) -> FrameType | None:
    return (
        getattr(awaitable, "cr_frame", None)
        or getattr(awaitable, "gi_frame", None)
        or getattr(awaitable, "ag_frame", None)
    )


def pending_stacks(tasks: Iterable[asyncio.Task[object]]) -> list[tuple[str, list[FrameInfo]]]:
    """For each pending task, its name and the backend frames it is suspended in, innermost last."""
    import linecache

    result = []
    for task in tasks:
        if task.done():
            continue
        frames = []
        for frame in _await_chain(task):
            path, line = frame.f_code.co_filename, frame.f_lineno
            if is_user_file(path):
                code = linecache.getline(path, line).strip()
                frames.append(FrameInfo(path, line, frame.f_code.co_name, code))
        if frames:
            result.append((task.get_name(), frames))
    return result


def where_recorded(value: object, logs: Sequence[LogRecord]) -> tuple[Location | None, tuple[str, ...]]:
    """Where a failure startup stored instead of raising came from, and the lines that show it.

    An exception object keeps its traceback: the innermost backend frame is where it was
    raised. A text (``"RuntimeError: tool ... failed"``) keeps nothing, but startup usually
    logged it as it caught it: the log line that carries the text is where it was recorded.
    """
    if isinstance(value, BaseException):
        _, frames = describe_exception(value)
        if frames:
            return frames[-1].location, tuple(f"  {frame}" for frame in frames)
    text = str(value).strip() if isinstance(value, str | BaseException) else ""
    if len(text) < 8:  # too short to tell one log line from another
        return None, ()
    for record in logs:
        path, _, line = record.location.rpartition(":")
        if text in record.message and path and is_user_file(path) and line.isascii() and line.isdigit():
            return Location(path, int(line)), (f"startup logged it: {record.message}",)
    return None, ()
