"""Learning a protocol from what a backend sent: the `[probe]` keys the frames of one run suggest.

`inspect --probe` prints the suggestion; `init --from-run` writes it into the configuration.
Pure: fed the frames of one recording, the probe settings in force and the ids the run
sent, `learn` returns the distinct shapes it saw and the keys to add, never a key the
configuration (or its preset) already says.  Every guess reads what frames *are* (their
type, kind, op and source fields, their envelope) and never what one run's payload
happened to hold, so the table fits the next run too:

- `preset`, when a known protocol's preset maps the run on its own (AG-UI, ADK);
- `batch_field`, when frames carry a list of typed events;
- matchers for the five events, by type and source; `type_field` when they all test one field;
- `ignore` for frames said to the connection rather than the run (``connection_established``,
  heartbeats, an auth acknowledgement) and for the user's own message echoed back;
- `run_id = "server"` when frames carry a run id the trigger did not send, `run_id_field`
  when they carry the run's id under another field;
- `timestamp_field`, when the events carry a time under a usual name;
- `tool_call_id_field`, when a tool call and its result carry the same id.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from wiringcheck import boundedjson
from wiringcheck.protocol import (
    ABSENT,
    EVENT_NAME,
    PRESETS,
    Item,
    Kind,
    Protocol,
    decode_frame,
    parse_path,
)

if TYPE_CHECKING:
    from wiringcheck.config import ProbeSettings
    from wiringcheck.run.recording import Recording

__all__ = ["Lesson", "Shape", "frame_shapes", "learn", "suggest_probe_table"]

Scalar = str | int | float | bool

_DISCRIMINATORS = ("type", "kind", "event", "op", EVENT_NAME)
"""Field names that say what a frame is; `frame_shapes` groups frames by their values, at any envelope depth."""
_TOP_DISCRIMINATORS = ("status", "action")
"""Field names that tell frames of one type apart only at the top of a frame (``completion`` with a status)."""
_SOURCES = ("source", "role", "sender", "author")
"""Field names that say who a frame speaks for: an echoed user message is told from the agent's by them."""
_ENVELOPES = ("data", "event", "message", "msg", "body", "detail")
"""Keys whose object is the frame's inner envelope (``{"type": "message", "data": {"type": ...}}``), not its payload.

A discriminator is read only through these: a value inside a payload (``payload.result.status``)
says what the tool returned, not what the frame is, and a matcher on it would fit one run only.
"""
_USER_SOURCES = ("user", "human", "client")
"""Values of a source field that mean the frame is the user's own message, echoed back."""
_RUN_IDS = ("run_id", "runId", "run.id", "task_id", "taskId", "session_id", "sessionId")
"""Where frames usually carry the id of their run, when the configured field is not it."""
_TIMESTAMPS = ("timestamp", "ts", "time", "created", "created_at", "createdAt", "sent_at", "sentAt", "emitted_at")
"""Where frames usually carry the time they were sent."""
_TOOL_CALL_IDS = ("tool_call_id", "toolCallId", "call_id", "callId", "tool_id", "toolId", "id")
"""Where a tool call and its result usually carry the call's id (``id`` last: it names many things)."""
_EPOCH_2001 = 1e9
"""Epoch seconds of September 2001: a number below it (in any unit) counts something, it is no send time."""

