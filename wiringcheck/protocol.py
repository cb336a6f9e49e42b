"""The protocol model: how a backend's frames map onto the five events of an agent run.

Pure data and pure functions, shared by the probe (which must know when a run has
ended) and the event checker (which judges what arrived), so both read a frame the
same way.  Nothing here performs I/O.

- **Field paths** name a value inside a JSON frame, in one documented syntax: dotted
  segments, where a segment made of digits indexes a list (``data.type``,
  ``payload.run.id``, ``events.0.kind``) and ``*`` is every element of a list
  (``content.parts.*.functionCall``).  JSON Pointer (``/data/type``) and bracket
  indexing (``events[0]``) are rejected with the dotted spelling as a did-you-mean.
  A path that does not lead anywhere reads as `ABSENT`, never raises.
- **Matchers** recognise an event: a name (or a list of names) compared with the
  type field, or a table of field path -> value conditions that must all hold
  (a list of values means "any of them"; ``{ "$exists" = true }`` that the field is
  there), or a list of such tables, any of which may hold.
- **Correlation** names how frames are told to belong to the probe's run: ``client``,
  ``server`` or ``connection``; `wiringcheck.run.identity` decides it, frame by frame.
- **Presets** fill these keys for a known protocol.  They are plain configuration
  tables, merged under the user's own keys, never code paths.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from wiringcheck import boundedjson
from wiringcheck.errors import MatcherError, PathSyntaxError
from wiringcheck.suggest import suggest

__all__ = [
    "ABSENT",
    "CORRELATIONS",
    "EVENT_DATA",
    "EVENT_NAME",
    "EXISTS",
    "PRESETS",
    "TOOL_CALL_END",
    "WILDCARD",
    "Condition",
    "FieldPath",
    "Item",
    "Kind",
    "Matcher",
    "MatcherError",
    "PathSyntaxError",
    "Protocol",
    "decode_frame",
    "flatten_conditions",
    "json_equal",
    "parse_matcher",
    "parse_path",
    "render_trigger",
]


class _Absent:
    """The value read through a path that leads nowhere."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Final = _Absent()
"""What `FieldPath.read` returns when the path does not exist in the message."""

TOOL_CALL_END: Final = "tool_call_end"
"""In a per-event `tool_call_id_field` table, the key of the frame that closes a call's arguments."""

CORRELATIONS = ("client", "server", "connection")
"""How frames are attributed to the probe's run (see the module docstring)."""

Scalar = str | int | float | bool | None


_SEGMENT = re.compile(r"^[^.\s\[\]/]+$")
_BRACKET = re.compile(r"\[(\d+)\]")

WILDCARD: Final = "*"
"""A path segment that stands for every element of a list (and every value of an object)."""

EXISTS: Final = "$exists"
"""The operator of a presence test: ``{ "data.error" = { "$exists" = true } }``."""

