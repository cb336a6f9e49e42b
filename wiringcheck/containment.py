"""Keep the backend from deciding the run: its exits, its blocking calls, its threads.

wiringcheck runs the backend in its own process and on its own event loop, so the
backend can do what no finding can report:

- call `sys.exit()` (or raise `KeyboardInterrupt`): in a task, that escapes the
  event loop and ends wiringcheck with the backend's exit code and no report.
  `Containment.installed` wraps every task the loop creates so the exit becomes an
  ordinary exception of that task, recorded here (WC108);
- block the event loop (`time.sleep`, a blocking socket): `asyncio.timeout` cannot
  fire while the loop is blocked. `interrupting_after` arms a real-time signal that
  raises `Overrun` in the backend's code, carrying where it was stuck (WC102, WC103,
  WC409). It works on the main thread of POSIX systems; elsewhere it does nothing,
  and the CLI's last-resort timer (`cli.py`) still ends the run;
- leave threads running after shutdown (`new_threads`, WC109); a known pool's idle
  worker (anyio's, an executor's) is the pool's, not a leak.

`os._exit()` cannot be intercepted by anything in the same process: the CLI and the
pytest plugin's items run the check in a child process (`wiringcheck.supervisor`) and
report such a death from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import signal
import sys
import threading
import weakref
from collections.abc import Callable, Coroutine, Generator, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from wiringcheck.diagnose import FrameInfo, is_user_file

__all__ = [
    "BackendExit",
    "Containment",
    "Overrun",
    "contain_exit",
    "exit_code_of",
    "idle_pool_worker",
    "interrupting_after",
    "is_loop_frame",
    "new_threads",
    "user_stack",
]


class BackendExit(Exception):  # it is what happened to the backend, not an error of wiringcheck
    """The backend raised `SystemExit` or `KeyboardInterrupt`; `exit` is the original exception."""

    def __init__(self, exit: SystemExit | KeyboardInterrupt, phase: str = "") -> None:
        self.exit = exit
        self.phase = phase
        code = getattr(exit, "code", None)
        what = f"sys.exit({code!r})" if isinstance(exit, SystemExit) else "KeyboardInterrupt"
        super().__init__(what)


class Overrun(BaseException):  # so a backend's `except Exception` cannot swallow it
    """Raised into code that blocked the event loop past its deadline; `stack` is where it was stuck."""

    def __init__(self, stack: list[FrameInfo]) -> None:
        self.stack = stack
        super().__init__("blocked past the deadline")


def user_stack(frame: FrameType | None, *, stop: Callable[[FrameType], bool] | None = None) -> list[FrameInfo]:
    """The backend's own frames of a stack, outermost first, from `frame` down to the first frame `stop` accepts."""
    import linecache

    frames: list[FrameInfo] = []
    while frame is not None and not (stop is not None and stop(frame)):
        path = frame.f_code.co_filename
        if is_user_file(path):
            # A frame read from another thread (the loop sampler) can be between lines: no line number yet.
            line = frame.f_lineno if frame.f_lineno is not None else frame.f_code.co_firstlineno
            frames.append(FrameInfo(path, line, frame.f_code.co_name, linecache.getline(path, line).strip()))
        frame = frame.f_back
    frames.reverse()
    return frames


_CURRENT: contextvars.ContextVar[Containment | None] = contextvars.ContextVar("wiringcheck_containment", default=None)
"""The containment in force for the code running now (tasks inherit it when they are created)."""


@dataclass(slots=True)
class Containment:
    """What the backend tried while it was contained: the exits it attempted and where it blocked, by phase."""

    phase: str = ""
    exits: list[BackendExit] = field(default_factory=list)
    overruns: list[tuple[str, Overrun]] = field(default_factory=list)
    origins: weakref.WeakKeyDictionary[Any, FrameInfo] = field(default_factory=weakref.WeakKeyDictionary)
    """Where the backend's code created each task: a call made late is told by the task that made it."""
    reported: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet)
    """Tasks that ended with an exit or an interruption wiringcheck reports itself."""

    def origin_of(self, task: asyncio.Task[Any] | None) -> FrameInfo | None:
        """The line of the backend's code that created `task`, when the backend created it."""
        return self.origins.get(task) if task is not None else None

    @staticmethod
    def current() -> Containment | None:
        """The containment the running code is under, if any."""
        return _CURRENT.get()

    @contextlib.contextmanager
    def installed(self, loop: asyncio.AbstractEventLoop) -> Iterator[Containment]:
        """Wrap every task `loop` creates, until the block ends, so an exit in it is recorded, not obeyed."""
        previous = loop.get_task_factory()

        def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
            wrapped = self._contained(coro) if asyncio.iscoroutine(coro) else coro
            task = (
                previous(loop, wrapped, **kwargs)
                if previous is not None
                else asyncio.Task(wrapped, loop=loop, **kwargs)
            )
            origin = _creation_site()
            if origin is not None:
                self.origins[task] = origin
            task.add_done_callback(self._retrieve_reported)
            return task

        loop.set_task_factory(factory)
        # Set and restored, not reset with a token: a fixture may enter and leave this block in two tasks.
        outer = _CURRENT.get()
        _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.set(outer)
            loop.set_task_factory(previous)

    async def _contained(self, coro: Coroutine[Any, Any, Any]) -> Any:
        try:
            return await coro
        except (SystemExit, KeyboardInterrupt) as exc:
            self.reported.add(asyncio.current_task())
            raise self.record(exc) from exc

    def _retrieve_reported(self, task: Any) -> None:
        """Mark an exit or an interruption as seen: wiringcheck reports it, asyncio need not print it to stderr.

        Only those: any other exception stays unretrieved for the backend's own handling.
        """
        if task in self.reported and not task.cancelled():
            task.exception()

    def record(self, exc: SystemExit | KeyboardInterrupt) -> BackendExit:
        """Note an exit attempt in the current phase; returns the exception that replaces it."""
        contained = BackendExit(exc, self.phase)
        self.exits.append(contained)
        return contained

    def take(self, phase: str) -> list[BackendExit]:
        """The exits attempted during `phase`, removed from the record."""
        taken = [item for item in self.exits if item.phase == phase]
        self.exits = [item for item in self.exits if item.phase != phase]
        return taken

    def take_overruns(self, phase: str) -> list[Overrun]:
        """Where the backend blocked the loop during `phase` (even when its own code swallowed the interruption)."""
        taken = [overrun for at, overrun in self.overruns if at == phase]
        self.overruns = [(at, overrun) for at, overrun in self.overruns if at != phase]
        return taken


