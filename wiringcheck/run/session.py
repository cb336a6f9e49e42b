"""The run session: one agent run, sans-I/O.

Every way wiringcheck makes a run (`run`, `probe`, the pytest fixtures, `load`, the
Locust user, `inspect`, `init`) drives this one object, through a transport that only
moves bytes (`wiringcheck.run.transports`), the way websockets' `Protocol` or h11's
`Connection` is driven by any socket library.  The driver tells the session what
happened, with the time it happened on the probe's monotonic clock:

    session.begin(at)                 before connecting
    session.connected(at)             the connection is open (or `refused(at, error, status)`)
    session.start(at)                 the trigger goes out now (after `ready`)
    session.receive(data, at, ...)    a message arrived
    session.closed(at, code, reason)  the server closed (or the response body ended)
    session.tick(at)                  nothing happened until `wake_at()`

and asks it what to do: `to_send()` (the first message, the trigger), `ready` (may the
trigger go out), `wake_at()` (when to call `tick` if nothing arrives), `done`, and
`abort` (close without a handshake: the server is flooding or hung).  At the end,
`recording()` is what the judge judges.

The session owns the run's identity (`RunIdentity`): a server-assigned id, once learnt,
is the run's id in the recording.  It stops at the terminal event (plus a short linger,
so that events sent after it are seen), at an error terminal (at once: a backend that
signals failure never costs the deadline), when the run can no longer pass (nothing of
it for longer than its gap bound and budget allow), at the deadline, or past the frame
and byte caps.  Nothing here reads a clock, opens a socket or imports asyncio.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from wiringcheck.protocol import Item, Kind, decode_frame
from wiringcheck.run.identity import RunIdentity
from wiringcheck.run.recording import Frame, Recording, RecordingEnd
from wiringcheck.run.request import RunRequest
from wiringcheck.secrets import shorten

__all__ = ["AUTH_CLOSE_CODES", "AUTH_STATUSES", "RunSession", "State"]

AUTH_CLOSE_CODES = frozenset({1008, 4001, 4003, 4401, 4403})
"""Close codes that, right after connecting and before any event, mean "your credentials were refused"."""

AUTH_STATUSES = frozenset({401, 403})
"""HTTP statuses that, with credentials sent, mean they were refused."""

_REFUSAL_SHOWN = 3
"""Frames received while waiting for an acknowledgement that a refusal shows."""


class State(enum.Enum):
    """Where the session is."""

    CONNECTING = "connecting"
    AUTHENTICATING = "authenticating"
    READY = "ready"
    RUNNING = "running"
    LINGERING = "lingering"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class _Ended:
    end: RecordingEnd
    at: float
    close_code: int | None = None
    close_reason: str = ""
    error: str = ""


class RunSession:
    """One run, fed what arrived and telling its driver what to send and when to stop."""

    def __init__(self, request: RunRequest) -> None:
        self.request = request
        self.identity = RunIdentity(
            request.protocol,
            request.server_run_id if request.protocol.correlation == "server" else request.run_id,
            earlier=request.earlier_runs,
        )
        self.state = State.CONNECTING
        self._began = 0.0
        self._auth_until = 0.0
        self._trigger_at: float | None = None
        self._terminal_at: float | None = None
        self._progress_at = 0.0
        self._frames: list[Frame] = []
        self._decoded: list[tuple[Item, ...] | None] = []
        self._bytes = 0
        self._outbox: list[str] = []
        self._before_ack: list[str] = []
        self._ended: _Ended | None = None
        self._opened_at: float | None = None
        self._local_port: int | None = None
        self._stream_completed = False
        self.abort = False
        """Whether the driver should drop the connection rather than close it politely (a flood, a hung server)."""

    # -- what the driver asks ----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Whether the trigger may go out: connected and, with first-message auth, acknowledged."""
        return self.state is State.READY

    @property
    def done(self) -> bool:
        return self.state is State.ENDED

    @property
    def trigger_at(self) -> float | None:
        """When the trigger went out (None before `start`)."""
        return self._trigger_at

    def to_send(self) -> list[str]:
        """The messages to send now, in order (the first message of an auth handshake, the trigger)."""
        out, self._outbox = self._outbox, []
        return out

    def wake_at(self) -> float:
        """When the driver must call `tick` if nothing arrives before (the earliest bound that can end a phase)."""
        limits = self.request.limits
        if self.state is State.CONNECTING:
            return self._began + limits.connect_timeout
        if self.state is State.AUTHENTICATING:
            return self._auth_until
        if self.state is State.READY or self._trigger_at is None:
            # Waiting for the driver to start (isolation starts every user at once): bounded by the connect timeout.
            return self._began + 2 * limits.connect_timeout
        deadline = self._trigger_at + limits.deadline
        if self.state is State.LINGERING:
            assert self._terminal_at is not None
            return min(deadline, self._terminal_at + limits.linger)
        if limits.stall is not None:
            return min(deadline, self._progress_at + limits.stall)
        return deadline

    # -- what the driver tells it ------------------------------------------------------------------

    def begin(self, at: float) -> None:
        """The driver is about to connect."""
        self._began = at

    def connected(self, at: float, *, local_port: int | None = None) -> None:
        """The connection is open: send the first message of an auth handshake, or be ready to start.

        `local_port`: the client's end of the connection, by which an in-process recording tells
        what this run's connection was sent from what another user's was.
        """
        if self.state is not State.CONNECTING:
            return
        self._local_port = local_port
        request = self.request
        if request.first_message is not None:
            self._outbox.append(request.first_message)
            if request.ack is not None:
                self.state = State.AUTHENTICATING
                self._auth_until = at + request.limits.connect_timeout
                return
        self.state = State.READY

    def refused(self, at: float, error: str, *, status: int | None = None, by_handler: bool = False) -> None:
        """No connection was made; with credentials sent, a 401 or 403 means they were refused.

        `by_handler`: the server's own connect handler said no (a socket.io ``connect_error``):
        with credentials sent, that is their refusal, in the server's words.
        """
        if self.request.auth_method and by_handler:
            self._end(RecordingEnd.AUTH_REJECTED, at, error=error)
        elif self.request.auth_method and status in AUTH_STATUSES:
            self._end(RecordingEnd.AUTH_REJECTED, at, error=f"HTTP {status} on the {self._opening()}")
        else:
            self._end(RecordingEnd.CONNECT_FAILED, at, error=error)

    def opened(self, at: float) -> None:
        """The response's headers arrived and it is a stream (HTTP transports)."""
        self._opened_at = at

    def answered(self, at: float, status: int, problem: str) -> None:
        """The run's HTTP request was answered with something other than a stream; `problem` says what."""
        if self.request.auth_method and status in AUTH_STATUSES:
            self._end(RecordingEnd.AUTH_REJECTED, at, error=f"{problem}, on the request")
        else:
            self._end(RecordingEnd.HTTP_ERROR, at, error=problem)

    def start(self, at: float) -> None:
        """The trigger goes out now: `to_send()` has it; the deadline counts from here."""
        if self.state is not State.READY:
            return
        self.state = State.RUNNING
        self._trigger_at = self._progress_at = at
        self._outbox.append(self.request.trigger)

    def receive(self, data: str | bytes, at: float, *, wall: float | None = None, name: str | None = None) -> None:
        """A message arrived at `at` (monotonic; `wall`: epoch seconds, for timestamp latency)."""
        if self.state is State.AUTHENTICATING:
            self._receive_before_ack(data)
            return
        if self.state not in (State.RUNNING, State.LINGERING):
            return
        self._frames.append(Frame(received_at=at, data=data, received_wall=wall, name=name))
        self._decoded.append(None)
        self._bytes += len(data)
        limits = self.request.limits
        if len(self._frames) >= limits.max_frames or self._bytes >= limits.max_bytes:
            # A flooding server would answer a close only after everything it queued.
            self.abort = True
            self._end(RecordingEnd.OVERFLOW, at)
            return
        if self.state is State.LINGERING:
            return
        protocol = self.request.protocol
        decoded = tuple(decode_frame(protocol, data, name))
        self._decoded[-1] = decoded
        terminal = False
        for item in decoded:
            if not self.identity.owns(item):
                continue
            if item.kind is Kind.ERROR:
                self._end(RecordingEnd.ERROR, at)
                return
            if item.kind is Kind.EVENT:
                self._progress_at = at
                terminal = terminal or item.role == protocol.terminal
        if terminal:
            self._terminal_at = at
            self.state = State.LINGERING

    def closed(self, at: float, code: int | None = None, reason: str = "", *, by_client: bool = False) -> None:
        """The connection closed (`code` None: an HTTP body that ended); `by_client`: the client refused the server."""
        if self.state is State.ENDED:
            return
        if code is None and self.state is State.RUNNING and self.request.completed_by == "end_of_stream":
            self._stream_completed = True  # the server says a run is complete when its stream is
            self._end(RecordingEnd.TERMINAL, at)
            return
        if by_client:
            self._end(RecordingEnd.PROBE_CLOSED, at, close_code=code, close_reason=reason)
            return
        if self.state is State.AUTHENTICATING:
            shown = f" ({reason})" if reason else ""
            self._end(
                RecordingEnd.AUTH_REJECTED,
                at,
                error=f"the server closed with code {code}{shown} after it{self._refusal()}",
            )
            return
        if self.state is State.LINGERING:
            self._end(RecordingEnd.TERMINAL, at, close_code=code, close_reason=reason)
            return
        if (
            self.request.auth_method
            and not self._frames
            and code in AUTH_CLOSE_CODES
            and self.state in (State.READY, State.RUNNING)
        ):
            shown = f" ({reason})" if reason else ""
            self._end(RecordingEnd.AUTH_REJECTED, at, error=f"the server closed with code {code}{shown}")
            return
        self._end(RecordingEnd.CLOSED, at, close_code=code, close_reason=reason)

    def tick(self, at: float) -> None:
        """Time passed: end the phase whose bound is reached (connect, acknowledgement, linger, silence, deadline)."""
        if self.state is State.ENDED or at < self.wake_at():
            return
        limits = self.request.limits
        if self.state is State.CONNECTING:
            self._end(RecordingEnd.CONNECT_FAILED, at, error="TimeoutError: timed out during opening handshake")
        elif self.state is State.AUTHENTICATING:
            self._end(
                RecordingEnd.AUTH_REJECTED,
                at,
                error=f"no acknowledgement within {limits.connect_timeout:g} s{self._refusal()}",
            )
        elif self.state is State.READY or self._trigger_at is None:
            self.abort = True
            self._end(RecordingEnd.DEADLINE, at)
        elif self.state is State.LINGERING:
            self._end(RecordingEnd.TERMINAL, at)
        else:
            # A server that missed the deadline (or went silent) may be hung or flooding: it would not answer a close.
            self.abort = True
            stalled = at < self._trigger_at + limits.deadline
            self._end(RecordingEnd.STALLED if stalled else RecordingEnd.DEADLINE, at)

    def interrupted(self, at: float) -> None:
        """The driver gave up at `at` (its last line of defence fired): the run ends at its deadline, unfinished."""
        self.abort = True
        self._end(RecordingEnd.DEADLINE, at)

    # -- the result --------------------------------------------------------------------------------

    def recording(self) -> Recording:
        """What the session saw of the run (once `done`; before, the run so far, cut at the last frame)."""
        request = self.request
        ended = self._ended
        trigger_at = self._trigger_at if self._trigger_at is not None else self._began
        learnt = self.identity.run_id if request.protocol.correlation == "server" else None
        return Recording(
            run_id=request.run_id,
            trigger_at=trigger_at,
            ended_at=ended.at if ended else (self._frames[-1].received_at if self._frames else trigger_at),
            frames=tuple(self._frames),
            end=ended.end if ended else RecordingEnd.DEADLINE,
            close_code=ended.close_code if ended else None,
            close_reason=ended.close_reason if ended else "",
            error=ended.error if ended else "",
            server_run_id=learnt or request.server_run_id,
            auth_method=request.auth_method,
            secrets=request.secrets,
            ids=request.ids,
            earlier_runs=request.earlier_runs,
            transport=request.transport,
            url=request.url,
            decoded=tuple(self._decoded),
            decoded_with=request.protocol,
            opened_at=self._opened_at,
            stream_completed=self._stream_completed,
            local_port=self._local_port,
        )

    # -- helpers -----------------------------------------------------------------------------------

    def _end(
        self, end: RecordingEnd, at: float, *, close_code: int | None = None, close_reason: str = "", error: str = ""
    ) -> None:
        if self.state is State.ENDED:
            return
        self._ended = _Ended(end, at, close_code=close_code, close_reason=close_reason, error=error)
        self.state = State.ENDED
        self._outbox.clear()

    def _receive_before_ack(self, data: str | bytes) -> None:
        """Frames before the acknowledgement are not part of the run; the acknowledgement makes the session ready."""
        ack = self.request.ack
        assert ack is not None
        if any(ack.matches(item.message) for item in decode_frame(self.request.protocol, data)):
            self.state = State.READY
        elif len(self._before_ack) < _REFUSAL_SHOWN:
            shown = data if isinstance(data, str) else repr(data)
            self._before_ack.append(shorten(shown, 160))

    def _refusal(self) -> str:
        """What the server said instead of acknowledging (a refusal frame is evidence)."""
        return f"; it sent instead: {' | '.join(self._before_ack)}" if self._before_ack else ""

    def _opening(self) -> str:
        return "WebSocket upgrade" if self.request.transport in ("websocket", "socketio") else "request"