_MAX_POSITION_DIGITS = 18
"""A list position longer than this is past the end of any list (and `int()` refuses past 4300 digits)."""


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A dotted path into a JSON value: ``data.type``, ``events.0.kind``, ``content.parts.*.functionCall``.

    A segment made only of digits indexes a list (and is a plain key in an object); a
    ``*`` segment is every element of a list, or every value of an object.
    """

    text: str
    parts: tuple[str, ...]
    wild: bool = field(init=False, repr=False, compare=False)
    """Whether a segment is ``*``: then the path can lead to several values."""
    _steps: tuple[tuple[str, int], ...] = field(init=False, repr=False, compare=False)
    """Each segment with its list position (-1 when it is not one), worked out once rather than per frame."""

    def __post_init__(self) -> None:
        steps = tuple(
            (part, int(part) if part.isascii() and part.isdigit() and len(part) <= _MAX_POSITION_DIGITS else -1)
            for part in self.parts  # '²'.isdigit() is True, so ASCII is checked first
        )
        object.__setattr__(self, "_steps", steps)
        object.__setattr__(self, "wild", WILDCARD in self.parts)

    def read(self, value: Any) -> Any:
        """The value at this path in `value`, or `ABSENT` when any step is missing.

        Through a ``*`` segment it is the first value found, in document order.
        """
        if self.wild:
            return next(self.values(value), ABSENT)
        for part, position in self._steps:
            if isinstance(value, dict):  # what JSON decodes to; an ABC check would cost every frame of a run
                if part not in value:
                    return ABSENT
                value = value[part]
            elif position >= 0 and isinstance(value, list):
                if position >= len(value):
                    return ABSENT
                value = value[position]
            else:
                return ABSENT
        return value

    def values(self, value: Any) -> Iterator[Any]:
        """Every value at this path in `value`, in document order: at most one, unless a segment is ``*``.

        Walks with a stack, not recursion, so neither a deep message nor a long path can raise.
        """
        if not self.wild:
            found = self.read(value)
            if found is not ABSENT:
                yield found
            return
        steps = self._steps
        end = len(steps)
        stack: list[tuple[Any, int]] = [(value, 0)]
        while stack:
            current, index = stack.pop()
            if index == end:
                yield current
                continue
            part, position = steps[index]
            if part == WILDCARD and isinstance(current, list | dict):
                children = list(current.values()) if isinstance(current, dict) else current
                stack.extend((child, index + 1) for child in reversed(children))
            elif isinstance(current, dict):
                if part in current:
                    stack.append((current[part], index + 1))
            elif position >= 0 and isinstance(current, list) and position < len(current):
                stack.append((current[position], index + 1))

    def __str__(self) -> str:
        return self.text


def parse_path(text: str) -> FieldPath:
    """Parse a dotted field path.

    Raises:
        PathSyntaxError: empty segments, JSON Pointer or bracket syntax, whitespace.
    """
    if not isinstance(text, str) or not text:
        raise PathSyntaxError("a field path must be a non-empty string such as 'data.type'")
    if text.startswith("/"):
        dotted = ".".join(part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/"))
        raise PathSyntaxError(f"{text!r} is a JSON Pointer; field paths are dotted: did you mean {dotted!r}?")
    if "[" in text or "]" in text:
        dotted = _BRACKET.sub(r".\1", text).replace("[*]", ".*").lstrip(".")
        raise PathSyntaxError(f"{text!r} uses brackets; list positions are dotted segments: did you mean {dotted!r}?")
    parts = tuple(text.split("."))
    for part in parts:
        if not _SEGMENT.match(part):
            raise PathSyntaxError(
                f"{text!r} has an empty or invalid segment {part!r}; write segments separated by single dots, "
                "e.g. 'payload.run.id', 'events.0.kind' or 'content.parts.*.functionCall'"
            )
    return FieldPath(text=text, parts=parts)


def json_equal(actual: Any, expected: Scalar) -> bool:
    """JSON equality that does not confuse true with 1 (and a value of another type is never equal)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return actual == expected
    return type(actual) is type(expected) and actual == expected


class Condition(NamedTuple):
    """One test on one field: its value is one of `accepted`, or (`present` set) it exists or not."""

    path: FieldPath
    accepted: tuple[Scalar, ...] = ()
    present: bool | None = None
    """A presence test: True, the field exists (any value, null included); False, it does not."""
    strings: frozenset[str] = frozenset()
    """The accepted strings, for the common case of a string field: one set lookup instead of a loop."""

    def holds(self, message: Any) -> bool:
        """Whether the test holds; through ``*`` segments, for any element reached (absence: for none)."""
        if self.present is not None:
            return (next(self.path.values(message), ABSENT) is not ABSENT) is self.present
        return any(self._accepts(actual) for actual in self.path.values(message))

    def _accepts(self, actual: Any) -> bool:
        if type(actual) is str:
            return actual in self.strings
        return any(json_equal(actual, value) for value in self.accepted)


def _condition(path: FieldPath, accepted: tuple[Scalar, ...]) -> Condition:
    return Condition(path, accepted, None, frozenset(v for v in accepted if type(v) is str))


