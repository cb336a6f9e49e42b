"""A client process of `wiringcheck load`: its share of the users, in one asyncio loop.

Each user loops over runs made the one way every entry point makes them
(`run.drive.perform`: setup steps, auth, the session), judges each with the one judge
(`run.judge.judge`), and keeps the compact `RunOutcome`.  A user's earlier runs are
passed to the next, so their late frames are its own, never another user's.  A periodic
timer measures this loop's own lag, so a saturated client is reported as such instead of being blamed on the backend.

The parent talks to the process through one queue: ``("ready", index)`` once imported,
``("progress", index, runs, failed)`` twice a second, and ``("done", index, result)`` or
``("failed", index, text)`` at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wiringcheck.load.summary import RunOutcome, outcome_of
from wiringcheck.run.judge import judge

if TYPE_CHECKING:
    from collections.abc import Callable

    from wiringcheck.config import ProbeSettings
    from wiringcheck.protocol import Protocol
    from wiringcheck.run.recording import Expectation

__all__ = ["UserPlan", "WorkerPlan", "WorkerResult", "main", "run_users"]

LAG_INTERVAL = 0.02
"""Seconds between two ticks of the loop-lag timer."""

PROGRESS_INTERVAL = 0.5
"""Seconds between two progress messages to the parent."""

READY_TIMEOUT = 60.0
"""How long a worker waits for the parent's go before giving up."""


@dataclass(frozen=True, slots=True)
class UserPlan:
    """One user: its number (from 1), when it starts (seconds after the test's start), and its probe."""

    number: int
    offset: float
    probe: ProbeSettings


@dataclass(frozen=True, slots=True)
class WorkerPlan:
    """What one client process runs: its users against `url`, for `duration` seconds or `runs` runs each.

    In duration mode, runs still in flight when the test ends get `grace` seconds to
    finish; the ones that do not are cut off and counted apart, never as failures.
    """

    index: int
    url: str
    users: tuple[UserPlan, ...]
    expectation: Expectation
    duration: float | None = None
    runs: int | None = None
    grace: float = 5.0


@dataclass(slots=True)
class WorkerResult:
    """What one client process sends home."""

    index: int
    outcomes: list[RunOutcome] = field(default_factory=list)
    cut_off: int = 0
    lag_ms: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0


EARLIER_KEPT = 20
"""A user's earlier runs remembered: late frames of older runs than these are long gone."""


async def _one_run(plan: WorkerPlan, user: UserPlan, protocol: Protocol, earlier: list[str]) -> RunOutcome:
    from wiringcheck.run.drive import perform

    recording = await perform(plan.url, user.probe, {}, earlier_runs=tuple(earlier), protocol=protocol)
    earlier.append(recording.id)
    del earlier[:-EARLIER_KEPT]
    return outcome_of(recording, judge(recording, plan.expectation), plan.expectation, user=user.number)


async def run_users(
    plan: WorkerPlan, start_at: float, *, report: Callable[[int, int], None] | None = None
) -> WorkerResult:
    """Run this worker's users from `start_at` (epoch seconds, shared by every worker) until done.

    `report(runs, failed)` is called twice a second with the counts so far.
    """
    result = WorkerResult(index=plan.index)
    cpu_before = time.process_time()
    loop = asyncio.get_running_loop()
    # Epoch seconds to this loop's clock: every worker starts its users on the same schedule.
    origin = loop.time() + (start_at - time.time())
    end_at = origin + plan.duration if plan.duration is not None else None
    in_flight: set[int] = set()
    failed = 0

    async def user_loop(user: UserPlan) -> None:
        nonlocal failed
        await asyncio.sleep(max(0.0, origin + user.offset - loop.time()))
        # The judge's own protocol: what the session read of each frame is then not read again.
        protocol = plan.expectation.protocol or user.probe.protocol()
        earlier: list[str] = []
        done = 0
        while True:
            if end_at is not None and loop.time() >= end_at:
                return
            if plan.runs is not None and done >= plan.runs:
                return
            in_flight.add(user.number)
            try:
                outcome = await _one_run(plan, user, protocol, earlier)
            finally:
                in_flight.discard(user.number)
            result.outcomes.append(outcome)
            failed += outcome.failed
            done += 1
            if outcome.errors and outcome.errors[0][0] == "WC401":
                await asyncio.sleep(0.1)  # the backend refuses connections: do not spin

    async def sample_lag() -> None:
        while True:
            before = loop.time()
            await asyncio.sleep(LAG_INTERVAL)
            result.lag_ms.append(round(max(0.0, loop.time() - before - LAG_INTERVAL) * 1000, 3))

    async def send_progress() -> None:
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL)
            if report is not None:
                report(len(result.outcomes), failed)

    helpers = [asyncio.create_task(sample_lag()), asyncio.create_task(send_progress())]
    users = [asyncio.create_task(user_loop(user), name=f"wiringcheck-user-{user.number}") for user in plan.users]
    try:
        if users:
            if end_at is None:
                await asyncio.wait(users)
            else:
                _, pending = await asyncio.wait(users, timeout=max(0.0, end_at + plan.grace - loop.time()))
                result.cut_off = len(in_flight)
                for task in pending:
                    task.cancel()
                if pending:
                    await asyncio.wait(pending, timeout=5.0)
        for task in users:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in helpers:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*helpers, return_exceptions=True)
    result.cpu_seconds = time.process_time() - cpu_before
    if report is not None:
        report(len(result.outcomes), failed)
    return result


def main(plan: WorkerPlan, queue: Any, go: Any, start: Any) -> None:
    """Process entry point: say ready, wait for the parent's go, run the users, send the result home."""
    import traceback

    try:
        if plan.users:
            from wiringcheck.run.drive import preload

            preload(plan.users[0].probe)  # before the go: the first runs' imports would be counted as lag
        queue.put(("ready", plan.index))
        if not go.wait(READY_TIMEOUT):
            queue.put(("failed", plan.index, "the parent never gave the go"))
            return

        def report(runs: int, failed: int) -> None:
            queue.put(("progress", plan.index, runs, failed))

        result = asyncio.run(run_users(plan, start.value, report=report))
        queue.put(("done", plan.index, result))
    except BaseException as exc:  # a worker must always answer, or the parent waits for nothing
        text = "".join(traceback.format_exception(exc)[-3:])
        queue.put(("failed", plan.index, f"{type(exc).__name__}: {exc}\n{text}"))
