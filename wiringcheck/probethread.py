"""The probe's own thread: a client that does not share the backend's event loop.

In-process, a probe on the backend's loop waits for the loop like the backend's own
tasks do: a backend step that keeps the loop busy delays the probe's receive and is
blamed as delivery latency (the first event's latency spread 12-78 ms across identical
runs of a real app). On its own thread and loop the client receives a frame when the
socket has it, as a client on another machine would; both threads read the same
monotonic clock, so hand-off and receipt times stay comparable.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

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


async def watch_loop(clock: Callable[[], float], stalls: list[tuple[float, float]], *, every: float = 0.005) -> None:
    """Until cancelled, record (start, seconds) of each time this event loop was blocked longer than `STALL`."""
    while True:
        asked = clock() + every
        await asyncio.sleep(every)
        late = clock() - asked
        if late > STALL:
            stalls.append((asked, late))