@dataclass(frozen=True, slots=True)
class Matcher:
    """Conditions on a frame's fields: a frame matches when every condition of one alternative holds.

    Attributes:
        alternatives: sets of conditions, any of which may hold (a list of tables is an OR).
        text: how the configuration spelled it, for messages.
    """

    alternatives: tuple[tuple[Condition, ...], ...]
    text: str

    def matches(self, message: Any) -> bool:
        for conditions in self.alternatives:
            for condition in conditions:
                path, accepted, present, strings = condition
                if present is not None or path.wild:
                    if not condition.holds(message):
                        break
                    continue
                # The common case, inlined: it runs for every condition of every frame.
                actual = path.read(message)
                if actual is ABSENT:
                    break
                if type(actual) is str:
                    if actual not in strings:
                        break
                elif not any(json_equal(actual, value) for value in accepted):
                    break
            else:
                return True
        return False


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def flatten_conditions(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A matcher table with nested tables flattened into dotted paths.

    TOML reads ``{ data.type = "x" }`` (unquoted) as ``{"data": {"type": "x"}}`` and
    ``{ "data.type" = "x" }`` (quoted) as one key: both mean the same path. A nested
    table holding the ``$exists`` operator is a test on its own path, kept as it is.
    """
    flat: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and EXISTS not in value:
            if not value:
                raise MatcherError(
                    f"the condition on {path!r} is an empty table, which tests nothing; to test that the field "
                    f'is there, write {{ "{path}" = {{ "{EXISTS}" = true }} }}'
                )
            flat.update(flatten_conditions(value, path))
        else:
            flat[path] = value
    return flat


def _presence(key: str, operator: Mapping[str, Any]) -> bool:
    """The value of a ``{ "$exists" = true/false }`` table."""
    others = sorted(str(name) for name in operator if name != EXISTS)
    if others:
        raise MatcherError(
            f"the table under {key!r} mixes {EXISTS!r} with {others[0]!r}: write the condition on "
            f"'{key}.{others[0]}' as its own key"
        )
    value = operator[EXISTS]
    if not isinstance(value, bool):
        raise MatcherError(f"{EXISTS!r} under {key!r} takes true or false, got {value!r}")
    return value


def _table_alternative(spec: Mapping[str, Any]) -> tuple[tuple[Condition, ...], str]:
    """The conditions of one matcher table, and how to show them."""
    flat = flatten_conditions(spec)
    if not flat:
        raise MatcherError("a matcher table needs at least one field = value condition")
    conditions: list[Condition] = []
    shown: list[str] = []
    for key, value in flat.items():
        last = key.rpartition(".")[2]
        if last == EXISTS:
            raise MatcherError(
                f'{EXISTS!r} tests the field it is written under: write {{ "data.field" = {{ "{EXISTS}" = true }} }}'
            )
        if last.startswith("$") and suggest(last, (EXISTS,)):
            raise MatcherError(f"{last!r} in {key!r} is not an operator; did you mean {EXISTS!r}?")
        try:
            path = parse_path(key)
        except PathSyntaxError as exc:
            raise MatcherError(str(exc)) from None
        if isinstance(value, Mapping):
            present = _presence(key, value)
            conditions.append(Condition(path, (), present))
            shown.append(f"{key} {'exists' if present else 'absent'}")
            continue
        values = tuple(value) if isinstance(value, list) else (value,)
        if not values or not all(_scalar(v) for v in values):
            raise MatcherError(f"the condition on {key!r} must be a value or a list of values, not a table")
        conditions.append(_condition(path, values))
        shown.append(f"{key}={json.dumps(value)}")
    return tuple(conditions), "{" + ", ".join(shown) + "}"


def parse_matcher(spec: Any, type_path: FieldPath) -> Matcher:
    """A matcher from configuration: a name, a table of path -> value(s), or a list of either (any of them).

    A list of names compares each with the type field; a list that holds tables is an
    OR of its items, each a name or a table. In a table, every condition must hold; a
    condition's value is a value, a list of values (any of them), or ``{ "$exists" =
    true }`` (the field is there, whatever its value) or ``false`` (it is not).

    Raises:
        MatcherError: an empty name, list or table, a value that is not a scalar, a bad path.
    """
    if isinstance(spec, str):
        if not spec:
            raise MatcherError("an event name must not be empty")
        return Matcher(alternatives=((_condition(type_path, (spec,)),),), text=spec)
    if isinstance(spec, list):
        if not spec:
            raise MatcherError("a list matcher must list one or more event names or tables of conditions")
        if all(isinstance(name, str) for name in spec):
            if not all(spec):
                raise MatcherError("a list matcher must list one or more non-empty event names")
            return Matcher(alternatives=((_condition(type_path, tuple(spec)),),), text=" | ".join(spec))
        alternatives: list[tuple[Condition, ...]] = []
        shown: list[str] = []
        for index, item in enumerate(spec):
            if isinstance(item, str) and item:
                alternatives.append((_condition(type_path, (item,)),))
                shown.append(item)
            elif isinstance(item, Mapping):
                conditions, text = _table_alternative(item)
                alternatives.append(conditions)
                shown.append(text)
            else:
                raise MatcherError(
                    f"item {index} of the list is {_kind(item)}: each item is an event name or a table of conditions"
                )
        return Matcher(alternatives=tuple(alternatives), text=" or ".join(shown))
    if isinstance(spec, Mapping):
        conditions, text = _table_alternative(spec)
        return Matcher(alternatives=(conditions,), text=text)
    raise MatcherError(
        f"expected an event name, a list of names or tables, or a table of conditions, got {type(spec).__name__}"
    )


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "an empty name"
    return {bool: "a boolean", int: "an integer", float: "a number", list: "a list"}.get(type(value), "a value")


class Kind(enum.StrEnum):
    """What one event of a frame turned out to be."""

    EVENT = "event"
    """It matched one of the expected events."""
    ERROR = "error"
    """It matched an error terminal: the run failed."""
    IGNORED = "ignored"
    """It matched `ignore` (heartbeats, token deltas): counted, not judged."""
    UNEXPECTED = "unexpected"
    """It has a type but matched nothing: shown as evidence, not failed."""
    UNTYPED = "untyped"
    """A JSON object that matched nothing and has no type field."""
    NOT_JSON = "not_json"
    BINARY = "binary"


@dataclass(frozen=True, slots=True)
class Item:
    """One event read from a frame (a batched frame gives several).

    Attributes:
        kind: what it is.
        role: the expected event it matched (for `Kind.EVENT`), else None.
        type: its type field, when it has a string one.
        run_id: the run it names, when it does (the item's own field, else its envelope's).
        message: the decoded JSON (None for binary or non-JSON frames).
        envelope: the whole frame's JSON when the item came out of a batch.
    """

    kind: Kind
    role: str | None = None
    type: str | None = None
    run_id: str | None = None
    message: Any = None
    envelope: Any = None

    @property
    def label(self) -> str:
        """How the timeline names it: the role, else the raw type, else the kind."""
        return self.role or self.type or self.kind.value


@dataclass(frozen=True, slots=True)
class Protocol:
    """Everything needed to read a backend's frames, built once from the probe settings.

    Attributes:
        events: the expected events in order; the names are the roles of the report.
        matchers: one matcher per expected event, in the same order.
        terminal: the event that ends a healthy run.
        type_path, run_id_path, timestamp_path: where those fields live in an event.
        batch_path: where a frame keeps a list of events, if it can carry several.
        ignore: frames counted but never judged.
        errors: frames that end the run as a failure.
        correlation: ``client``, ``server`` or ``connection``.
        run_id_from: in ``server`` mode, the frames the run id is captured from.
        tool_call_id_path: when set, tool calls are paired by this field (start, end, result).
        tool_call_id_paths: where the id is in the frames of one event (or of `tool_call_end`),
            when it differs by event; it wins over `tool_call_id_path`.
        tool_call_end: the frame that closes a tool call's arguments (AG-UI's TOOL_CALL_END).
        strict_lifecycle: the first frame of the run must be the first event, and it
            must come once (AG-UI's lifecycle rules).
    """

    events: tuple[str, ...]
    matchers: tuple[Matcher, ...]
    terminal: str
    type_path: FieldPath = field(default_factory=lambda: parse_path("type"))
    run_id_path: FieldPath = field(default_factory=lambda: parse_path("run_id"))
    timestamp_path: FieldPath = field(default_factory=lambda: parse_path("timestamp"))
    batch_path: FieldPath | None = None
    ignore: tuple[Matcher, ...] = ()
    errors: tuple[Matcher, ...] = ()
    correlation: str = "client"
    run_id_from: Matcher | None = None
    tool_call_id_path: FieldPath | None = None
    tool_call_id_paths: tuple[tuple[str, FieldPath], ...] = ()
    tool_call_end: Matcher | None = None
    strict_lifecycle: bool = False
    by_type: dict[str, tuple[Kind, str | None]] | None = field(default=None, init=False, repr=False, compare=False)
    """When every matcher names types only (the common case): type → (kind, role), so classifying a frame is one
    lookup instead of a walk through every matcher; None when some matcher needs the walk."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_type", self._table_by_type())

    def _table_by_type(self) -> dict[str, tuple[Kind, str | None]] | None:
        table: dict[str, tuple[Kind, str | None]] = {}
        groups: list[tuple[Kind, str | None, Matcher]] = [
            *((Kind.ERROR, None, m) for m in self.errors),
            *((Kind.EVENT, name, m) for name, m in zip(self.events, self.matchers, strict=True)),
            *((Kind.IGNORED, None, m) for m in self.ignore),
        ]
        for kind, role, matcher in groups:
            if len(matcher.alternatives) != 1 or len(matcher.alternatives[0]) != 1:
                return None
            ((condition,),) = matcher.alternatives
            path, values, present, _ = condition
            if path != self.type_path or present is not None or not all(isinstance(value, str) for value in values):
                return None
            for value in values:
                table.setdefault(str(value), (kind, role))  # the first matcher that accepts a type wins, as in the walk
        return table

    @classmethod
    def by_names(cls, events: Sequence[str], terminal: str | None = None, **fields: Any) -> Protocol:
        """A protocol whose events are matched by their names on the type field (the reference backend's)."""
        type_path = fields.get("type_path") or parse_path("type")
        return cls(
            events=tuple(events),
            matchers=tuple(parse_matcher(name, type_path) for name in events),
            terminal=terminal or events[-1],
            **fields,
        )

    def classify(self, message: Any, envelope: Any = None) -> Item:
        """What one decoded event is: error terminal first, then the expected events, then ignored."""
        raw_type = self.type_path.read(message)
        type_text = raw_type if isinstance(raw_type, str) and raw_type else None
        run_id = _run_id(self.run_id_path.read(message))
        if run_id is None and envelope is not None:
            run_id = _run_id(self.run_id_path.read(envelope))
        # Positional: classify runs for every item of every frame of every run a load test makes.
        if self.by_type is not None:
            if isinstance(raw_type, str) and raw_type in self.by_type:
                kind, role = self.by_type[raw_type]
                return Item(kind, role, type_text, run_id, message, envelope)
            return Item(Kind.UNEXPECTED if type_text else Kind.UNTYPED, None, type_text, run_id, message, envelope)
        if any(m.matches(message) for m in self.errors):
            return Item(Kind.ERROR, None, type_text, run_id, message, envelope)
        for name, matcher in zip(self.events, self.matchers, strict=True):
            if matcher.matches(message):
                return Item(Kind.EVENT, name, type_text, run_id, message, envelope)
        if any(m.matches(message) for m in self.ignore):
            return Item(Kind.IGNORED, None, type_text, run_id, message, envelope)
        return Item(Kind.UNEXPECTED if type_text else Kind.UNTYPED, None, type_text, run_id, message, envelope)

    def timestamp(self, item: Item) -> Any:
        """The item's own timestamp field, else its envelope's (`ABSENT` when neither has one)."""
        value = self.timestamp_path.read(item.message)
        if value is ABSENT and item.envelope is not None:
            value = self.timestamp_path.read(item.envelope)
        return value

    def matcher_of(self, role: str) -> Matcher:
        return self.matchers[self.events.index(role)]

    @property
    def pairs_tool_calls(self) -> bool:
        """Whether the frames say which tool call they belong to (`tool_call_id_field` is configured)."""
        return self.tool_call_id_path is not None or bool(self.tool_call_id_paths)

    def tool_call_id(self, item: Item) -> str | None:
        """The id of the tool call `item` belongs to, as text; None when it carries none (or ids are not configured).

        Read at the path of the item's event (``tool_call_id_field.tool_completed``), of
        `tool_call_end` for the frame that closes a call's arguments, else at the one path
        every frame uses. An id is a string or an integer; anything else is no id.
        """
        path = self.tool_call_id_path
        if self.tool_call_id_paths:
            by_event, ending = dict(self.tool_call_id_paths), self.tool_call_end
            if item.role is not None and item.role in by_event:
                path = by_event[item.role]
            elif TOOL_CALL_END in by_event and ending is not None and ending.matches(item.message):
                path = by_event[TOOL_CALL_END]
        if path is None:
            return None
        value = path.read(item.message)
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None
        return str(value)


