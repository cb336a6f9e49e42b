"""What a run left behind, and what it should have delivered: the data every rule reads.

This is the bottom of `wiringcheck.run`: the session writes a `Recording`, the judge
classifies its frames into `Event`s and hands the rules a `RunView`, and the rules
read nothing else.  Pure data: nothing here reads a clock, opens a socket or imports
a rule.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wiringcheck.findings import Location
    from wiringcheck.protocol import Item, Protocol

__all__ = [
    "DEFAULT_BUDGET_MS",
    "DEFAULT_EVENTS",
    "Emission",
    "Event",
    "Expectation",
    "Frame",
    "Latency",
    "LoopStall",
    "Malformed",
    "Recording",
    "RecordingEnd",
    "RunView",
]

DEFAULT_EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
"""The five events a user must see during an agent run, in order; the last one is terminal."""

DEFAULT_BUDGET_MS = 100.0
"""The per-event delivery budget, in milliseconds, when the configuration names none."""


class RecordingEnd(enum.StrEnum):
    """Why the session stopped recording a run."""

    TERMINAL = "terminal"
    """The terminal event arrived (and the linger after it elapsed)."""
    DEADLINE = "deadline"
    """The run deadline passed first."""
    CLOSED = "closed"
    """The server closed the connection (or ended the response body) first."""
    CONNECT_FAILED = "connect_failed"
    """No connection was made: nothing was sent."""
    PROBE_CLOSED = "probe_closed"
    """The probe closed the connection: the server sent what a client must refuse (1009, 1007)."""
    OVERFLOW = "overflow"
    """The server sent more frames or bytes than the session records for one run."""
    ERROR = "error"
    """An error terminal arrived (`probe.error_events`): the backend said the run failed."""
    AUTH_REJECTED = "auth_rejected"
    """The server refused the credentials; `Recording.error` says how."""
    SETUP_FAILED = "setup_failed"
    """A setup step failed before connecting; `Recording.error` says which and why."""
    STALLED = "stalled"
    """Nothing of the run arrived for longer than it could pass with (`session.stall_after`): the session stopped."""
    HTTP_ERROR = "http_error"
    """The run's HTTP request was answered with something other than a stream (a status, an HTML page)."""


EMISSION_CHECK = "probe: emission latency"
"""The check an entry point reports as skipped when `probe.emit` is configured but the backend runs elsewhere."""

EMIT_ELSEWHERE = (
    "probe.emit times the backend's emitting calls in this process; this backend runs in another one, "
    "so latency is measured from the event's hand-off or its own timestamp instead"
)
"""Why emission latency cannot be measured here (a url target, load and Locust clients in other processes)."""

NOT_STARTED = frozenset(
    {RecordingEnd.CONNECT_FAILED, RecordingEnd.AUTH_REJECTED, RecordingEnd.SETUP_FAILED, RecordingEnd.HTTP_ERROR}
)
"""Ends that mean the run never started: nothing of the backend's events can be judged."""


class Latency(enum.StrEnum):
    """How an event's delivery latency is measured."""

    SEND = "send"
    """From the backend's hand-off to its transport (in-process targets), on one monotonic clock."""
    TIMESTAMP = "timestamp"
    """From the event's own timestamp field to the probe's wall clock (the server is another process)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One message the session received: a WebSocket message, an SSE event, an NDJSON line.

    Attributes:
        received_at: monotonic receive time, in seconds, on the probe's clock.
        data: the message, text or bytes.
        received_wall: wall-clock receive time (epoch seconds), for timestamp latency.
        sent_at: when the backend handed it to its transport, on the same monotonic
            clock as `received_at` (in-process targets only).
        name: the transport's own name for the message, when it has one (an SSE
            ``event:`` field, a socket.io event name).
    """

    received_at: float
    data: str | bytes
    received_wall: float | None = None
    sent_at: float | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class LoopStall:
    """A time the backend's event loop was blocked (in-process), and the backend code it was running.

    Attributes:
        start: when the loop missed its tick, on the probe's monotonic clock.
        seconds: how long it was blocked.
        where: the innermost line of the backend's own code, when a sampler saw it.
        code: that line's source.
        stack: the backend's frames, outermost first, as text (empty when the block was elsewhere or too short).
    """

    start: float
    seconds: float
    where: Location | None = None
    code: str = ""
    stack: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Emission:
    """One call of an emitting method the `emit` map names, timestamped on the probe's monotonic clock."""

    event: str
    run_id: str | None
    at: float


