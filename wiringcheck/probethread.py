"""The probe's own thread: a client that does not share the backend's event loop.

In-process, a probe on the backend's loop waits for the loop like the backend's own
tasks do: a backend step that keeps the loop busy delays the probe's receive and is
blamed as delivery latency (the first event's latency spread 12-78 ms across identical
runs of a real app). On its own thread and loop the client receives a frame when the
socket has it, as a client on another machine would; both threads read the same
monotonic clock, so hand-off and receipt times stay comparable.

While the probe runs, `watch_loop` watches the backend's loop from the loop itself (a tick
that comes late is a stall) and from a sampler thread that reads, while the loop is
stalled, the stack of the code that blocks it.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import sys
import threading
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, TypeVar

from wiringcheck.containment import is_loop_frame, user_stack
from wiringcheck.diagnose import FrameInfo
from wiringcheck.render import shown_path
from wiringcheck.run.recording import LoopStall

__all__ = ["STALL", "on_own_thread", "watch_loop"]

_T = TypeVar("_T")


async def on_own_thread(make: Callable[[], Coroutine[Any, Any, _T]], *, name: str = "wiringcheck-probe") -> _T:
    """Run the coroutine `make()` builds on a new thread with its own event loop, and await its result here.

    Cancelling the caller cancels the coroutine on its loop too (the caller's deadline
    is the probe's); the thread is a daemon named ``wiringcheck-...`` so a run's check for
    leftover threads does not count it.
    """
    outcome: concurrent.futures.Future[_T] = concurrent.futures.Future()
    loops: list[asyncio.AbstractEventLoop] = []

    def main() -> None:
        try:
            with asyncio.Runner() as runner:
                loops.append(runner.get_loop())
                outcome.set_result(runner.run(make()))
        except BaseException as exc:  # handed to the caller, which re-raises it in its own thread
            if not outcome.done():
                outcome.set_exception(exc)

    thread = threading.Thread(target=main, name=name, daemon=True)
    thread.start()
    try:
        return await asyncio.wrap_future(outcome)
    except asyncio.CancelledError:
        for loop in loops:
            with contextlib.suppress(RuntimeError):  # the probe's loop already finished and closed
                loop.call_soon_threadsafe(_cancel_all, loop)
        raise


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()


STALL = 0.02
"""A tick of the backend's loop this much later than asked is a stall (the loop was blocked)."""

SAMPLE_EVERY = 0.01
"""How often the sampler looks at the backend loop's thread; it reads a stack only while the loop is stalled."""

_SAMPLES = 256
"""Stacks kept at most over one watch: a loop blocked for seconds is told by its first samples."""


def _stall(start: float, seconds: float, frames: Sequence[FrameInfo]) -> LoopStall:
    """A stall, with the backend's frames the sampler saw most as its place and stack."""
    return LoopStall(
        start,
        seconds,
        where=frames[-1].location if frames else None,
        code=frames[-1].code if frames else "",
        stack=tuple(
            f"{shown_path(frame.path)}:{frame.line} in {frame.function}" + (f": {frame.code}" if frame.code else "")
            for frame in frames
        ),
    )


async def watch_loop(clock: Callable[[], float], stalls: list[LoopStall], *, every: float = 0.005) -> None:
    """Until cancelled, record each time this event loop was blocked longer than `STALL` (a `LoopStall`), and where.

    A coroutine on the loop ticks every `every` seconds; a tick that comes late is a stall.
    Meanwhile a sampler thread reads the loop thread's stack (`sys._current_frames`) whenever
    the loop has not ticked for `STALL`: the loop cannot report what blocks it, another
    thread can. The sampler does nothing while the loop ticks on time.
    """
    loop_thread = threading.get_ident()
    last_tick = [clock()]
    samples: collections.deque[tuple[float, tuple[FrameInfo, ...]]] = collections.deque(maxlen=_SAMPLES)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(SAMPLE_EVERY):
            if clock() - last_tick[0] <= STALL:
                continue
            frame = sys._current_frames().get(loop_thread)
            stack = tuple(user_stack(frame, stop=is_loop_frame)) if frame is not None else ()
            del frame  # a frame keeps its locals alive
            if stack:
                samples.append((clock(), stack))

    sampler = threading.Thread(target=sample, name="wiringcheck-loop-sampler", daemon=True)
    sampler.start()
    try:
        while True:
            asked = clock() + every
            await asyncio.sleep(every)
            now = clock()
            last_tick[0] = now
            late = now - asked
            if late > STALL:
                stalls.append(_stall(asked, late, _most_seen(s for at, s in list(samples) if asked <= at <= now)))
    finally:
        stop.set()


def _most_seen(stacks: Iterable[tuple[FrameInfo, ...]]) -> tuple[FrameInfo, ...]:
    """The stack sampled most often in a stall (by its innermost line): where the loop spent the time."""
    seen = [stack for stack in stacks if stack]
    if not seen:
        return ()
    counts = collections.Counter(stack[-1] for stack in seen)
    innermost = counts.most_common(1)[0][0]
    return next(stack for stack in seen if stack[-1] == innermost)