def _run_id(value: Any) -> str | None:
    if value is ABSENT or value is None or isinstance(value, dict | list):
        return None
    return str(value)


EVENT_NAME = "@event"
"""The field under which a message's transport-level name (an SSE ``event:``) is readable: ``{"@event" = "end"}``."""

EVENT_DATA = "@data"
"""Where a named message's data is when it is not a JSON object (text, a list, a number)."""


def decode_frame(protocol: Protocol, data: str | bytes, name: str | None = None) -> list[Item]:
    """The events one frame (a WebSocket message, an SSE event, an NDJSON line) carries, classified.

    With a `batch_path`, a frame can carry several events: an object whose
    `batch_path` holds a list (its other fields, such as a run id or a timestamp, are
    the envelope of each event), or a top-level JSON array.  An empty batch yields
    nothing.  Without one, every frame is one event.  A frame with a transport-level `name`
    (an SSE event's) carries it under `EVENT_NAME`.
    """
    if isinstance(data, bytes):
        return [Item(Kind.BINARY)]
    try:
        message = boundedjson.loads(data)
    except ValueError:  # not JSON, or nested deeper than any protocol (boundedjson.TooDeep)
        if name is None:
            return [Item(Kind.NOT_JSON)]
        message = {EVENT_NAME: name, EVENT_DATA: data}  # a named event of plain text ("event: end", "data: [DONE]")
    else:
        if name is not None:
            # The transport's name for the message (an SSE event's name) is a field matchers can test.
            message = (
                {**message, EVENT_NAME: name} if isinstance(message, dict) else {EVENT_NAME: name, EVENT_DATA: message}
            )
    if protocol.batch_path is not None:
        if isinstance(message, list):
            return [protocol.classify(entry, envelope=None) for entry in message]
        batch = protocol.batch_path.read(message)
        if isinstance(batch, list):
            return [protocol.classify(entry, envelope=message) for entry in batch]
    return [protocol.classify(message)]


