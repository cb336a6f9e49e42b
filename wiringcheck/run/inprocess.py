"""Runs against a backend booted in this process: the client on its own thread, the backend watched.

The runner's probe phase and the pytest fixtures (and through them `inspect` and
`init`) record their runs here, so an in-process run is the same run from every door:

- the client runs on its own thread and event loop (`probethread`), so a busy backend
  loop cannot delay it, while a watcher on the backend's loop records when it was blocked;
- the tracer times the `probe.emit` methods on the live roles, so each event is broken
  down emit → hand-off → receipt, paired by the run's id (the server's, once learnt);
- each frame gets the time the backend handed it to the server (`Handle.sends`), taken only
  from what the run's own connection was sent (the client's port, as the server saw it), so
  two users sent the same bytes are each timed from their own hand-off;
- with several users (an isolation check), every user connects first and all start at once;
- `probe.warmup` unjudged runs go first, once per boot: a server whose first runs after boot
  pay for its lazy imports is judged on a run like every later one.
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

__all__ = ["HURRY", "WARMED_UP", "Recorded", "record"]

HURRY = 0.5
"""Seconds the backend's loop gets, once the run is over, to hand the verdict back before it is interrupted."""

WARMED_UP = "wiringcheck.warmed_up"
"""The key in `Handle.extra` that says the booted backend had its warm-up runs (they are made once per boot)."""


def _handed_off(
    handle: Handle, probe: ProbeSettings, since: tuple[int, int] = (0, 0), port: int | None = None
) -> list[tuple[float, str | bytes]] | None:
    """(when, data) of each message the backend handed to the server, read the way the run's transport reads them;
    `since`: how many sends and streams came before the runs recorded (a warm-up's are not theirs); `port`: the
    run's own connection (its client port), so that the same bytes sent to another user never pair with its frames."""
    if probe.over_http:
        if handle.streams is None:
            return None
        from wiringcheck.run.transports.http import format_of

        stream = format_of(probe.transport)
        streams = _own(list(handle.streams), handle.stream_ports, since[1], port)
        return [sent for chunks in streams for sent in stream.sent(list(chunks))]
    if handle.sends is None:
        return None
    sends = _own(list(handle.sends), handle.send_ports, since[0], port)
    if probe.transport == "socketio":
        from wiringcheck.run.transports.socketio import sent

        return sent(sends)
    return sends


def _own(items: list[Any], ports: list[int | None] | None, since: int, port: int | None) -> list[Any]:
    """`items` from `since` on, only those sent to `port`'s connection when both sides know the port."""
    if port is None or ports is None:
        return items[since:]
    known = list(ports)  # read once: the backend's loop may append meanwhile
    return [item for item, to in zip(items[since:], known[since:], strict=False) if to in (port, None)]


def _sent_so_far(handle: Handle) -> tuple[int, int]:
    return len(handle.sends or ()), len(handle.streams or ())


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
    stalls: list[LoopStall] = []
    overruns: list[Overrun] = []

    async def guarded(users: Sequence[ProbeSettings], watched: list[LoopStall]) -> list[Recording]:
        """The users' runs, the client on its own thread: a backend in this process that blocks its event loop
        would otherwise stop every deadline from firing."""

        async def recorded() -> list[Recording]:
            try:
                return await perform_users(handle.ws_url, users, environ, ssl_context=ssl_context, clock=clock)
            finally:
                hurry(HURRY)  # the verdict is in: a backend still busy (a flood) is interrupted soon, not at the bound

        with interrupting_after(bound):
            async with asyncio.timeout(bound):
                if handle.sends is None:
                    return await recorded()
                watcher = asyncio.create_task(watch_loop(clock, watched), name="wiringcheck-loop-watch")
                try:
                    return await on_own_thread(recorded)
                finally:
                    watcher.cancel()

    if probe.warmup and not handle.extra.get(WARMED_UP):
        handle.extra[WARMED_UP] = True
        for _ in range(probe.warmup):
            try:
                await guarded(probes[:1], [])  # unjudged: what it sent and how it went are nobody's findings
            except (TimeoutError, Overrun):
                break  # a backend that blocked its loop past the bound still does so: the judged run will say
    since = _sent_so_far(handle)
    started = clock()
    with emissions_recorded(roles, probe.emit_calls, clock) as emissions:
        try:
            recordings = await guarded(probes, stalls)
        except (TimeoutError, Overrun):
            now = clock()
            recordings = [
                Recording(
                    run_id=placeholders(each)["run_id"], trigger_at=started, ended_at=now, end=RecordingEnd.DEADLINE
                )
                for each in probes
            ]
            overruns = take_overruns()
    finished = []
    for recording in recordings:
        sends = _handed_off(handle, probe, since, recording.local_port)
        if sends is not None:
            recording = replace(recording, frames=attach_send_times(recording.frames, sends))
        # Paired by the run's id as the backend knows it: the server's own, once learnt.
        mine = tuple(e for e in emissions if e.run_id in (None, recording.id))
        finished.append(replace(recording, emissions=mine, loop_stalls=tuple(stalls)))
    return Recorded(finished, overruns, bound)
