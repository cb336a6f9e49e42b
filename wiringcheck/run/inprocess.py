"""Runs against a backend booted in this process: the client on its own thread, the backend watched.

The runner's probe phase and the pytest fixtures (and through them `inspect` and
`init`) record their runs here, so an in-process run is the same run from every door:

- the client runs on its own thread and event loop (`probethread`), so a busy backend
  loop cannot delay it, while a watcher on the backend's loop records when it was blocked;
- the tracer times the `probe.emit` methods on the live roles, so each event is broken
  down emit → hand-off → receipt, paired by the run's id (the server's, once learnt);
- each frame gets the time the backend handed it to the server (`Handle.sends`);
- with several users (an isolation check), every user connects first and all start at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from wiringcheck.run.drive import perform_users, run_bound
from wiringcheck.run.judge import attach_send_times
from wiringcheck.run.recording import LoopStall, Recording, RecordingEnd
from wiringcheck.run.request import placeholders

if TYPE_CHECKING:
    import ssl

    from wiringcheck.config import ProbeSettings
    from wiringcheck.containment import Overrun
    from wiringcheck.targets import Handle

__all__ = ["HURRY", "Recorded", "record"]

HURRY = 0.5
"""Seconds the backend's loop gets, once the run is over, to hand the verdict back before it is interrupted."""


def _handed_off(handle: Handle, probe: ProbeSettings) -> list[tuple[float, str | bytes]] | None:
    """(when, data) of each message the backend handed to the server, read the way the run's transport reads them."""
    if probe.over_http:
        if handle.streams is None:
            return None
        from wiringcheck.run.transports.http import format_of

        stream = format_of(probe.transport)
        return [sent for chunks in list(handle.streams) for sent in stream.sent(list(chunks))]
    if probe.transport == "socketio" and handle.sends is not None:
        from wiringcheck.run.transports.socketio import sent

        return sent(list(handle.sends))
    return list(handle.sends) if handle.sends is not None else None


@dataclass(frozen=True, slots=True)
class Recorded:
    """The recordings of one probe (one per user), and where the backend blocked the loop past the run's bound."""

    recordings: list[Recording]
    overruns: list[Overrun]
    bound: float


async def record(
    handle: Handle,
    roles: Mapping[str, Any],
    probes: Sequence[ProbeSettings],
    environ: Mapping[str, str],
    *,
    clock: Callable[[], float],
    ssl_context: ssl.SSLContext | None = None,
    take_overruns: Callable[[], list[Overrun]] = list,
) -> Recorded:
    """Record one run per probe settings (one per user) against the booted backend of `handle`.

    `take_overruns` hands back where the backend blocked its loop past the bound (the
    caller's containment knows); the recordings of a run cut off there end at the deadline.
    """
    from wiringcheck.containment import Overrun, hurry, interrupting_after
    from wiringcheck.probethread import on_own_thread, watch_loop
    from wiringcheck.tracer import emissions_recorded

    probe = probes[0]
    bound = max(run_bound(each) for each in probes)
    started = clock()
    stalls: list[LoopStall] = []
    overruns: list[Overrun] = []

    async def recorded() -> list[Recording]:
        try:
            return await perform_users(handle.ws_url, probes, environ, ssl_context=ssl_context, clock=clock)
        finally:
            hurry(HURRY)  # the verdict is in: a backend still busy (a flood) is interrupted soon, not at the bound

    with emissions_recorded(roles, probe.emit_calls, clock) as emissions:
        try:
            # A backend in this process that blocks its event loop would stop every deadline from firing.
            with interrupting_after(bound):
                async with asyncio.timeout(bound):
                    if handle.sends is not None:
                        watcher = asyncio.create_task(watch_loop(clock, stalls), name="wiringcheck-loop-watch")
                        try:
                            recordings = await on_own_thread(recorded)
                        finally:
                            watcher.cancel()
                    else:
                        recordings = await recorded()
        except (TimeoutError, Overrun):
            now = clock()
            recordings = [
                Recording(
                    run_id=placeholders(each)["run_id"], trigger_at=started, ended_at=now, end=RecordingEnd.DEADLINE
                )
                for each in probes
            ]
            overruns = take_overruns()
    sends = _handed_off(handle, probe)
    finished = []
    for recording in recordings:
        if sends is not None:
            recording = replace(recording, frames=attach_send_times(recording.frames, sends))
        # Paired by the run's id as the backend knows it: the server's own, once learnt.
        mine = tuple(e for e in emissions if e.run_id in (None, recording.id))
        finished.append(replace(recording, emissions=mine, loop_stalls=tuple(stalls)))
    return Recorded(finished, overruns, bound)