def render_trigger(template: Any, values: Mapping[str, str]) -> Any:
    """Fill ``{run_id}``-style placeholders in every string of a parsed JSON template.

    Substituting after parsing, not in the text, means a value can never break the
    JSON or inject fields.
    """
    if isinstance(template, str):
        result = template
        for key, value in values.items():
            result = result.replace("{" + key + "}", value)
        return result
    if isinstance(template, list):
        return [render_trigger(item, values) for item in template]
    if isinstance(template, dict):
        return {key: render_trigger(value, values) for key, value in template.items()}
    return template


# -- presets ---------------------------------------------------------------------------------------

_AG_UI_TYPES = (
    # The event types of ag-ui-protocol 1.0 (`ag_ui.core.EventType`), plus the THINKING_* names of 0.x.
    "TEXT_MESSAGE_START",
    "TEXT_MESSAGE_CONTENT",
    "TEXT_MESSAGE_END",
    "TEXT_MESSAGE_CHUNK",
    "TOOL_CALL_START",
    "TOOL_CALL_ARGS",
    "TOOL_CALL_END",
    "TOOL_CALL_CHUNK",
    "TOOL_CALL_RESULT",
    "REASONING_START",
    "REASONING_MESSAGE_START",
    "REASONING_MESSAGE_CONTENT",
    "REASONING_MESSAGE_END",
    "REASONING_MESSAGE_CHUNK",
    "REASONING_END",
    "REASONING_ENCRYPTED_VALUE",
    "THINKING_START",
    "THINKING_END",
    "THINKING_TEXT_MESSAGE_START",
    "THINKING_TEXT_MESSAGE_CONTENT",
    "THINKING_TEXT_MESSAGE_END",
    "STATE_SNAPSHOT",
    "STATE_DELTA",
    "MESSAGES_SNAPSHOT",
    "ACTIVITY_SNAPSHOT",
    "ACTIVITY_DELTA",
    "RAW",
    "CUSTOM",
    "STEP_STARTED",
    "STEP_FINISHED",
)
_AG_UI_THINKING = ("REASONING_START", "THINKING_START", "TEXT_MESSAGE_START")