_ROLE_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("error", ("error", "fail")),
    ("ignore", ("ping", "pong", "heartbeat", "keepalive", "keep_alive", "content", "delta", "chunk", "args",
                "connection", "connected", "established", "welcome", "auth_ok", "authenticated", "ack")),
    ("tool_completed", ("toolcallresult", "tool_result", "toolresult", "tool.result", "execution", "tool_completed",
                        "tool_end", "tool_call_result", "tool.output", "tool_output")),
    ("tool_executing", ("toolcallstart", "tool_call_start", "toolcallrequest", "tool.call", "tool_start",
                        "tool_executing", "tool_call")),
    ("agent_thinking", ("think", "thought", "reason", "text_message_start", "message_start")),
    ("agent_started", ("run_started", "runstarted", "task_started", "taskstarted", "start", "begin", "accepted",
                       "created")),
    ("agent_completed", ("run_finished", "finish", "complete", "done", "end")),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Shape:
    """A kind of frame a backend sent: the values of its discriminating fields, how often, and an example.

    Attributes:
        conditions: (path, value) of each field that says what the frame is, or who it speaks for.
        count: how many frames had this shape.
        example: the first of them, decoded (one event of a batch, without its envelope).
        ids: (path, value) of the run ids its frames carried, in the event or its envelope.
        kind: what the configuration in force already makes of it (`Protocol.classify`), when one was given.
        role: the expected event it already matches, for `Kind.EVENT`.
        envelope: the first frame's envelope, when the event came out of a batch.
    """

    conditions: tuple[tuple[str, Scalar], ...]
    count: int
    example: Any
    ids: tuple[tuple[str, str], ...] = ()
    kind: Kind | None = None
    role: str | None = None
    envelope: Any = None

    @property
    def matcher(self) -> dict[str, Scalar]:
        """The matcher table that recognises this shape."""
        return dict(self.conditions)

    @property
    def source(self) -> str | None:
        """Who the frame speaks for, when it says (``user``, ``assistant``)."""
        return next((str(value) for path, value in self.conditions if path.split(".")[-1] in _SOURCES), None)


@dataclass(frozen=True, slots=True)
class Lesson:
    """What one run taught: the shapes of its frames, and the `[probe]` keys to add.

    Attributes:
        shapes: the distinct shapes, in order of first appearance, classified by the protocol in force.
        table: the keys to add (`match` always; `unmapped` lists matchers left for the user to place).
    """

    shapes: tuple[Shape, ...]
    table: dict[str, Any]


def learn(recording: Recording, probe: ProbeSettings) -> Lesson:
    """The shapes of the frames `recording` holds, and the keys they suggest to `probe`, the configuration in force.

    A run id among the ids the run sent (its own, its thread's, the values its setup
    steps captured) is the client's; any other the frames carry is the server's.
    """
    received = [(frame.data, frame.name) for frame in recording.frames]
    run_id = recording.run_id
    sent: set[str] = {value for _, value in recording.ids}
    protocol = probe.protocol()
    events: Sequence[str] = probe.events
    added: dict[str, Any] = {}
    if probe.preset is None:
        fitting = _fitting_preset(received)
        if fitting is not None:
            name, protocol = fitting
            events = protocol.events
            added["preset"] = name
            if _preset_transport(name) != recording.transport:
                added["transport"] = recording.transport  # the preset's own transport is not the one that worked
    if protocol.batch_path is None:
        batch = _batch_field(received)
        if batch is not None:
            protocol = replace(protocol, batch_path=parse_path(batch))
            added["batch_field"] = batch
    items = [item for data, name in received for item in decode_frame(protocol, data, name)]
    run_path = _run_id_field(items, protocol, run_id)
    if run_path is not None:  # read again: which events belong to the run is what the rest is learnt from
        protocol = replace(protocol, run_id_path=parse_path(run_path))
        items = [item for data, name in received for item in decode_frame(protocol, data, name)]
    sent.add(run_id)
    shapes = frame_shapes(items, run_id_path=run_path or protocol.run_id_path.text)
    table = suggest_probe_table(shapes, events, protocol=protocol, sent=sent)
    if run_path is not None and "run_id_field" not in table:
        table["run_id_field"] = run_path
    timestamp = _timestamp_field(items, protocol)
    if timestamp is not None:
        table["timestamp_field"] = timestamp
    if not protocol.pairs_tool_calls:
        tool_ids = _tool_call_id_field(shapes, table["match"])
        if tool_ids is not None:
            table["tool_call_id_field"] = tool_ids
    _one_type_field(table, protocol, events)
    return Lesson(tuple(shapes), {**added, **table})