@dataclass(frozen=True, slots=True)
class Recording:
    """Everything the session saw of one run.

    `end` says why recording stopped (a `RecordingEnd`); for a refused auth or a failed
    setup step, `error` says how.  `run_id` is the id the probe put in its request;
    `server_run_id` the id the server assigned (captured by a setup step, or learnt
    from the run's first frame under ``run_id = "server"``).  `id` is the run's id
    everywhere else: isolation, emission pairing, cross-talk, reports.
    """

    run_id: str
    trigger_at: float
    ended_at: float
    frames: tuple[Frame, ...] = ()
    end: RecordingEnd = RecordingEnd.TERMINAL
    close_code: int | None = None
    close_reason: str = ""
    error: str = ""
    server_run_id: str | None = None
    auth_method: str | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """Every form of the credentials this run used, so whoever reports on it can scrub them."""
    ids: tuple[tuple[str, str], ...] = ()
    """The ids this run sent, by kind (user, thread, run), for the identifier cross-check."""
    earlier_runs: tuple[str, ...] = ()
    """The ids of the same user's earlier runs: their late frames are the user's own, never cross-talk."""
    emissions: tuple[Emission, ...] = ()
    """The backend's emitting calls during the run (in-process targets with an `emit` map)."""
    loop_stalls: tuple[LoopStall, ...] = ()
    """Each time the backend's event loop was blocked during the run, and where (in-process targets)."""
    transport: str = "websocket"
    """How the frames came: ``websocket``, ``sse``, ``ndjson`` or ``socketio`` (for wording, never for judging)."""
    url: str = ""
    """Where the run went (placeholders filled; may hold a token in its query: shown only through `mask_urls`)."""
    opened_at: float | None = None
    """When the response's headers arrived (HTTP transports): a run `started_by = "response"` starts there."""
    stream_completed: bool = False
    local_port: int | None = None
    """The client's port of the run's connection, when the transport knows it (in-process hand-off pairing)."""
    """The response ended cleanly and the configuration says that completes the run (``completed_by``)."""
    decoded: tuple[tuple[Item, ...] | None, ...] = field(default=(), repr=False, compare=False)
    """What the session read in each frame (None: not read, after the terminal), so the judge need not read it again."""
    decoded_with: Protocol | None = field(default=None, repr=False, compare=False)
    """The protocol `decoded` was read with: the judge reuses it only when it reads with the same one."""

    @property
    def id(self) -> str:
        """The run's id: the one the server assigned, when it did, else the one the probe sent."""
        return self.server_run_id or self.run_id


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a healthy run delivers: the events in order, and how fast.

    `latency` is `Latency.SEND` when frames carry the backend's send time (in-process
    targets) and `Latency.TIMESTAMP` when only the event's own timestamp field can be used.
    """

    events: tuple[str, ...]
    terminal: str
    budget_ms: float = DEFAULT_BUDGET_MS
    type_field: str = "type"
    run_id_field: str = "run_id"
    timestamp_field: str = "timestamp"
    latency: Latency = Latency.SEND
    protocol: Protocol | None = None
    gap_ms: float | None = DEFAULT_BUDGET_MS
    """The longest silence allowed before the first and between expected events; None: unbounded."""
    once: tuple[str, ...] | None = None
    """Events sent exactly once per run; None: the first and the terminal event."""
    tool_pairs: tuple[tuple[str, str], ...] | None = None
    """(start, end) events that pair up; None: tool_executing/tool_completed when both are expected."""
    tool_id_field: str = "tool_call_id"
    assume_synced_clocks: bool = False
    """Timestamp latency: trust the server's clock instead of estimating its offset from the run."""
    started_by: str | None = None
    """``response`` or ``first_frame``: what starts a run whose server sends no start event."""
    completed_by: str | None = None
    """``end_of_stream``: a run whose server sends no terminal event is complete when its stream ends cleanly."""


@dataclass(frozen=True, slots=True)
class Event:
    """One item of the run, classified: `type` is its expected-event name, or its raw type when unexpected.

    Attributes:
        index: the frame it came in (a batched frame gives several events one index).
        type: the role it matched, else its type field, else its kind.
        run_id: the run it names, if it does.
        frame: the frame it came in.
        latency_ms: its delivery latency, when it could be measured.
        expected: it matched one of the expected events.
        item: the protocol's reading of it.
    """

    index: int
    type: str
    run_id: str | None
    frame: Frame
    latency_ms: float | None
    expected: bool = True
    item: Item | None = None


@dataclass(frozen=True, slots=True)
class Malformed:
    """A frame item that is no event at all: binary, not JSON, or a JSON object without a type."""

    index: int
    frame: Frame
    item: Item


@dataclass(frozen=True, slots=True)
class RunView:
    """One run as the rules see it: the recording, what was expected, and its frames classified.

    Attributes:
        ours: the run's events (expected and unexpected; ignored and error items left out),
            with latencies relative to the server clock where that was estimated.
        expected: the expected events among `ours`.
        until_terminal: `expected` up to and including the first terminal event (what comes after is WC404's).
        everything: every item of the run, ignored and error ones included (lifecycle rules).
        errors: the run's error terminals.
        malformed: items that are no event (binary, not JSON, untyped).
        untimed: (event, index, value) of expected events whose timestamp is no time.
        unexpected: evidence lines of the run's unmapped frames (before its terminal).
        emitted: the emitting call's time of each event of `ours`, by position.
    """

    recording: Recording
    expectation: Expectation
    protocol: Protocol
    ours: tuple[Event, ...] = ()
    expected: tuple[Event, ...] = ()
    until_terminal: tuple[Event, ...] = ()
    everything: tuple[Event, ...] = ()
    errors: tuple[Event, ...] = ()
    malformed: tuple[Malformed, ...] = ()
    untimed: tuple[tuple[str, int, Any], ...] = ()
    unexpected: tuple[str, ...] = ()
    emitted: dict[int, float] = field(default_factory=dict)

    def ms(self, at: float) -> float:
        """`at` (the probe's monotonic clock) in milliseconds after the trigger."""
        return round((at - self.recording.trigger_at) * 1000.0, 3)