def contain_exit(exc: SystemExit | KeyboardInterrupt) -> BaseException:
    """What to raise instead of a backend's exit caught at a boundary (an ASGI call): a recorded `BackendExit`."""
    current = _CURRENT.get()
    return current.record(exc) if current is not None else exc


_LOOP_FILES = (f"asyncio{os.sep}events.py", f"asyncio{os.sep}base_events.py")
_LOOP_FUNCTIONS = {"_run", "_run_once"}


def is_loop_frame(frame: FrameType) -> bool:
    """Whether `frame` is the event loop's own (its run loop): what is below it is not the backend running now."""
    return frame.f_code.co_name in _LOOP_FUNCTIONS and frame.f_code.co_filename.endswith(_LOOP_FILES)


def _creation_site() -> FrameInfo | None:
    """The innermost frame of the backend's own code on the stack that is creating a task."""
    import linecache

    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if is_user_file(path):
            return FrameInfo(
                path, frame.f_lineno, frame.f_code.co_name, linecache.getline(path, frame.f_lineno).strip()
            )
        frame = frame.f_back
    return None


def _can_interrupt() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def interrupting_after(seconds: float) -> Generator[None, None, None]:
    """Raise `Overrun` into the backend's code if it still runs `seconds` from now (main thread, POSIX).

    When the signal arrives while no backend frame is running (the loop is merely
    waiting), it is re-armed shortly instead: only blocked backend code is interrupted.
    """
    if not _can_interrupt():
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        # Only what the event loop is running right now: the frames below the loop (the CLI,
        # pytest) are not the backend, even when they live in site-packages.
        stack = user_stack(frame, stop=is_loop_frame)
        if not stack:
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            return
        overrun = Overrun(stack)
        current = _CURRENT.get()
        if current is not None:
            current.overruns.append((current.phase, overrun))
            with contextlib.suppress(RuntimeError, TypeError):  # no loop, or no task: nothing to mark
                current.reported.add(asyncio.current_task())
        raise overrun

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def hurry(seconds: float) -> None:
    """Bring an armed `interrupting_after` forward to `seconds` from now (from any thread).

    The probe's thread calls it once its run is over: the verdict is known, so a backend
    that keeps its loop busy (a flood it is still sending) is interrupted soon after,
    not at the end of the run's whole budget.
    """
    if not hasattr(signal, "getitimer"):
        return
    remaining = signal.getitimer(signal.ITIMER_REAL)[0]
    if 0 < seconds < remaining:
        signal.setitimer(signal.ITIMER_REAL, seconds)


_EXECUTOR_WORKER = (f"concurrent{os.sep}futures{os.sep}thread.py", "_worker")
"""The loop of a ThreadPoolExecutor's worker (asyncio's default executor is one): between jobs, it waits here."""
_WAITING = (f"{os.sep}threading.py", f"{os.sep}queue.py")


def idle_pool_worker(thread: threading.Thread) -> bool:
    """Whether `thread` is a known pool's worker waiting for work (anyio's, a ThreadPoolExecutor's).

    Such a thread is the pool's to end (anyio's when the event loop's main task does, an
    executor's at its shutdown or at exit) and holds nothing of the backend's. A worker
    still running one of the backend's functions is not idle.
    """
    idle_workers = getattr(thread, "idle_workers", None)
    if type(thread).__module__.startswith("anyio.") and idle_workers is not None:
        return thread in idle_workers  # anyio's own list of the workers that wait for a job
    frame: FrameType | None = sys._current_frames().get(thread.ident or -1)
    while frame is not None and frame.f_code.co_filename.endswith(_WAITING):
        frame = frame.f_back
    path, function = _EXECUTOR_WORKER
    # Running a job, the worker is inside `_WorkItem.run`; idle, its innermost frame is `_worker` itself.
    return frame is not None and frame.f_code.co_name == function and frame.f_code.co_filename.endswith(path)


def new_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    """Threads alive now that were not before, except wiringcheck's own and known pools' idle workers."""
    return [
        thread
        for thread in threading.enumerate()
        if thread not in before
        and thread.is_alive()
        and not thread.name.startswith(("wiringcheck", "asyncio_"))
        and thread is not threading.current_thread()
        and not idle_pool_worker(thread)
    ]


def exit_code_of(error: BaseException) -> str:
    """How an exit reads in a message: ``sys.exit(0)``, ``KeyboardInterrupt``."""
    if isinstance(error, BackendExit):
        return str(error)
    return f"sys.exit({getattr(error, 'code', None)!r})" if isinstance(error, SystemExit) else type(error).__name__