def frame_shapes(items: Iterable[Item], *, run_id_path: str = "run_id") -> list[Shape]:
    """The distinct shapes among decoded events, in order of first appearance.

    Each shape says what the configuration in force made of its first event (the items'
    own classification), and which run ids its events carried, at `run_id_path` or a usual place.
    """
    order: list[tuple[tuple[str, Scalar], ...]] = []
    firsts: dict[tuple[tuple[str, Scalar], ...], Item] = {}
    counts: dict[tuple[tuple[str, Scalar], ...], int] = {}
    ids: dict[tuple[tuple[str, Scalar], ...], dict[tuple[str, str], None]] = {}
    paths = _id_paths(run_id_path)
    for item in items:
        key = tuple(_discriminators(item.message))
        if key not in counts:
            order.append(key)
            counts[key] = 0
            firsts[key] = item
            ids[key] = {}
        counts[key] += 1
        if len(ids[key]) < 20:
            ids[key].update(dict.fromkeys(_ids(item.message, paths)))
            ids[key].update(dict.fromkeys(_ids(item.envelope, paths)))
    return [
        Shape(
            conditions=key,
            count=counts[key],
            example=firsts[key].message,
            ids=tuple(ids[key]),
            kind=firsts[key].kind,
            role=firsts[key].role,
            envelope=firsts[key].envelope,
        )
        for key in order
    ]


def suggest_probe_table(
    shapes: Sequence[Shape],
    events: Sequence[str],
    *,
    protocol: Protocol | None = None,
    sent: Collection[str] = (),
) -> dict[str, Any]:
    """The matchers, ignores, error terminals and run-id keys `shapes` suggest (see `learn` for the rest).

    Only what the configuration (and its preset) does not already say: a shape it maps,
    ignores or treats as an error is left alone, and so is an event some frame already
    matches. Each other shape whose type names a role (``RunStarted``, ``tool.result``,
    ``heartbeat``, ``failed``) is matched to it, by its type and source fields, never by a
    payload value. A frame that speaks for the user (an echo of the trigger), or that
    belongs to no run while the run's frames carry one (``connection_established``), is
    ignored. When frames carry a run id the trigger did not send (`sent` are the values
    it did), the server assigns it: ``run_id = "server"``. The rest is left for the user,
    listed as unmapped.
    """
    match: dict[str, Any] = {}
    ignore: list[Any] = []
    errors: list[Any] = []
    unknown: list[Any] = []
    mapped = {shape.role for shape in shapes if shape.kind is Kind.EVENT}
    in_runs = any(shape.ids for shape in shapes)
    for shape in shapes:
        if not shape.conditions or shape.kind in (Kind.EVENT, Kind.ERROR, Kind.IGNORED):
            continue
        role = _guess(shape)
        if role is None and in_runs and not shape.ids:
            role = "ignore"  # outside any run: said to the connection, not to the run
        matcher = shape.matcher
        if role == "error":
            errors.append(matcher)
        elif role == "ignore":
            ignore.append(matcher)
        elif role is not None and role in events and role not in match and role not in mapped:
            match[role] = matcher
        else:
            unknown.append(matcher)
    table: dict[str, Any] = {**_server_run_id(shapes, protocol, sent), "match": match}
    if ignore:
        table["ignore"] = ignore
    if errors:
        table["error_events"] = errors
    if unknown:
        table["unmapped"] = unknown
    return table


# -- reading frames --------------------------------------------------------------------------------


def _discriminators(message: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, Scalar]]:
    found: list[tuple[str, Scalar]] = []
    if not isinstance(message, Mapping) or depth > 2:
        return found
    for key, value in message.items():
        path = f"{prefix}{key}"
        if isinstance(value, str) and (
            key in _DISCRIMINATORS or key in _SOURCES or (depth == 0 and key in _TOP_DISCRIMINATORS)
        ):
            found.append((path, value))
        elif isinstance(value, Mapping) and key in _ENVELOPES and "." not in str(key):
            found.extend(_discriminators(value, f"{path}.", depth + 1))
    return found


