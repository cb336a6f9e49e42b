"""containment.py: a backend's exit in a task is recorded, not obeyed; blocked code is interrupted; threads are seen."""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import threading
import time
import types

import pytest

from wiringcheck.containment import BackendExit, Containment, Overrun, interrupting_after, new_threads, user_stack

from .conftest import MS


def test_an_exit_in_a_task_becomes_an_exception_of_that_task():
    """sys.exit() in a task would end the event loop; contained, the task fails with BackendExit instead."""
    containment = Containment(phase="probe")

    async def backend() -> None:
        sys.exit(3)

    async def main() -> BaseException | None:
        with containment.installed(asyncio.get_running_loop()):
            task = asyncio.create_task(backend())
            await asyncio.wait({task})
        return task.exception()

    error = asyncio.run(main())

    assert isinstance(error, BackendExit)
    assert ["sys.exit(3)"] == [str(item) for item in containment.take("probe")]
    assert [] == containment.exits


def test_the_task_factory_is_restored():
    """After the block, the loop creates plain tasks again."""

    async def main() -> object:
        loop = asyncio.get_running_loop()
        with Containment().installed(loop):
            pass
        return loop.get_task_factory()

    assert None is asyncio.run(main())


@pytest.mark.skipif(not hasattr(__import__("signal"), "setitimer"), reason="needs POSIX interval timers")
def test_blocking_backend_code_is_interrupted_with_where_it_was():
    """time.sleep in the backend's code, past the deadline, raises Overrun naming the blocked line.

    The deadline is brought forward (`hurry`) only once this thread is inside the blocking call, so a
    loaded machine that runs the test late cannot make the interrupt land on the line before it.
    """
    import sys

    from wiringcheck.containment import hurry

    main = threading.get_ident()
    started = time.monotonic()

    def when_blocked() -> None:
        while time.monotonic() - started < 4:
            frame = sys._current_frames().get(main)
            if frame is not None and frame.f_code.co_name == "sleep_blocking":
                hurry(10 * MS)
                return
            time.sleep(MS)

    def sleep_blocking() -> None:
        time.sleep(5000 * MS)  # the blocking call

    helper = threading.Thread(target=when_blocked, name="wiringcheck-test-hurry")
    helper.start()
    with pytest.raises(Overrun) as caught, interrupting_after(4000 * MS):
        sleep_blocking()
    helper.join()

    assert time.monotonic() - started < 2500 * MS
    assert "time.sleep(5000 * MS)" in caught.value.stack[-1].code


def test_threads_started_since_are_listed_without_wiringchecks_own():
    """A thread the backend left running is found; wiringcheck's own threads are not the backend's."""
    before = set(threading.enumerate())
    stop = threading.Event()
    leaked = threading.Thread(target=stop.wait, name="leaky")
    ours = threading.Thread(target=stop.wait, name="wiringcheck-watchdog")
    leaked.start()
    ours.start()
    try:
        assert [leaked] == new_threads(before)
    finally:
        stop.set()
        leaked.join()
        ours.join()


def test_idle_workers_of_known_pools_are_not_left_threads():
    """anyio's worker (Starlette's sync endpoints, to_thread) and an executor's, idle, belong to their pool."""
    import anyio.to_thread

    before = set(threading.enumerate())
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tools")
    try:
        executor.submit(int).result(timeout=5000 * MS)

        async def main() -> list[threading.Thread]:
            await anyio.to_thread.run_sync(int)
            return new_threads(before)  # while the loop still runs, its anyio worker waits for work

        left = asyncio.run(main())
    finally:
        executor.shutdown(wait=True)

    assert [] == left


def test_a_pool_worker_still_running_the_backends_function_is_left():
    """An executor's worker busy with the backend's function at shutdown is a thread left behind."""
    before = set(threading.enumerate())
    started, release = threading.Event(), threading.Event()

    def tool() -> None:
        started.set()
        release.wait()

    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tools")
    try:
        busy = executor.submit(tool)
        started.wait(timeout=5000 * MS)
        names = [thread.name for thread in new_threads(before)]
    finally:
        release.set()
        busy.result(timeout=5000 * MS)
        executor.shutdown(wait=True)

    assert ["tools_0"] == names


def test_a_frame_between_two_lines_is_placed_at_its_first_line():
    """A frame read from another thread (the loop sampler) can have no line number yet (`f_lineno` None): its
    place is its function's first line, never a TypeError that ends the sampler."""

    def backend_function() -> None:
        """Stands in for the backend's frame."""

    code = backend_function.__code__
    frame = types.SimpleNamespace(f_code=code, f_lineno=None, f_back=None)

    (found,) = user_stack(frame)  # type: ignore[arg-type]

    assert (code.co_firstlineno, "backend_function") == (found.line, found.function)
