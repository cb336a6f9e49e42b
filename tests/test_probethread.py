"""probethread.py: the watcher sees a blocked loop, and the sampler sees what blocked it."""

from __future__ import annotations

import asyncio
import time

import pytest

from wiringcheck.probethread import STALL, watch_loop
from wiringcheck.run.recording import LoopStall

from .conftest import MS


def _blocking_call() -> None:
    time.sleep(max(100 * MS, STALL * 5))  # the backend's synchronous call


@pytest.mark.asyncio
async def test_a_blocked_loop_is_recorded_with_the_line_that_blocked_it():
    """A synchronous call on the loop: one stall, at least as long, carrying that call's line and its caller."""
    stalls: list[LoopStall] = []
    watcher = asyncio.create_task(watch_loop(time.monotonic, stalls))
    await asyncio.sleep(10 * MS)  # the watcher ticks on time first

    _blocking_call()
    await asyncio.sleep(10 * MS)  # its next tick notices how late it is
    watcher.cancel()

    (stall,) = [stall for stall in stalls if stall.where]  # a busy machine may add idle ones
    assert (True, __file__, "time.sleep(max(100 * MS, STALL * 5))  # the backend's synchronous call") == (
        stall.seconds > 50 * MS,
        stall.where.path if stall.where else None,
        stall.code,
    )
    assert any("in test_a_blocked_loop_is_recorded_with_the_line_that_blocked_it" in line for line in stall.stack)


@pytest.mark.asyncio
async def test_a_loop_that_only_awaits_is_never_blamed_on_the_backends_code():
    """Awaiting runs no backend code: even a tick a busy machine delays carries no stack."""
    stalls: list[LoopStall] = []
    watcher = asyncio.create_task(watch_loop(time.monotonic, stalls))

    await asyncio.sleep(50 * MS)
    watcher.cancel()

    assert [] == [stall.stack for stall in stalls if stall.stack]