def _leaves(message: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """(path, value) of the scalars of a decoded frame, three levels deep (the first two items of a list)."""
    if depth > 3:
        return
    if isinstance(message, Mapping):
        pairs: Iterable[tuple[Any, Any]] = message.items()
    elif isinstance(message, list) and prefix:
        pairs = enumerate(message[:2])
    else:
        return
    for key, value in pairs:
        if not isinstance(key, str | int) or "." in str(key) or str(key) == EVENT_NAME:
            continue
        path = f"{prefix}{key}"
        if isinstance(value, Mapping | list):
            yield from _leaves(value, f"{path}.", depth + 1)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            yield path, value


def _id_paths(configured: str) -> list[str]:
    paths = [*_RUN_IDS, *(f"{_ENVELOPES[0]}.{name}" for name in _RUN_IDS)]
    return [configured, *(path for path in paths if path != configured)]


def _ids(message: Any, paths: Sequence[str]) -> list[tuple[str, str]]:
    found = []
    for text in paths:
        value = parse_path(text).read(message)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            found.append((text, str(value)))
    return found


def _guess(shape: Shape) -> str | None:
    if shape.source is not None and shape.source.lower() in _USER_SOURCES:
        return "ignore"  # the user's own message, echoed back: not a step of the agent's run
    words = " ".join(str(value).lower() for path, value in shape.conditions if path.split(".")[-1] not in _SOURCES)
    squashed = words.replace("-", "_")
    for role, hints in _ROLE_HINTS:
        if any(hint in squashed or hint in squashed.replace("_", "") for hint in hints):
            return role
    return None


# -- the keys beyond the matchers ------------------------------------------------------------------


def _fitting_preset(received: Sequence[tuple[str | bytes, str | None]]) -> tuple[str, Protocol] | None:
    """The known protocol whose preset maps this run on its own: most of its events seen, next to nothing unknown."""
    from wiringcheck.config import parse_settings

    for name in PRESETS:
        if name == "wiringcheck":
            continue  # the default mapping: nothing to add
        protocol = parse_settings({"probe": {"preset": name}}).probe.protocol()
        items = [item for data, label in received for item in decode_frame(protocol, data, label)]
        roles = {item.role for item in items if item.kind is Kind.EVENT}
        unknown = sum(item.kind in (Kind.UNEXPECTED, Kind.UNTYPED) for item in items)
        if len(roles) >= 3 and unknown * 10 <= len(items):
            return name, protocol
    return None


def _preset_transport(preset: str) -> str:
    """The transport a preset runs over unless told otherwise."""
    return str(PRESETS[preset].get("transport", "websocket"))


def _batch_field(received: Sequence[tuple[str | bytes, str | None]]) -> str | None:
    """The field under which frames carry a list of typed events (``{"op": "batch", "events": [...]}``)."""

    counts: dict[str, int] = {}
    for data, _ in received:
        try:
            message = boundedjson.loads(data) if isinstance(data, str) else None
        except (ValueError, RecursionError):
            continue
        if not isinstance(message, dict):
            continue
        for key, value in message.items():
            if (
                isinstance(value, list)
                and value
                and all(isinstance(entry, dict) and _discriminators(entry) for entry in value)
            ):
                counts[key] = counts.get(key, 0) + 1
    return max(counts, key=lambda key: counts[key]) if counts else None


def _run_id_field(items: Sequence[Item], protocol: Protocol, run_id: str | None) -> str | None:
    """Where the events carry the run id the trigger sent, when that is not the configured field."""
    if not run_id or protocol.correlation != "client":
        return None
    if any(item.run_id == run_id for item in items):
        return None  # the configured field already carries it
    for item in items:
        for message in (item.message, item.envelope):
            path = next((path for path, value in _leaves(message) if str(value) == run_id), None)
            if path is not None:
                return path
    return None


def _timestamp_field(items: Sequence[Item], protocol: Protocol) -> str | None:
    """Where the run's events (or their envelopes) carry a send time, when the configured field does not."""
    from wiringcheck.run.judge import parse_time

    typed = [item for item in items if isinstance(item.message, dict)]
    if any(item.run_id is not None for item in typed):
        typed = [item for item in typed if item.run_id is not None]  # the run's own events, not the connection's

    def read(path: str, item: Item) -> Any:
        field_path = parse_path(path)
        value = field_path.read(item.message)
        return field_path.read(item.envelope) if value is ABSENT and item.envelope is not None else value

    def carries_times(path: str) -> bool:
        # A terminal frame without a time is common (AutoGen's completion): most events, every one a time.
        present = [value for value in (read(path, item) for item in typed) if value is not ABSENT]
        times = [parse_time(value) for value in present]
        return len(present) * 5 >= len(typed) * 4 and all(time is not None and time > _EPOCH_2001 for time in times)

    if not typed or carries_times(protocol.timestamp_path.text):
        return None
    candidates = [path for path, _ in _leaves(typed[0].message) if path.split(".")[-1] in _TIMESTAMPS]
    if typed[0].envelope is not None:
        candidates += [path for path, _ in _leaves(typed[0].envelope) if path in _TIMESTAMPS]
    return next((path for path in candidates if carries_times(path)), None)


def _tool_call_id_field(shapes: Sequence[Shape], match: Mapping[str, Any]) -> str | dict[str, str] | None:
    """Where a tool call and its result carry the same id: one path, or one per event when they differ."""

    def example(role: str) -> Any:
        if role in match:
            return next((shape.example for shape in shapes if shape.matcher == match[role]), None)
        return next((shape.example for shape in shapes if shape.role == role), None)

    def ids(message: Any) -> list[tuple[str, str]]:
        return [
            (path, str(value))
            for path, value in _leaves(message)
            if path.split(".")[-1] in _TOOL_CALL_IDS and isinstance(value, str | int)
        ]

    calls, results = ids(example("tool_executing")), ids(example("tool_completed"))
    for rank in _TOOL_CALL_IDS:  # the most specific name first: `id` names many things
        for call_path, value in calls:
            if call_path.split(".")[-1] != rank:
                continue
            result_path = next((path for path, other in results if other == value), None)
            if result_path is None:
                continue
            if result_path == call_path:
                return call_path
            return {"tool_executing": call_path, "tool_completed": result_path}
    return None


def _one_type_field(table: dict[str, Any], protocol: Protocol, events: Sequence[str]) -> None:
    """When every suggested matcher tests one field, write them as plain types (naming the field `type_field`).

    The field is renamed only when the suggestion maps every event and the configuration
    has no ignore or error matchers of its own: a plain type elsewhere would be read on the new field.
    """
    match: dict[str, Any] = table["match"]
    if not match or any(not isinstance(spec, dict) or len(spec) != 1 for spec in match.values()):
        return
    fields = {next(iter(spec)) for spec in match.values()}
    if len(fields) != 1:
        return
    (path,) = fields
    if path != protocol.type_path.text:
        if len(match) != len(events) or protocol.ignore or protocol.errors:
            return
        table["type_field"] = path
    table["match"] = {role: spec[path] for role, spec in match.items()}
    for key in ("ignore", "error_events", "unmapped"):
        if key in table:
            table[key] = [
                spec[path] if isinstance(spec, dict) and list(spec) == [path] else spec for spec in table[key]
            ]


def _server_run_id(shapes: Sequence[Shape], protocol: Protocol | None, sent: Collection[str]) -> dict[str, str]:
    """`run_id = "server"` (and the field, when not the configured one) if frames carry a run id nobody sent."""
    if protocol is not None and protocol.correlation != "client":
        return {}
    configured = protocol.run_id_path.text if protocol is not None else "run_id"
    foreign = [(path, value) for shape in shapes for path, value in shape.ids if value not in sent]
    if not foreign or any(value in sent for shape in shapes for _, value in shape.ids):
        return {}
    path = next((path for path, _ in foreign if path == configured), foreign[0][0])
    return {"run_id": "server"} if path == configured else {"run_id": "server", "run_id_field": path}