PRESETS: dict[str, dict[str, Any]] = {
    "wiringcheck": {
        "events": ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"],
        "type_field": "type",
        "run_id_field": "run_id",
        "timestamp_field": "timestamp",
        "run_id": "client",
    },
    "ag-ui": {
        "transport": "sse",
        "method": "POST",
        "events": ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"],
        "match": {
            "agent_started": "RUN_STARTED",
            "agent_thinking": list(_AG_UI_THINKING),
            "tool_executing": "TOOL_CALL_START",
            "tool_completed": "TOOL_CALL_RESULT",
            "agent_completed": "RUN_FINISHED",
        },
        "type_field": "type",
        "run_id_field": "runId",
        "timestamp_field": "timestamp",
        "run_id": "client",
        "ignore": [t for t in _AG_UI_TYPES if t not in (*_AG_UI_THINKING, "TOOL_CALL_START", "TOOL_CALL_RESULT")],
        "error_events": ["RUN_ERROR"],
        "tool_call_id_field": "toolCallId",
        "tool_call_end": "TOOL_CALL_END",
        "strict_lifecycle": True,
        "trigger": {
            "threadId": "{thread_id}",
            "runId": "{run_id}",
            "state": {},
            "messages": [{"id": "wc-message-1", "role": "user", "content": "hello"}],
            "tools": [],
            "context": [],
            "forwardedProps": {},
        },
    },
    "adk": {
        "transport": "sse",
        "path": "/run_sse",
        "method": "POST",
        "setup": [
            {
                "method": "GET",
                "path": "/list-apps",
                "expect_status": 200,
                "capture": {"app": {"path": "0", "public": True}},
            },
            {
                "method": "POST",
                "path": "/apps/{app}/users/{user_id}/sessions",
                "json": {},
                "capture": {"session_id": {"path": "id", "public": True}},
            },
        ],
        "trigger": {
            "app_name": "{app}",
            "user_id": "{user_id}",
            "session_id": "{session_id}",
            "new_message": {"role": "user", "parts": [{"text": "hello"}]},
            "streaming": False,
        },
        "events": ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"],
        "started_by": "response",
        "completed_by": "end_of_stream",
        "batch_field": "content.parts",
        "match": {
            "agent_thinking": [{"thought": True}, {"text": {EXISTS: True}}],
            "tool_executing": {"functionCall": {EXISTS: True}},
            "tool_completed": {"functionResponse": {EXISTS: True}},
        },
        "ignore": [{WILDCARD: {EXISTS: True}}],
        "error_events": [{"errorCode": {EXISTS: True}}, {"error": {EXISTS: True}}],
        "run_id": "server",
        "run_id_field": "invocationId",
        "run_id_from": {WILDCARD: {EXISTS: True}},
        "timestamp_field": "timestamp",
        "tool_call_id_field": {"tool_executing": "functionCall.id", "tool_completed": "functionResponse.id"},
        "warmup": 1,
    },
    "langgraph": {
        "transport": "sse",
        "path": "/threads/{thread_id}/runs/stream",
        "method": "POST",
        "setup": [
            {
                "method": "POST",
                "path": "/threads",
                "json": {},
                "capture": {"thread_id": {"path": "thread_id", "public": True}},
            }
        ],
        "trigger": {
            "assistant_id": "agent",
            "input": {"messages": [{"role": "user", "content": "hello"}]},
            "stream_mode": ["updates", "messages-tuple"],
        },
        "events": ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"],
        "type_field": EVENT_NAME,
        "match": {
            "agent_started": {EVENT_NAME: "metadata"},
            "agent_thinking": {EVENT_NAME: "messages", f"{EVENT_DATA}.0.type": ["AIMessageChunk", "ai"]},
            "tool_executing": {EVENT_NAME: "updates", "*.messages.*.tool_calls.*.id": {EXISTS: True}},
            "tool_completed": {EVENT_NAME: "updates", "*.messages.*.type": "tool"},
            "agent_completed": {EVENT_NAME: "end"},
        },
        "completed_by": "end_of_stream",
        "ignore": [{EVENT_NAME: {EXISTS: True}}],
        "error_events": [{EVENT_NAME: "error"}],
        "run_id": "server",
        "run_id_field": "run_id",
    },
}
"""Known protocols as plain `[probe]` tables; `preset = "ag-ui"` merges one under the user's keys.

``ag-ui`` maps AG-UI's events (ag-ui-protocol 1.0) onto the five roles: RUN_STARTED ->
agent_started; REASONING_START, THINKING_START (0.x) or TEXT_MESSAGE_START ->
agent_thinking; TOOL_CALL_START -> tool_executing; TOOL_CALL_RESULT -> tool_completed;
RUN_FINISHED -> agent_completed; RUN_ERROR (which carries no run id) is the error
terminal; every other AG-UI event is ignored.  Its lifecycle rules are those of
ag-ui-validate: the first event is RUN_STARTED, once; nothing follows the terminal;
tool calls open and close in pairs under a unique toolCallId.  It POSTs a RunAgentInput
to `path` and reads Server-Sent Events (``transport = "websocket"`` sends it on a socket).

``adk`` is Google ADK's API server (``adk api_server``, ``get_fast_api_app``): a session
created over REST (the first app ``/list-apps`` names), the run POSTed to ``/run_sse``.
ADK sends no start and no terminal: the response starts the run and the end of its body
completes it.  An ADK event's kind is in its ``content.parts``, and one event can carry
several (a thought, then a ``functionCall``), so each part is read as one event, the ADK
event its envelope (``invocationId``, ``timestamp``): a ``thought`` or ``text`` part ->
agent_thinking; ``functionCall`` -> tool_executing; ``functionResponse`` ->
tool_completed, paired by ``functionCall.id`` and ``functionResponse.id``; an
``errorCode`` event, or the ``error`` frame ADK sends when a run raises, is the error
terminal.  One warm-up run goes first: ADK's first run after boot imports lazily.

``langgraph`` is LangGraph's run stream (``POST /threads/{thread_id}/runs/stream``, a
thread created over REST, ``stream_mode`` updates and messages-tuple): ``event: metadata``
(which names the run) -> agent_started; a ``messages`` event carrying an AI message chunk
-> agent_thinking; an ``updates`` event whose messages call tools -> tool_executing, one
with a tool message -> tool_completed; ``event: end`` (or the end of the body, which is
all the in-memory server sends) -> agent_completed; ``event: error`` is the error terminal.
"""
