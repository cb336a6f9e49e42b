"""Configuration: read `[tool.wiringcheck]` (or a `wiringcheck.toml`) into frozen `Settings`.

Everything that differs between backends (where startup stores its objects, what
they must look like, how a run is started, what the events are called) lives
here, never in code.  Validation is strict and total: every problem becomes a
`ConfigError` naming the file, the key path and what to do, never a traceback,
and no configuration text is ever evaluated as Python.
"""

from __future__ import annotations

import enum
import functools
import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

from wiringcheck.boundedjson import MAX_DEPTH, loads, value_depth
from wiringcheck.contract import parse_member
from wiringcheck.errors import (
    ConfigError,
    ContractSyntaxError,
    MatcherError,
    PathSyntaxError,
    ThresholdError,
    UsageError,
    WireSyntaxError,
)
from wiringcheck.protocol import (
    CORRELATIONS,
    EVENT_NAME,
    PRESETS,
    TOOL_CALL_END,
    Protocol,
    json_equal,
    parse_matcher,
    parse_path,
)
from wiringcheck.run.recording import DEFAULT_BUDGET_MS, DEFAULT_EVENTS
from wiringcheck.suggest import suggest
from wiringcheck.thresholds import parse_thresholds
from wiringcheck.wires import parse_wire

__all__ = [
    "COUNTS",
    "DEFAULT_EVENTS",
    "LIMITS",
    "MAX_USERS",
    "TABLES",
    "Auth",
    "ConfigError",
    "EmitCall",
    "EmitKind",
    "Isolation",
    "Key",
    "LoadSettings",
    "ProbeSettings",
    "RoleSpec",
    "Scenario",
    "Settings",
    "SetupStep",
    "Table",
    "TargetKind",
    "UserIdentity",
    "ValueType",
    "check_count",
    "check_number",
    "check_ws_url",
    "find_config",
    "load_settings",
    "parse_settings",
    "split_tokens",
    "user_identity",
]


class TargetKind(enum.StrEnum):
    """How wiringcheck gets the backend: boot an ASGI app, enter a boot function, or connect to a URL."""

    APP = "app"
    BOOT = "boot"
    URL = "url"
    NONE = "none"


_IMPORT_REF = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_PATH = re.compile(r"^([A-Za-z_]\w*(\.[A-Za-z_]\w*)*:)?[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_WS_URL = re.compile(r"^(wss?|https?)://[^\s/]+(/\S*)?$")


AUTH_METHODS = ("query", "header", "subprotocol", "first_message", "cookie")

TRANSPORTS = ("websocket", "sse", "ndjson", "socketio")
"""How a run's events can come; `probe.transport` names one."""

HTTP_TRANSPORTS = ("sse", "ndjson")
"""Transports that are one HTTP request whose streamed response carries the events."""

STARTED_BY = ("response", "first_frame")
COMPLETED_BY = ("end_of_stream",)
"""The ways the probe can present its token, each named by the key that selects it."""


@dataclass(frozen=True, slots=True)
class Auth:
    """How the probe authenticates; one of the five `AUTH_METHODS`.

    The token comes from the environment variable `token_env`; `token` is a fallback for
    non-secret development tokens (the reference backend's `dev-token`).

    Attributes:
        query: the query parameter that carries the token.
        header: the header that carries it; `scheme` is put before the token when given,
            and by default (``Bearer``) only for ``Authorization`` and ``Proxy-Authorization``.
        subprotocol: a `Sec-WebSocket-Protocol` template, ``jwt.{token_b64url}`` or ``{token}``.
        first_message: a JSON template sent right after connecting, before the trigger.
        ack: a matcher for the server's answer to `first_message`, awaited before the trigger.
        cookie: the cookie that carries the token.
    """

    query: str | None = None
    header: str | None = None
    scheme: str | None = None
    token_env: str | None = None
    token: str | None = None
    subprotocol: str | None = None
    first_message: Any = None
    ack: Any = None
    cookie: str | None = None

    @property
    def method(self) -> str | None:
        """Which of the `AUTH_METHODS` is configured, if any."""
        for name in AUTH_METHODS:
            if getattr(self, name) is not None:
                return name
        return None

    @property
    def enabled(self) -> bool:
        return self.method is not None

    @property
    def carries_no_token(self) -> bool:
        """A first message that names no token: a hello or a session payload sent as it is (Chainlit's socket.io
        auth is a session id and a client type), with no credential to configure."""
        if self.first_message is None or self.token_env or self.token is not None:
            return False
        return "{token" not in json.dumps(self.first_message)

    def header_value(self, token: str) -> str:
        """The header's value: the token, after the scheme when the header takes one."""
        scheme = self.scheme
        if scheme is None:
            scheme = "Bearer" if (self.header or "").lower() in ("authorization", "proxy-authorization") else ""
        return f"{scheme} {token}" if scheme else token

    def resolve(self, environ: Mapping[str, str]) -> str | None:
        """The token to send: the environment variable wins over the fallback."""
        if self.token_env and environ.get(self.token_env):
            return environ[self.token_env]
        return self.token


@dataclass(frozen=True, slots=True)
class SetupStep:
    """One HTTP request made before connecting, afresh for every run.

    Attributes:
        method: the HTTP method.
        path: a path on the backend's HTTP base URL (``/api/runs``), or
        url: a full URL; both may use placeholders.
        json: a JSON body template (placeholders filled in every string).
        headers: header templates.
        auth: how to send the token, as a query parameter, a header or a cookie.
        expect_status: the statuses that mean success.
        capture: placeholder name -> field path into the JSON response.
        public: the captures declared public (ids a user wants to see); every other captured value is a
            credential the server issued, scrubbed from every output whatever its name.
        timeout: seconds the request may take.
    """

    method: str = "POST"
    path: str | None = None
    url: str | None = None
    json: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    auth: Auth = Auth()
    expect_status: tuple[int, ...] = (200, 201)
    capture: tuple[tuple[str, str], ...] = ()
    public: tuple[str, ...] = ()
    timeout: float = 5.0

    @property
    def target(self) -> str:
        return f"{self.method} {self.url or self.path}"


@dataclass(frozen=True, slots=True)
class EmitKind:
    """Which calls of a method shared by several events emit one of them: the argument that carries the
    event's kind (a parameter name, or a position from 0 after ``self``), and the values it takes for it."""

    argument: str | int
    values: tuple[str | int | float | bool, ...]

    def accepts(self, value: Any) -> bool:
        """Whether a call whose kind argument is `value` emits the event: JSON equality (true is not 1),
        an enum member by its value or its name."""
        candidates = (value.value, value.name) if isinstance(value, enum.Enum) else (value,)
        return any(json_equal(candidate, expected) for candidate in candidates for expected in self.values)


@dataclass(frozen=True, slots=True)
class EmitCall:
    """The backend call that emits one event: ``role.method``, and for a shared method, its `kind`."""

    event: str
    method: str
    kind: EmitKind | None = None


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """What the probe sends, what it expects back, and how fast."""

    trigger: Any = field(
        default_factory=lambda: {
            "type": "user_message",
            "run_id": "{run_id}",
            "thread_id": "{thread_id}",
            "payload": {"text": "hello"},
        }
    )
    auth: Auth = Auth()
    events: tuple[str, ...] = DEFAULT_EVENTS
    terminal: str = DEFAULT_EVENTS[-1]
    type_field: str = "type"
    run_id_field: str = "run_id"
    timestamp_field: str = "timestamp"
    budget_ms: float = DEFAULT_BUDGET_MS
    deadline: float = 5.0
    connect_timeout: float = 5.0
    linger_ms: float = 50.0
    user_id: str = "wiringcheck-probe"
    percentile: str = "max"
    match: tuple[tuple[str, Any], ...] = ()
    ignore: tuple[Any, ...] = ()
    error_events: tuple[Any, ...] = ()
    batch_field: str | None = None
    run_id: str = "client"
    run_id_from: Any = None
    tool_call_id_field: str | None = None
    """The path of a tool call's id in every frame (also written ``tool_id_field``, its old name)."""
    tool_call_id_paths: tuple[tuple[str, str], ...] = ()
    """(event, path): where the id is when it differs by event (``tool_call_id_field`` as a table)."""
    tool_call_end: Any = None
    strict_lifecycle: bool = False
    setup: tuple[SetupStep, ...] = ()
    http_url: str | None = None
    preset: str | None = None
    gap_ms: float | bool = True
    """The gap bound: a number of milliseconds, True for the budget (the default), False for none."""
    once: tuple[str, ...] | None = None
    tool_pairs: tuple[tuple[str, str], ...] | None = None
    assume_synced_clocks: bool = False
    emit: tuple[tuple[str, str], ...] = ()
    """(event, "role.method"): the backend method whose call emits each event, for emission latency."""
    transport: str = "websocket"
    """How the run's events come: ``websocket``, ``sse`` (text/event-stream), ``ndjson`` or ``socketio``."""
    path: str | None = None
    """The HTTP route the trigger goes to (HTTP transports); a WebSocket connects to the top-level ws_path."""
    method: str = "POST"
    """The HTTP method of the run's request (HTTP transports): POST with the trigger as its body, or GET."""
    headers: tuple[tuple[str, str], ...] = ()
    """Headers of the run's request; values may use {token} and the placeholders, captures included."""
    started_by: str | None = None
    """``response`` or ``first_frame``: the run's first event is implied (a server that sends no start event)."""
    completed_by: str | None = None
    """``end_of_stream``: the clean end of the response completes the run (a server that sends no terminal)."""
    warmup: int = 0
    """Unjudged runs made once, before the first judged one (a server whose first run pays for lazy imports)."""
    emit_kinds: tuple[tuple[str, EmitKind], ...] = ()
    """(event, kind): for a method that emits several events, which of its calls emits this one."""
    trigger_file: Path | None = None
    """Where the trigger was read from, when `trigger_file` gave it (the trigger itself is in `trigger`)."""
    trigger_event: str = "message"
    """socket.io: the event the trigger is emitted under (``message``: what a client's ``send()`` emits)."""
    namespace: str = "/"
    """socket.io: the namespace the probe connects to."""

    @property
    def over_http(self) -> bool:
        """Whether the run's events come over HTTP (SSE or NDJSON), not a socket."""
        return self.transport in HTTP_TRANSPORTS

    @property
    def tool_id_field(self) -> str:
        """The path WC422 pairs tool calls by: `tool_call_id_field`, else ``tool_call_id`` (deprecated name).

        Kept while the run rules move to `Protocol.tool_call_id`, which also knows per-event paths.
        """
        return self.tool_call_id_field or "tool_call_id"

    @property
    def emit_calls(self) -> tuple[EmitCall, ...]:
        """The `emit` map as the tracer needs it: each event's method, and which of its calls emits the event."""
        kinds = dict(self.emit_kinds)
        return tuple(EmitCall(event, method, kinds.get(event)) for event, method in self.emit)

    @property
    def gap_bound(self) -> float | None:
        """The gap bound in milliseconds (the budget unless set), or None when gaps are not bounded."""
        if self.gap_ms is True:
            return self.budget_ms
        if self.gap_ms is False:
            return None
        return float(self.gap_ms)

    def protocol(self) -> Protocol:
        """The protocol model these settings describe (matchers, paths, correlation, terminals).

        Built afresh from the validated settings, so a copy with other events or fields
        (``replace(probe, events=...)``) describes itself; an event without a `match`
        entry is matched by its own name on the type field.
        """
        type_path = parse_path(self.type_field)
        given = dict(self.match)
        return Protocol(
            events=self.events,
            matchers=tuple(parse_matcher(given.get(name, name), type_path) for name in self.events),
            terminal=self.terminal,
            type_path=type_path,
            run_id_path=parse_path(self.run_id_field),
            timestamp_path=parse_path(self.timestamp_field),
            batch_path=parse_path(self.batch_field) if self.batch_field else None,
            ignore=tuple(parse_matcher(spec, type_path) for spec in self.ignore),
            errors=tuple(parse_matcher(spec, type_path) for spec in self.error_events),
            correlation=self.run_id,
            run_id_from=parse_matcher(self.run_id_from, type_path) if self.run_id_from is not None else None,
            tool_call_id_path=parse_path(self.tool_call_id_field) if self.tool_call_id_field else None,
            tool_call_id_paths=tuple((event, parse_path(path)) for event, path in self.tool_call_id_paths),
            tool_call_end=parse_matcher(self.tool_call_end, type_path) if self.tool_call_end is not None else None,
            strict_lifecycle=self.strict_lifecycle,
        )


@dataclass(frozen=True, slots=True)
class LoadSettings:
    """`wiringcheck load`: how many users, for how long, with which identities, and the pass/fail thresholds.

    Attributes:
        users: concurrent users.
        spawn_rate: users started per second (None: all of them within one second).
        duration: seconds the test lasts, ramp included (None: `runs` per user instead).
        runs: runs per user, when `duration` is not set.
        workers: client processes (None: one per CPU).
        user_id: each user's id, ``{n}`` replaced by its number from 1 (the trigger's ``{user_id}``).
        user_ids: each user's id, literally (user 1 first); wins over `user_id`.
        token: each user's token, ``{n}`` replaced by its number (non-secret test tokens).
        tokens: each user's token, literally (non-secret test tokens, user 1 first).
        tokens_env: one environment variable holding every user's token (separated by commas or
            whitespace), or a tuple of variables, one per user.
        thresholds: ``"agent_thinking.p95 < 100"``-style conditions the test must meet; empty means the
            default (every event's p99 within the budget).

    Which user id and token user n gets is `user_identity`'s decision.
    """

    users: int = 10
    spawn_rate: float | None = None
    duration: float | None = None
    runs: int | None = None
    workers: int | None = None
    user_id: str = "wc-load-user-{n}"
    user_ids: tuple[str, ...] = ()
    token: str | None = None
    tokens: tuple[str, ...] = ()
    tokens_env: str | tuple[str, ...] = ()
    thresholds: tuple[str, ...] = ()

    @property
    def per_user_identity(self) -> bool:
        """Whether each user presents its own token (so another user's frame is cross-talk)."""
        return bool(self.tokens_env or self.tokens or (self.token and "{n}" in self.token))


@dataclass(frozen=True, slots=True)
class Isolation:
    """K users connected at once, each starting its own run: no frame may reach another user.

    User ``n`` (1..K) is ``user_ids[n-1]``, else ``{probe.user_id}-{n}``, in the trigger's
    ``{user_id}``; its token is chosen as `user_identity` says (the environment, the
    literal `tokens`, the `token` template, else the probe's own token).
    """

    enabled: bool = False
    users: int = 2
    tokens_env: str | tuple[str, ...] = ()
    token: str | None = None
    tokens: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UserIdentity:
    """Who one simulated user is: the ``{user_id}`` its trigger carries, and the token it sends."""

    user_id: str
    token: str | None


_SPLIT_TOKENS = re.compile(r"[,\s]+")


@functools.lru_cache(maxsize=8)
def split_tokens(value: str) -> tuple[str, ...]:
    """The tokens one environment variable holds for several users: separated by commas or whitespace."""
    return tuple(token for token in _SPLIT_TOKENS.split(value) if token)


def user_identity(
    users: Isolation | LoadSettings,
    number: int,
    probe: ProbeSettings,
    environ: Mapping[str, str],
    *,
    count: int | None = None,
) -> UserIdentity:
    """The user id and token of user `number` (from 1) of `[isolation]` or `[load]`.

    The user id is ``user_ids[number-1]``, else the template (``[load] user_id``, or
    ``{probe.user_id}-{n}`` for isolation) with ``{n}`` replaced. The token is the first of:
    the user's environment token (``tokens_env``: the n-th variable of a list, or the n-th
    token of one variable), ``tokens[number-1]``, the `token` template with ``{n}``
    replaced, and, only when none of these is configured, the probe's own token (None
    when the probe sends none). `count` is how many users there are, for the messages.

    Raises:
        UsageError: a per-user list or variable has no value for this user, and nothing after it does.
    """
    table = "load" if isinstance(users, LoadSettings) else "isolation"
    count = max(count or number, number)
    if users.user_ids:
        if number > len(users.user_ids):
            raise UsageError(
                f"[{table}] user_ids lists {len(users.user_ids)} user id(s) for {count} users: give one per user"
            )
        user_id = users.user_ids[number - 1]
    else:
        template = users.user_id if isinstance(users, LoadSettings) else f"{probe.user_id}-{{n}}"
        user_id = template.replace("{n}", str(number))
    token = _environment_token(users, number, environ)
    if token is None and number <= len(users.tokens):
        token = users.tokens[number - 1]
    if token is None and users.token is not None:
        token = users.token.replace("{n}", str(number))
    if token is None:
        if users.tokens_env or users.tokens:
            raise UsageError(_missing_token(users, table, number, count, environ))
        token = probe.auth.resolve(environ) if probe.auth.enabled else None
    return UserIdentity(user_id=user_id, token=token)


def _environment_token(users: Isolation | LoadSettings, number: int, environ: Mapping[str, str]) -> str | None:
    if isinstance(users.tokens_env, str):
        tokens = split_tokens(environ.get(users.tokens_env, ""))
        return tokens[number - 1] if number <= len(tokens) else None
    if number <= len(users.tokens_env):
        return environ.get(users.tokens_env[number - 1]) or None
    return None


def _missing_token(
    users: Isolation | LoadSettings, table: str, number: int, count: int, environ: Mapping[str, str]
) -> str:
    """Why user `number` has no token, naming the variable or the list that ran short (never a token)."""
    if isinstance(users.tokens_env, str):
        held = len(split_tokens(environ.get(users.tokens_env, "")))
        return (
            f"the environment variable {users.tokens_env} (named by [{table}] tokens_env) holds {held} "
            f"token(s) for {count} users; give one per user, separated by commas"
        )
    if number <= len(users.tokens_env):
        return (
            f"user {number} has no token: the environment variable {users.tokens_env[number - 1]} "
            f"(named by [{table}] tokens_env) is unset or empty"
        )
    if users.tokens_env:
        return f"[{table}] tokens_env names {len(users.tokens_env)} variable(s) for {count} users: one per user"
    return f"[{table}] tokens lists {len(users.tokens)} token(s) for {count} users: give one per user"


@dataclass(frozen=True, slots=True)
class Scenario:
    """One more run per check, with its own trigger and expectation (a failing tool, a cancellation).

    Its `probe` is the `[probe]` table with the scenario's keys laid over it.
    """

    name: str
    probe: ProbeSettings


@dataclass(frozen=True, slots=True)
class RoleSpec:
    """An object startup built, where to find it, and the members it must have."""

    name: str
    path: str
    class_ref: str | None = None
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated configuration of one backend."""

    source: Path | None = None
    root: Path = Path()
    app: str | None = None
    factory: bool | None = None
    boot: str | None = None
    url: str | None = None
    ws_path: str = "/ws"
    ws_url: str | None = None
    pythonpath: tuple[Path, ...] = ()
    startup_timeout: float = 10.0
    shutdown_timeout: float = 5.0
    trace: bool = True
    roles: dict[str, RoleSpec] = field(default_factory=dict)
    wires: tuple[str, ...] = ()
    must_call: tuple[str, ...] = ()
    probe: ProbeSettings = ProbeSettings()
    load: LoadSettings = LoadSettings()
    isolation: Isolation = Isolation()
    scenarios: tuple[Scenario, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    """`[env]`: variables set for the in-process backend's life (``{config_dir}`` already filled in;
    ``{tmp}`` is filled in where the backend boots, `lifecycle.backend_environment`)."""

    @property
    def target_kind(self) -> TargetKind:
        if self.app:
            return TargetKind.APP
        if self.boot:
            return TargetKind.BOOT
        return TargetKind.URL if self.url else TargetKind.NONE

    @property
    def target(self) -> str:
        return self.app or self.boot or self.url or ""

    def with_target(self, *, app: str | None = None, boot: str | None = None, url: str | None = None) -> Settings:
        """A copy whose target is replaced (a CLI flag overrides the file's target entirely)."""
        if not (app or boot or url):
            return self
        # The URL given on the command line says how to reach the server, as one in the file does.
        probe = _url_transport(url, self.probe) if url else self.probe
        return replace(self, app=app, boot=boot, url=url, probe=probe)

    def with_probe(self, **changes: Any) -> Settings:
        return replace(self, probe=replace(self.probe, **changes))

    def credentials(self, environ: Mapping[str, str]) -> list[str | None]:
        """Every credential a run of these settings sends: its token (however sent), each isolation user's,
        its setup steps' tokens, the credentials in its URLs, and the `[env]` values whose names look secret;
        `secrets.Secrets` scrubs them from all output."""
        from wiringcheck.secrets import looks_secret, url_secrets

        values: list[str | None] = []
        auth = self.probe.auth
        if auth.enabled:
            values.append(auth.resolve(environ))
            values.extend(self._isolation_tokens(environ))
        for step in self.probe.setup:  # setup steps send their own credentials
            if step.auth.enabled:
                values.append(step.auth.resolve(environ))
        for url in (self.url, self.ws_url):
            values.extend(url_secrets(url))
        values.extend(value for name, value in self.env if looks_secret(name))
        return values

    def _isolation_tokens(self, environ: Mapping[str, str]) -> list[str | None]:
        """The tokens the isolation users send; a user without one is left out (the run refuses it)."""
        if not self.isolation.enabled:
            return []
        tokens: list[str | None] = []
        for number in range(1, self.isolation.users + 1):
            try:
                tokens.append(user_identity(self.isolation, number, self.probe, environ).token)
            except UsageError:
                continue
        return tokens


# -- numbers -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limit:
    """The values a numeric setting accepts: finite, above `low` (or at it, when `zero_ok`), at most `high`."""

    unit: str
    high: float
    zero_ok: bool = False

    def describe(self) -> str:
        lowest = "0 or more" if self.zero_ok else "greater than 0"
        return f"a finite number of {self.unit}, {lowest} and at most {self.high:g}"


LIMITS: dict[str, Limit] = {
    "startup_timeout": Limit("seconds", 3600),
    "shutdown_timeout": Limit("seconds", 3600),
    "deadline": Limit("seconds", 3600),
    "connect_timeout": Limit("seconds", 600),
    "budget_ms": Limit("milliseconds", 600_000),
    "linger_ms": Limit("milliseconds", 60_000, zero_ok=True),
    "spawn_rate": Limit("users per second", 100_000),
    "duration": Limit("seconds", 86_400),
    "grace": Limit("seconds", 3600, zero_ok=True),
    "timeout": Limit("seconds", 600),  # a setup step's request
    "gap_ms": Limit("milliseconds", 600_000),
}
"""Every numeric setting and its bounds: the same rules for the file, the flags, the environment and the marker.

The upper bounds are an hour of startup, shutdown or run, ten minutes to connect and
ten minutes of budget: past those, the number is a typo, and a gate waiting on it
looks like a hang.
"""


COUNTS: dict[str, int] = {
    "users": 100_000,
    "runs": 1_000_000,
    "workers": 1024,
}
"""Every whole-number setting of `wiringcheck load` and its largest value: the same for the file and the flags.

These are sanity bounds; what one machine can hold (its descriptor limit, its CPUs) is
checked when the test starts (`load.command`).
"""


def check_count(name: str, value: object) -> int:
    """`value` as the whole-number setting `name` accepts, from 1 to `COUNTS[name]`.

    Raises:
        ValueError: it is not a whole number, or outside the bounds; the message says what is accepted.
    """
    high = COUNTS[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number from 1 to {high:,}, got {value!r}")
    if not 1 <= value <= high:
        raise ValueError(f"must be a whole number from 1 to {high:,}, got {value:,}")
    return value


def check_number(name: str, value: object) -> float:
    """`value` as the float setting `name` accepts.

    Raises:
        ValueError: it is not a number, not finite, or outside `LIMITS[name]`; the message says what is accepted.
    """
    limit = LIMITS[name]
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"expected {limit.describe()}, got {value!r}") from None
    low_ok = number >= 0 if limit.zero_ok else number > 0
    if not (math.isfinite(number) and low_ok and number <= limit.high):
        raise ValueError(f"must be {limit.describe()}, got {value!r}")
    return number


def check_ws_url(url: str) -> str:
    """`url` when it is a usable ``ws://``, ``wss://`` (WebSocket) or ``http(s)://`` (an HTTP stream) URL.

    Raises:
        ValueError: it is not; the message says what is wrong with it.
    """
    from urllib.parse import urlsplit

    if not _WS_URL.match(url):
        raise ValueError(f"{url!r} is not of the form {_FORMS[_WS_URL]}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (parsing the port is what validates it)
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a valid URL: {exc}") from None
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host")
    host = parts.netloc.rpartition("@")[2]
    bracketed = re.fullmatch(r"\[([^\]]+)\](?::\d+)?", host)
    if host.startswith("["):
        import ipaddress

        try:
            ipaddress.IPv6Address(bracketed.group(1) if bracketed else "")
        except ValueError:
            raise ValueError(f"{url!r} is not a valid URL: {host!r} is not an IPv6 address and port") from None
    elif not re.fullmatch(r"[A-Za-z0-9._~%-]+(?::\d+)?", host):
        raise ValueError(f"{url!r} is not a valid URL: {host!r} is not a host name and port")
    return url


# -- loading -------------------------------------------------------------------------------------


def find_config(start: Path | None = None) -> Path | None:
    """The nearest `wiringcheck.toml`, or `pyproject.toml` with a `[tool.wiringcheck]` table."""
    directory = (start or Path.cwd()).resolve()
    for folder in (directory, *directory.parents):
        candidate = folder / "wiringcheck.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "[tool.wiringcheck" in pyproject.read_text(encoding="utf-8", errors="replace"):
            return pyproject
    return None


def load_settings(path: Path | None = None, *, start: Path | None = None) -> Settings:
    """Read and validate the configuration file at `path`, or the one found from `start`.

    Raises:
        ConfigError: the file is missing, is not TOML, or does not validate.
    """
    if path is None:
        path = find_config(start)
        if path is None:
            raise ConfigError(
                "no configuration found: add a [tool.wiringcheck] table to pyproject.toml "
                "(`wiringcheck init` writes a starter) or pass --config PATH"
            )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", source=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", source=path) from None
    document = _parse_toml(text, path)
    prefix = ""
    if path.name == "pyproject.toml":
        table = document.get("tool", {}).get("wiringcheck")
        if table is None:
            raise ConfigError("has no [tool.wiringcheck] table", source=path)
        prefix = "tool.wiringcheck"
    else:
        table = document
    return parse_settings(table, source=path, prefix=prefix)


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    """The TOML document, nested no deeper than `boundedjson.MAX_DEPTH` (tomllib recurses once per level)."""
    too_deep = f"nested deeper than {MAX_DEPTH} levels of arrays and tables; no setting needs that"
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=path) from None
    except RecursionError:
        raise ConfigError(too_deep, source=path) from None
    if value_depth(document) > MAX_DEPTH:  # dotted keys nest without recursing; what reads them recurses
        raise ConfigError(too_deep, source=path)
    return document


# -- the table of keys -----------------------------------------------------------------------------

_HTTP_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PERCENTILES = ("p50", "p95", "max")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")
_IDENTIFIER_SCHEMA = {"type": "string", "pattern": _IDENTIFIER.pattern}
MAX_USERS = 16
"""Concurrent users an isolation check connects at most (`wiringcheck load` is for more)."""


@dataclass(frozen=True, slots=True)
class ValueType:
    """The kind of value a key takes: a few words for people, and the JSON Schema editors check it with."""

    words: str
    schema: Mapping[str, Any]


_NO_DEFAULT: Any = object()


@dataclass(frozen=True, slots=True)
class Key:
    """One configuration key: its name, the value it takes, its default, and what it does (one line).

    Attributes:
        choices: the values it accepts, when they are a fixed few.
        required: the table it belongs to needs it.
        deprecated: the key that replaces it, when it is an old name.
    """

    name: str
    type: ValueType
    doc: str
    default: Any = _NO_DEFAULT
    choices: tuple[str, ...] = ()
    required: bool = False
    deprecated: str | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT


@dataclass(frozen=True, slots=True)
class Table:
    """A table of the configuration: its keys, and where it is written.

    Attributes:
        name: how the other tables refer to it (`table_type`), and the schema's ``$defs`` name.
        path: its key path from the top (``probe.auth``); ``<name>`` stands for a name the user picks.
        header: how a `wiringcheck.toml` opens it (``[probe]``, ``[[probe.setup]]``); empty for the top.
        values: for a table whose keys the user names (`[env]`), the type of every value.
        names: for such a table, the form of its keys.
        canonical: the table a key of it belongs to, for did-you-mean (False for a copy, such as a
            scenario's probe keys or a setup step's auth).
    """

    name: str
    path: str
    header: str
    doc: str
    keys: tuple[Key, ...] = ()
    values: ValueType | None = None
    names: re.Pattern[str] | None = None
    canonical: bool = True

    def key_names(self) -> list[str]:
        return [key.name for key in self.keys]


def _number(name: str) -> ValueType:
    limit = LIMITS[name]
    low = {"minimum": 0} if limit.zero_ok else {"exclusiveMinimum": 0}
    return ValueType(f"a number of {limit.unit}", {"type": "number", **low, "maximum": limit.high})


def table_type(name: str, *, array: bool = False) -> ValueType:
    """A key whose value is the table `name` (an array of them, written ``[[...]]``, when `array`)."""
    if array:
        return ValueType("an array of tables", {"type": "array", "items": {"$ref": f"#/$defs/{name}"}})
    return ValueType("a table", {"$ref": f"#/$defs/{name}"})


def _pattern(words: str, pattern: re.Pattern[str]) -> ValueType:
    return ValueType(words, {"type": "string", "pattern": pattern.pattern})


# The types and the table read best one to a line, as a table: the formatter would spread each over five.
# fmt: off
_STRING = ValueType("a string", {"type": "string", "minLength": 1})
_TEXT = ValueType("a string", {"type": "string"})
_BOOLEAN = ValueType("true or false", {"type": "boolean"})
_WHOLE = ValueType("a whole number, 1 or more", {"type": "integer", "minimum": 1})
_STRINGS = ValueType("a list of strings", {"type": "array", "items": {"type": "string", "minLength": 1}})
_IMPORT = _pattern('"package.module:attribute"', _IMPORT_REF)
_ATTRIBUTE_PATH = _pattern('"name.attribute" or "package.module:global.attribute"', _PATH)
_ROUTE = _pattern("a path starting with /", re.compile(r"^/"))
_WS = _pattern('"ws://host:port/path", "wss://...", or "http(s)://..." for an HTTP stream', _WS_URL)
_WARMUP = ValueType("a whole number from 0 to 10", {"type": "integer", "minimum": 0, "maximum": 10})
_HTTP = _pattern('"http://host:port/path" or "https://..."', _HTTP_URL)
_ROLE_METHOD = _pattern('"role.method"', re.compile(r"^[A-Za-z_]\w*\.[A-Za-z_]\w*$"))
_FIELD = _pattern("a dotted field path", re.compile(r"^[^.\s\[\]/]+(\.[^.\s\[\]/]+)*$"))
_JSON_OBJECT = ValueType("a table, or a JSON object as text", {"type": ["object", "string"]})
_SCALAR = {"type": ["string", "number", "boolean"]}
_VALUES = ValueType("a value or a list of values", {"anyOf": [_SCALAR, {"type": "array", "items": _SCALAR}]})
_MATCHER = ValueType("an event name, a table of conditions, or a list of either", {"$ref": "#/$defs/matcher"})
_MATCHERS = ValueType("a list of matchers", {"type": "array", "items": _MATCHER.schema})
_MATCH = ValueType("a table of event = matcher", {"type": "object", "additionalProperties": _MATCHER.schema})
_STRING_MAP = ValueType("a table of strings", {"type": "object", "additionalProperties": {"type": "string"}})
_CAPTURE = ValueType("a table of placeholder = field path (or { path = ..., public = true })", {
    "type": "object", "propertyNames": _IDENTIFIER_SCHEMA, "additionalProperties": {
        "anyOf": [_FIELD.schema, {"type": "object", "required": ["path"], "additionalProperties": False,
                                  "properties": {"path": _FIELD.schema, "public": {"type": "boolean"}}}]}})
_STATUS = {"type": "integer", "minimum": 100, "maximum": 599}
_STATUSES = ValueType("an HTTP status or a list of them",
                      {"anyOf": [_STATUS, {"type": "array", "items": _STATUS, "minItems": 1}]})
_GAP = ValueType("a number of milliseconds, or true (the budget) or false (none)",
                 {"anyOf": [{"type": "boolean"}, _number("gap_ms").schema]})
_TOOL_PAIRS = ValueType("a list of [start, end] event names", {"type": "array", "items": {
    "type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}})
_TOOL_CALL_ID = ValueType("a dotted field path, or a table of event = path", {
    "if": {"type": "object"}, "then": {"additionalProperties": _FIELD.schema}, "else": _FIELD.schema})
_ARGUMENT = ValueType("a parameter's name, or its position from 0",
                      {"anyOf": [_IDENTIFIER_SCHEMA, {"type": "integer", "minimum": 0}]})
_EMIT_MAP = ValueType('a table of event = "role.method" (or a table naming the kind argument)', {
    "type": "object",
    "additionalProperties": {"if": {"type": "object"}, "then": {"$ref": "#/$defs/emit_call"},
                             "else": _ROLE_METHOD.schema}})
_TOKENS_ENV = ValueType("a variable's name, or a list of names (one per user)",
                        {"anyOf": [_STRING.schema, _STRINGS.schema]})
_ROLES = ValueType("a table of role name = table", {
    "type": "object", "propertyNames": _IDENTIFIER_SCHEMA, "additionalProperties": {"$ref": "#/$defs/role"}})
_ISOLATION_USERS = ValueType(f"a whole number from 2 to {MAX_USERS}",
                             {"type": "integer", "minimum": 2, "maximum": MAX_USERS})

_TOP = Settings()
_PROBE = ProbeSettings()
_LOAD = LoadSettings()
_ISOLATION = Isolation()
_STEP = SetupStep()

_AUTH_KEYS = (
    Key("query", _STRING, "Send the token as this query parameter of the WebSocket URL."),
    Key("header", _STRING, "Send the token in this header (Authorization and Proxy-Authorization get Bearer)."),
    Key("scheme", _TEXT, 'What goes before the token in the header ("" for nothing).'),
    Key("token_env", _STRING, "The environment variable that holds the token."),
    Key("token", _STRING, "A fallback token for development (non-secret); the variable wins."),
    Key("subprotocol", _STRING, "Send the token as Sec-WebSocket-Protocol: a template with {token} or {token_b64url}."),
    Key("first_message", _JSON_OBJECT, "Send the token in a first message (a JSON template), before the trigger."),
    Key("ack", _MATCHER, "The server's answer to first_message, awaited before the trigger."),
    Key("cookie", _STRING, "Send the token in this cookie."),
)
_HTTP_AUTH = ("query", "header", "scheme", "token_env", "token", "cookie")

_EMIT_CALL_KEYS = (
    Key("method", _ROLE_METHOD, "The method that emits the event.", required=True),
    Key("argument", _ARGUMENT, "The argument carrying the event's kind: its name, or its position (0: after self).",
        required=True),
    Key("value", _VALUES, "The kind argument's value (or values) for this event; default: the event's name."),
)

_PROBE_KEYS = (
    Key("preset", _TEXT, "A known protocol's keys, laid under yours.", choices=tuple(PRESETS)),
    Key("trigger", _JSON_OBJECT, "The message that starts a run; {run_id}, {thread_id}, {user_id} are filled in.",
        default=_PROBE.trigger),
    Key("trigger_file", _STRING, "The trigger, read from this JSON file (relative to the configuration file)."),
    Key("auth", table_type("auth"), "How the probe sends its token."),
    Key("events", _STRINGS, "The expected events, in order.", default=list(_PROBE.events)),
    Key("terminal", _STRING, "The event that ends a healthy run; default: the last event."),
    Key("type_field", _FIELD, "Where a frame's type is (socket.io: @event, the event's name).",
        default=_PROBE.type_field),
    Key("run_id_field", _FIELD, "Where a frame's run id is.", default=_PROBE.run_id_field),
    Key("timestamp_field", _FIELD, "Where a frame's timestamp is.", default=_PROBE.timestamp_field),
    Key("match", _MATCH, "Which frame is which event; an event not listed matches its name on type_field."),
    Key("ignore", _MATCHERS, "Frames counted but never judged (heartbeats, deltas)."),
    Key("error_events", _MATCHERS, "Frames that end the run as a failure (WC412)."),
    Key("batch_field", _FIELD, "Where a frame that carries several events keeps their list."),
    Key("run_id", _TEXT, "Who owns the run id: the probe (client), the server, or the connection.",
        default=_PROBE.run_id, choices=CORRELATIONS),
    Key("run_id_from", _MATCHER, "With run_id = server: the frames the run id is captured from."),
    Key("tool_call_id_field", _TOOL_CALL_ID, "Where a frame's tool call id is: a path, or a table of event = path."),
    Key("tool_id_field", _FIELD, "The old name of tool_call_id_field.", deprecated="tool_call_id_field"),
    Key("tool_call_end", _MATCHER, "The frame that closes a tool call's arguments (AG-UI's TOOL_CALL_END)."),
    Key("strict_lifecycle", _BOOLEAN, "The first frame is the first event, once; nothing follows the terminal.",
        default=_PROBE.strict_lifecycle),
    Key("setup", table_type("setup", array=True), "HTTP requests made before connecting, afresh for every run."),
    Key("http_url", _HTTP, "Where setup requests go for url targets; default: the WebSocket URL's origin."),
    Key("budget_ms", _number("budget_ms"), "Each event's latency bound: emit (or hand-off) to receipt.",
        default=_PROBE.budget_ms),
    Key("gap_ms", _GAP, "The longest silence before and between events; true: the budget.", default=True),
    Key("deadline", _number("deadline"), "From the trigger to the terminal event: the hard cap.",
        default=_PROBE.deadline),
    Key("connect_timeout", _number("connect_timeout"), "How long connecting may take.",
        default=_PROBE.connect_timeout),
    Key("linger_ms", _number("linger_ms"), "How long to keep listening after the terminal event.",
        default=_PROBE.linger_ms),
    Key("user_id", _STRING, "Fills {user_id} in the trigger.", default=_PROBE.user_id),
    Key("percentile", _TEXT, "Which percentile `probe --runs N` fails on.", default=_PROBE.percentile,
        choices=_PERCENTILES),
    Key("once", _STRINGS, "Events sent exactly once per run; default: the first and the terminal event."),
    Key("repeatable", _STRINGS, "Events taken out of the default once events."),
    Key("tool_pairs", _TOOL_PAIRS, "Start and end events that pair up (WC422)."),
    Key("assume_synced_clocks", _BOOLEAN, "url targets: trust the server's timestamps.",
        default=_PROBE.assume_synced_clocks),
    Key("emit", _EMIT_MAP, "In-process: the method whose call emits each event, for emission latency."),
    Key("transport", _TEXT, "How the run's events come: a WebSocket, Server-Sent Events, NDJSON or socket.io.",
        default=_PROBE.transport, choices=TRANSPORTS),
    Key("path", _ROUTE, "HTTP transports: the route the trigger is sent to (a WebSocket uses ws_path)."),
    Key("method", _TEXT, "HTTP transports: the run's request method; POST sends the trigger as its body.",
        default=_PROBE.method, choices=("GET", "POST", "PUT", "PATCH")),
    Key("headers", _STRING_MAP, "Headers of the run's request: templates with {token} and the placeholders."),
    Key("started_by", _TEXT, "What starts a run whose server sends no start event.", choices=STARTED_BY),
    Key("completed_by", _TEXT, "What completes a run whose server sends no terminal event.", choices=COMPLETED_BY),
    Key("warmup", _WARMUP, "Unjudged runs made once, before the first judged one.", default=_PROBE.warmup),
    Key("trigger_event", _STRING, "socket.io: the event the trigger is emitted under.",
        default=_PROBE.trigger_event),
    Key("namespace", _ROUTE, "socket.io: the namespace the probe connects to.", default=_PROBE.namespace),
)

_SETUP_KEYS = (
    Key("method", _TEXT, "The HTTP method.", default=_STEP.method, choices=_METHODS),
    Key("path", _ROUTE, "The request's path on the backend."),
    Key("url", _HTTP, "The request's full URL, instead of path."),
    Key("json", _JSON_OBJECT, "The JSON body template."),
    Key("headers", _STRING_MAP, "Header templates."),
    Key("auth", table_type("setup_auth"), "How to send the token: query, header or cookie."),
    Key("expect_status", _STATUSES, "The statuses that mean success.", default=list(_STEP.expect_status)),
    Key("capture", _CAPTURE, "Placeholders captured from the JSON response, for later steps, URLs, trigger, auth."),
    Key("timeout", _number("timeout"), "How long the request may take.", default=_STEP.timeout),
)

_PER_USER_KEYS = (
    Key("user_ids", _STRINGS, "Each user's {user_id}, literally (user 1 first); wins over the template."),
    Key("token", _STRING, "Each user's token, {n} replaced by its number from 1 (non-secret test tokens)."),
    Key("tokens", _STRINGS, "Each user's token, literally (non-secret test tokens, user 1 first)."),
    Key("tokens_env", _TOKENS_ENV, "Tokens from the environment: one variable holding them all, or one per user."),
)

TABLES: dict[str, Table] = {
    "top": Table("top", "", "", "The top of a wiringcheck.toml, or [tool.wiringcheck] in pyproject.toml.", (
        Key("app", _IMPORT, "An ASGI app, or a zero-argument factory of one, booted in-process."),
        Key("factory", _BOOLEAN, "Whether app is a factory; default: detected from its signature."),
        Key("boot", _IMPORT, "A zero-argument function returning an async context manager that starts the backend."),
        Key("url", _WS, "A backend already running: only the probe runs."),
        Key("ws_path", _ROUTE, "The WebSocket path of an app target.", default=_TOP.ws_path),
        Key("ws_url", _WS, "The WebSocket URL of a boot target whose handle does not give one."),
        Key("pythonpath", _STRINGS, "Folders put first on sys.path, relative to the configuration file.",
            default=["."]),
        Key("startup_timeout", _number("startup_timeout"), "How long startup may take (WC102).",
            default=_TOP.startup_timeout),
        Key("shutdown_timeout", _number("shutdown_timeout"), "How long shutdown may take (WC103).",
            default=_TOP.shutdown_timeout),
        Key("trace", _BOOLEAN, "Trace calls and failed lookups on the roles' classes during boot.",
            default=_TOP.trace),
        Key("roles", _ROLES, "The objects startup built: where to find each, and what it must look like."),
        Key("wires", _STRINGS, "The edges startup must have made, e.g. 'registry.manager is bridge.manager'."),
        Key("must_call", _STRINGS, "Methods startup must call, as 'role.method' (WC106)."),
        Key("env", table_type("env"), "Environment variables for the in-process backend, from import to shutdown."),
        Key("probe", table_type("probe"), "The agent run the probe starts, and what it expects back."),
        Key("load", table_type("load"), "wiringcheck load: users, duration and thresholds."),
        Key("isolation", table_type("isolation"), "Several users at once: none may see another's events."),
        Key("scenarios", table_type("scenario", array=True), "More runs, each with its own trigger and expectation."),
    )),
    "role": Table("role", "roles.<name>", "[roles.<name>]", "An object startup built.", (
        Key("path", _ATTRIBUTE_PATH, "Where startup stores it: from the app, or from a module global.",
            required=True),
        Key("class", _IMPORT, "Its class: enables the boot trace, and class checks when boot fails."),
        Key("members", _STRINGS, "Members it must have, written as callers use them."),
    )),
    "probe": Table("probe", "probe", "[probe]", "The agent run the probe starts, and what it expects back.",
                   _PROBE_KEYS),
    "auth": Table("auth", "probe.auth", "[probe.auth]", "How the probe sends its token (one way).", _AUTH_KEYS),
    "setup": Table("setup", "probe.setup", "[[probe.setup]]", "An HTTP request made before connecting.",
                   _SETUP_KEYS),
    "setup_auth": Table("setup_auth", "probe.setup.auth", "[probe.setup.auth]",
                        "How a setup step sends its token: query, header or cookie.",
                        tuple(key for key in _AUTH_KEYS if key.name in _HTTP_AUTH), canonical=False),
    "emit_call": Table("emit_call", "probe.emit.<event>", "[probe.emit.<event>]",
                       "A method that emits several events, and the argument that says which.", _EMIT_CALL_KEYS),
    "load": Table("load", "load", "[load]",
                  "wiringcheck load: how many users, for how long, with which identities, and the thresholds.", (
        Key("users", _WHOLE, "Concurrent users (--users).", default=_LOAD.users),
        Key("spawn_rate", _number("spawn_rate"), "Users started per second; default: all within one second."),
        Key("duration", _number("duration"), "How long the test lasts, ramp included."),
        Key("runs", _WHOLE, "Runs per user, instead of a duration."),
        Key("workers", _WHOLE, "Client processes; default: one per CPU."),
        Key("user_id", _STRING, "Each user's {user_id}, {n} replaced by its number from 1.", default=_LOAD.user_id),
        *_PER_USER_KEYS,
        Key("thresholds", _STRINGS, "Conditions the test must meet, e.g. 'agent_thinking.p95 < 100'."),
    )),
    "isolation": Table("isolation", "isolation", "[isolation]",
                       "Several users at once, each starting its own run: none may see another's events.", (
        Key("enabled", _BOOLEAN, "Run the isolation check (the table's presence turns it on).", default=True),
        Key("users", _ISOLATION_USERS, "How many users connect at once.", default=_ISOLATION.users),
        *_PER_USER_KEYS,
    )),
    "scenario": Table("scenario", "scenarios", "[[scenarios]]", "One more run, [probe]'s keys laid under its own.",
                      (Key("name", _STRING, "The scenario's name, unique.", required=True), *_PROBE_KEYS),
                      canonical=False),
    "env": Table("env", "env", "[env]",
                 "Variables set for the in-process backend, from before its import to after its shutdown, then "
                 "restored; {tmp} is a fresh directory per boot, {config_dir} the configuration file's folder.",
                 values=ValueType("a string", {"type": "string"}), names=_ENV_NAME),
}
# fmt: on
"""Every table of the configuration and its keys: what the parser accepts (unknown keys, did-you-mean,
a key written in the wrong table) and what `wiringcheck schema` describes, from this one place."""


# -- validation ----------------------------------------------------------------------------------


def _homes(name: str) -> list[Table]:
    """The tables where a key called `name` belongs (the canonical ones: a scenario's keys are the probe's)."""
    return [table for table in TABLES.values() if table.canonical and name in table.key_names()]


def _unknown_key(name: str, table: Table, root: str) -> str:
    """Why `name` is refused in `table`, and what to write instead.

    A key that belongs to another table (a top-level ``preset``) is sent there, with the
    table to open; else the closest key of this table is suggested; else its keys are listed.
    """
    homes = [home for home in _homes(name) if home is not table]
    if len(homes) == 1:
        return f"unknown key here; did you mean {_place(homes[0], name)!r}? Write it {_where(homes[0], root)}"
    if homes:
        places = [repr(_place(home, name)) for home in homes]
        listed = ", ".join(places[:-1]) + f" or {places[-1]}"
        return f"unknown key here; did you mean {listed}? Each is written in its own table"
    known = table.key_names()
    guess = suggest(name, known)
    return f"unknown key; did you mean {guess!r}?" if guess else f"unknown key; known keys: {', '.join(sorted(known))}"


def _place(table: Table, name: str) -> str:
    return f"{table.path}.{name}" if table.path else name


def _where(table: Table, root: str) -> str:
    """Where to write a key of `table`: under ``[probe]`` in a wiringcheck.toml, ``[tool.wiringcheck.probe]``
    in a pyproject.toml; a top-level key before any table header."""
    if not table.header:
        return f"directly under [{root}]" if root else "at the top of the file, before any [table]"
    if not root:
        return f"under a {table.header} table"
    brackets = "[[" if table.header.startswith("[[") else "["
    closing = "]]" if brackets == "[[" else "]"
    return f"under a {brackets}{root}.{table.header.strip('[]')}{closing} table"


class _Reader:
    """Typed access to one table, producing errors that name the file and the key path."""

    def __init__(self, table: Mapping[str, Any], *, source: Path | None, prefix: str, root: str = "") -> None:
        self.table = table
        self.source = source
        self.prefix = prefix
        self.root = root
        """The key path of the whole configuration: ``tool.wiringcheck`` in a pyproject.toml."""

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(problem, source=self.source, key=self.key(name))

    def check_keys(self, table: Table) -> None:
        """Refuse a key `table` does not have, with where it belongs or the closest one it has."""
        known = set(table.key_names())
        for name in self.table:
            if name not in known:
                raise self.error(name, _unknown_key(str(name), table, self.root))

    def sub(self, name: str) -> _Reader:
        value = self.table.get(name, {})
        if not isinstance(value, Mapping):
            raise self.error(name, f"expected a table, got {_kind(value)}")
        return _Reader(value, source=self.source, prefix=self.key(name), root=self.root)

    def child(self, table: Mapping[str, Any], name: str) -> _Reader:
        """A reader of `table`, written at `name` under this one (an item of an array of tables)."""
        return _Reader(table, source=self.source, prefix=self.key(name), root=self.root)

    def string(self, name: str, default: str | None = None, *, pattern: re.Pattern[str] | None = None) -> Any:
        value = self.table.get(name, default)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, f"expected a non-empty string, got {_kind(value)}")
        if pattern is not None and not pattern.match(value):
            raise self.error(name, f"{value!r} is not of the form {_FORMS[pattern]}")
        return value

    def number(self, name: str, default: float) -> float:
        value = self.table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"expected a number, got {_kind(value)}")
        try:
            return check_number(name, value)
        except ValueError as exc:
            raise self.error(name, str(exc)) from None

    def url(self, name: str) -> str | None:
        value: str | None = self.string(name)
        if value is not None:
            try:
                check_ws_url(value)
            except ValueError as exc:
                raise self.error(name, str(exc)) from None
        return value

    def boolean(self, name: str, default: bool | None) -> Any:
        value = self.table.get(name, default)
        if value is not None and not isinstance(value, bool):
            raise self.error(name, f"expected true or false, got {_kind(value)}")
        return value

    def integer(self, name: str, default: int | None) -> Any:
        value = self.table.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"expected a whole number, got {_kind(value)}")
        try:
            return check_count(name, value)
        except ValueError as exc:
            raise self.error(name, str(exc)) from None

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.table.get(name, list(default))
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise self.error(name, f"expected a list of non-empty strings, got {_kind(value)}")
        return tuple(value)


_FORMS = {
    _IMPORT_REF: '"package.module:attribute"',
    _PATH: '"name.attribute.attribute" or "package.module:global.attribute"',
    _WS_URL: '"ws://host:port/path", "wss://...", or "http(s)://..." for an HTTP stream',
    _HTTP_URL: '"http://host:port/path" or "https://..."',
}


def _kind(value: object) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    names = {bool: "a boolean", int: "an integer", float: "a number", list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def parse_settings(table: Mapping[str, Any], *, source: Path | None = None, prefix: str = "") -> Settings:
    """Validate a configuration table (already parsed from TOML) into `Settings`.

    Relative paths (`pythonpath`, `trigger_file`, ``{config_dir}`` in `[env]`) are relative
    to the folder of `source`, or to the working directory without one.
    """
    top = _Reader(table, source=source, prefix=prefix, root=prefix)
    top.check_keys(TABLES["top"])
    root = source.parent.resolve() if source is not None else Path.cwd()

    app = top.string("app", pattern=_IMPORT_REF)
    boot = top.string("boot", pattern=_IMPORT_REF)
    url = top.url("url")
    given = [name for name, value in (("app", app), ("boot", boot), ("url", url)) if value]
    if len(given) > 1:
        raise top.error(given[1], f"give one target, not both {given[0]!r} and {given[1]!r}")

    ws_path = top.string("ws_path", "/ws")
    if not ws_path.startswith("/"):
        raise top.error("ws_path", f"must start with '/', got {ws_path!r}")

    roles: dict[str, RoleSpec] = {}
    roles_reader = top.sub("roles")
    for name in roles_reader.table:
        if not _IDENTIFIER.fullmatch(name):
            raise roles_reader.error(name, "a role name must be an identifier")
        role = roles_reader.sub(name)
        role.check_keys(TABLES["role"])
        if "path" not in role.table:
            raise role.error("path", "missing: where startup stores this object, e.g. 'state.agent_websocket_bridge'")
        members = role.strings("members")
        for index, member in enumerate(members):
            try:
                parse_member(member)
            except ContractSyntaxError as exc:
                raise role.error(f"members[{index}]", str(exc)) from None
        roles[name] = RoleSpec(
            name=name,
            path=role.string("path", pattern=_PATH),
            class_ref=role.string("class", pattern=_IMPORT_REF),
            members=members,
        )

    wires = top.strings("wires")
    for index, text in enumerate(wires):
        try:
            wire = parse_wire(text)
        except WireSyntaxError as exc:
            raise top.error(f"wires[{index}]", str(exc)) from None
        for path in wire.paths:
            if path[0] not in roles:
                raise top.error(f"wires[{index}]", _not_a_role(path[0], roles))

    must_call = top.strings("must_call")
    for index, text in enumerate(must_call):
        role_name, _, method = text.partition(".")
        if not method or "." in method:
            raise top.error(f"must_call[{index}]", f"expected 'role.method', got {text!r}")
        if role_name not in roles:
            raise top.error(f"must_call[{index}]", _not_a_role(role_name, roles))

    probe_reader = top.sub("probe")
    probe = _parse_probe(probe_reader, root)
    _check_emit_roles(probe_reader, probe, roles)
    probe = _transport_for_url(top, url, probe)
    if probe.transport == "websocket" and "path" in probe_reader.table:
        # A WebSocket run connects to ws_path (or the url's own path): a path given here would be ignored.
        raise probe_reader.error(
            "path", f"is the HTTP route of an SSE, NDJSON or socket.io run, and this run is a WebSocket: its "
            f"route is the top-level ws_path (ws_path = {probe_reader.table['path']!r}); if the server streams "
            'its runs over HTTP, set transport = "sse" or "ndjson"')  # fmt: skip

    return Settings(
        source=source,
        root=root,
        app=app,
        factory=top.boolean("factory", None),
        boot=boot,
        url=url,
        ws_path=ws_path,
        ws_url=top.url("ws_url"),
        pythonpath=tuple((root / entry).resolve() for entry in top.strings("pythonpath", (".",))),
        startup_timeout=top.number("startup_timeout", _TOP.startup_timeout),
        shutdown_timeout=top.number("shutdown_timeout", _TOP.shutdown_timeout),
        trace=top.boolean("trace", True),
        roles=roles,
        wires=wires,
        must_call=must_call,
        probe=probe,
        load=_parse_load(top.sub("load"), probe),
        isolation=_parse_isolation(top.sub("isolation")),
        scenarios=_parse_scenarios(top, roles, root),
        env=_parse_env(top.sub("env"), root),
    )


def _not_a_role(name: str, roles: Mapping[str, RoleSpec]) -> str:
    guess = suggest(name, roles)
    return f"{name!r} is not a role defined under [roles]" + (f"; did you mean {guess!r}?" if guess else "")


def _check_emit_roles(probe_reader: _Reader, probe: ProbeSettings, roles: Mapping[str, RoleSpec]) -> None:
    for event, method in probe.emit:
        role_name = method.partition(".")[0]
        if role_name not in roles:
            raise probe_reader.error(f"emit.{event}", _not_a_role(role_name, roles))


_NOT_INHERITED_WITH_EVENTS = ("once", "repeatable", "tool_pairs", "emit", "terminal")
"""Keys of `[probe]` a scenario that names its own `events` does not inherit: they name the base's events."""

_ONE_OF = (("trigger", "trigger_file"), ("tool_call_id_field", "tool_id_field"))
"""Keys that say the same thing two ways: a layer that sets one (a scenario over [probe], [probe] over
its preset) replaces the other of the layer below."""


def _laid_over(below: Mapping[str, Any], above: Mapping[str, Any]) -> dict[str, Any]:
    """`above`'s keys over `below`'s, where setting one key of a `_ONE_OF` pair drops the other below."""
    dropped = {other for pair in _ONE_OF for key, other in (pair, pair[::-1]) if key in above and other not in above}
    return {**{key: value for key, value in below.items() if key not in dropped}, **above}


def _parse_scenarios(top: _Reader, roles: Mapping[str, RoleSpec], root: Path) -> tuple[Scenario, ...]:
    """`[[scenarios]]`: each a name and probe keys laid over `[probe]`, validated like it."""
    value = top.table.get("scenarios", [])
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise top.error("scenarios", f"expected an array of tables ([[scenarios]]), got {_kind(value)}")
    base = top.table.get("probe", {})
    base = base if isinstance(base, Mapping) else {}
    scenarios: list[Scenario] = []
    for index, table in enumerate(value):
        reader = top.child(table, f"scenarios[{index}]")
        reader.check_keys(TABLES["scenario"])
        name = reader.string("name")
        if name is None:
            raise reader.error("name", "missing: name the scenario, e.g. 'failing tool'")
        if name in {s.name for s in scenarios}:
            raise reader.error("name", f"a second scenario is called {name!r}: names must be unique")
        inherited = {
            key: item
            for key, item in base.items()
            if not ("events" in table and key in _NOT_INHERITED_WITH_EVENTS and key not in table)
        }
        merged = _laid_over(inherited, {key: item for key, item in table.items() if key != "name"})
        probe = _parse_probe(_Reader(merged, source=reader.source, prefix=reader.prefix, root=reader.root), root)
        _check_emit_roles(reader, probe, roles)
        scenarios.append(Scenario(name=name, probe=probe))
    return tuple(scenarios)


def _parse_isolation(table: _Reader) -> Isolation:
    """`[isolation]`: present means enabled (unless ``enabled = false``); 2 users by default."""
    table.check_keys(TABLES["isolation"])
    users = table.table.get("users", 2)
    if isinstance(users, bool) or not isinstance(users, int):
        raise table.error("users", f"expected a whole number of users from 2 to {MAX_USERS}, got {_kind(users)}")
    if not 2 <= users <= MAX_USERS:
        raise table.error(
            "users",
            f"must be from 2 to {MAX_USERS}, got {users}: an isolation check connects at most {MAX_USERS} users "
            "at once, enough to catch a broadcast or a wrong routing key (`wiringcheck load` runs more)",
        )
    per_user = _parse_per_user(table)
    if per_user.user_ids and len(per_user.user_ids) < users:
        raise table.error("user_ids", f"lists {len(per_user.user_ids)} user id(s) for {users} users: one per user")
    if isinstance(per_user.tokens_env, tuple) and per_user.tokens_env and len(per_user.tokens_env) < users:
        raise table.error("tokens_env", f"names {len(per_user.tokens_env)} variable(s) for {users} users: one per user")
    if per_user.tokens and len(per_user.tokens) < users and per_user.token is None and not per_user.tokens_env:
        raise table.error("tokens", f"lists {len(per_user.tokens)} token(s) for {users} users: one per user")
    token = per_user.token
    if token is not None and not (per_user.tokens_env or per_user.tokens) and "{n}" not in token:
        raise table.error("token", "must contain {n} (the user's number), or every user would be the same user")
    return Isolation(
        enabled=bool(table.table) and bool(table.boolean("enabled", True)),
        users=users,
        tokens_env=per_user.tokens_env,
        token=token,
        tokens=per_user.tokens,
        user_ids=per_user.user_ids,
    )


class _PerUser(NamedTuple):
    user_ids: tuple[str, ...]
    tokens: tuple[str, ...]
    token: str | None
    tokens_env: str | tuple[str, ...]


def _parse_per_user(table: _Reader) -> _PerUser:
    """The keys `[isolation]` and `[load]` share, telling their users apart."""
    user_ids = table.strings("user_ids")
    _unique(table, "user_ids", user_ids, "user id")
    tokens = table.strings("tokens")
    _unique(table, "tokens", tokens, "token")
    tokens_env: str | tuple[str, ...] = ()
    value = table.table.get("tokens_env")
    if isinstance(value, str):
        tokens_env = table.string("tokens_env")
    elif value is not None:
        if not isinstance(value, list):
            raise table.error(
                "tokens_env",
                f"expected a variable's name (holding every token, comma-separated) or a list of names (one per "
                f"user), got {_kind(value)}",
            )
        tokens_env = table.strings("tokens_env")
    return _PerUser(user_ids=user_ids, tokens=tokens, token=table.string("token"), tokens_env=tokens_env)


def _unique(table: _Reader, key: str, values: tuple[str, ...], what: str) -> None:
    """Refuse a value listed twice, naming the users by number (never a token's value)."""
    first: dict[str, int] = {}
    for number, value in enumerate(values, start=1):
        if value in first:
            raise table.error(
                key,
                f"users {first[value]} and {number} have the same {what}, so the backend would see one user: "
                f"give each user its own",
            )
        first[value] = number


def _parse_env(env: _Reader, root: Path) -> tuple[tuple[str, str], ...]:
    """`[env]`: variable name -> value, ``{config_dir}`` filled in (``{tmp}`` is filled in at boot)."""
    variables: list[tuple[str, str]] = []
    for name, value in env.table.items():
        if not _ENV_NAME.match(str(name)):
            raise env.error(name, "an environment variable's name is letters, digits and _, not starting with a digit")
        if not isinstance(value, str):
            # The value is never shown: a variable's value may be a secret.
            raise env.error(name, f'expected a string (quote it: {name} = "..."), got {_kind_only(value)}')
        variables.append((name, value.replace("{config_dir}", str(root))))
    return tuple(variables)


def _kind_only(value: object) -> str:
    """What a value is, without showing it."""
    return "a string" if isinstance(value, str) else _kind(value)


def _json_template(reader: _Reader, name: str, default: Any = None) -> Any:
    """A JSON template given as a TOML table or as JSON text (a JSON object either way)."""
    value: Any = reader.table.get(name, default)
    if isinstance(value, str):
        try:
            value = loads(value)
        except json.JSONDecodeError as exc:
            raise reader.error(name, f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    if value is not None and not isinstance(value, dict):
        raise reader.error(name, f"expected a JSON object or a TOML table, got {_kind(value)}")
    return value


def _field_path(reader: _Reader, name: str, default: str | None = None) -> Any:
    value = reader.string(name, default)
    if value is not None:
        try:
            parse_path(value)
        except PathSyntaxError as exc:
            raise reader.error(name, str(exc)) from None
    return value


def _matcher_spec(reader: _Reader, key: str, spec: Any, type_field: str) -> Any:
    try:
        parse_matcher(spec, parse_path(type_field))
    except MatcherError as exc:
        raise reader.error(key, str(exc)) from None
    return spec


def _with_preset(probe: _Reader) -> _Reader:
    """The probe table with its preset merged underneath: the user's keys win, `match` key by key."""
    name = probe.table.get("preset")
    if name is None:
        return probe
    if not isinstance(name, str) or name not in PRESETS:
        guess = suggest(str(name), PRESETS)
        hint = f"; did you mean {guess!r}?" if guess else f"; known presets: {', '.join(sorted(PRESETS))}"
        raise probe.error("preset", f"unknown preset {name!r}{hint}")
    base = PRESETS[name]
    merged = _laid_over(base, probe.table)
    if isinstance(probe.table.get("match", {}), Mapping):
        merged["match"] = {**base.get("match", {}), **probe.table.get("match", {})}
    return _Reader(merged, source=probe.source, prefix=probe.prefix, root=probe.root)


def _parse_auth(reader: _Reader, *, websocket: bool = True) -> Auth:
    reader.check_keys(TABLES["auth" if websocket else "setup_auth"])
    scheme = reader.table.get("scheme")
    if scheme is not None and not isinstance(scheme, str):
        raise reader.error("scheme", f'expected a string ("" for none), got {_kind(scheme)}')
    first_message = _json_template(reader, "first_message") if websocket else None
    ack = reader.table.get("ack")
    auth = Auth(
        query=reader.string("query"),
        header=reader.string("header"),
        scheme=scheme,
        token_env=reader.string("token_env"),
        token=reader.string("token"),
        subprotocol=reader.string("subprotocol") if websocket else None,
        first_message=first_message,
        ack=ack,
        cookie=reader.string("cookie"),
    )
    methods = [name for name in AUTH_METHODS if getattr(auth, name) is not None]
    if len(methods) > 1:
        raise reader.error(methods[1], f"send the token one way: {methods[0]!r} or {methods[1]!r}, not both")
    if reader.table and not auth.enabled:
        ways = " or ".join(f"{m} = ..." for m in (AUTH_METHODS if websocket else ("query", "header", "cookie")))
        raise reader.error("query", f"missing: say how to send the token ({ways})")
    if auth.enabled and not (auth.token_env or auth.token) and not auth.carries_no_token:
        raise reader.error("token_env", "missing: name the environment variable that holds the token")
    if auth.subprotocol is not None and not any(p in auth.subprotocol for p in ("{token}", "{token_b64url}")):
        raise reader.error("subprotocol", "the template must contain {token} or {token_b64url}")
    if ack is not None and auth.first_message is None:
        raise reader.error("ack", "an ack is awaited only after a first_message")
    if scheme is not None and auth.header is None:
        raise reader.error("scheme", "a scheme goes before a token sent in a header: set header too")
    return auth


def _parse_setup(probe: _Reader, type_field: str) -> tuple[SetupStep, ...]:
    value = probe.table.get("setup", [])
    if not isinstance(value, list) or not all(isinstance(step, Mapping) for step in value):
        raise probe.error("setup", f"expected an array of tables ([[probe.setup]]), got {_kind(value)}")
    steps = []
    for index in range(len(value)):
        step = probe.child(value[index], f"setup[{index}]")
        step.check_keys(TABLES["setup"])
        method = step.string("method", "POST").upper()
        if method not in _METHODS:
            raise step.error("method", f"expected one of {', '.join(_METHODS)}, got {method!r}")
        path, url = step.string("path"), step.string("url")
        if (path is None) == (url is None):
            raise step.error("path", "give the request's path (on the backend) or its full url, one of them")
        if path is not None and not path.startswith("/"):
            raise step.error("path", f"must start with '/', got {path!r}")
        if url is not None and not url.startswith(("http://", "https://")):
            raise step.error("url", f"must start with http:// or https://, got {url!r}")
        headers = step.sub("headers")
        for key, header in headers.table.items():
            if not isinstance(header, str):
                raise headers.error(key, f"expected a string, got {_kind(header)}")
        status = step.table.get("expect_status", [200, 201])
        statuses = status if isinstance(status, list) else [status]
        if not statuses or not all(isinstance(s, int) and not isinstance(s, bool) and 100 <= s < 600 for s in statuses):
            raise step.error("expect_status", f"expected an HTTP status or a list of them, got {_kind(status)}")
        capture = step.sub("capture")
        captures: list[tuple[str, str]] = []
        public: list[str] = []
        for name, where in capture.table.items():
            if not _IDENTIFIER.fullmatch(name):
                raise capture.error(name, "a placeholder name must be an identifier")
            if isinstance(where, Mapping):
                entry = capture.sub(name)
                for key in entry.table:
                    if key not in ("path", "public"):
                        guess = suggest(str(key), ("path", "public"))
                        raise entry.error(key, "unknown key" + (f"; did you mean {guess!r}?" if guess else ""))
                if "path" not in entry.table:
                    raise entry.error("path", "missing: the field path into the JSON response")
                where = entry.table["path"]
                if entry.boolean("public", False):
                    public.append(name)
                reader, key = entry, "path"
            else:
                reader, key = capture, name
            if not isinstance(where, str):
                raise reader.error(key, f"expected a field path into the JSON response, got {_kind(where)}")
            _field_path(reader, key)
            captures.append((name, where))
        auth = _parse_auth(step.sub("auth"), websocket=False)
        steps.append(
            SetupStep(
                method=method,
                path=path,
                url=url,
                json=_json_template(step, "json"),
                headers=tuple(headers.table.items()),
                auth=auth,
                expect_status=tuple(statuses),
                capture=tuple(captures),
                public=tuple(public),
                timeout=step.number("timeout", _STEP.timeout),
            )
        )
    return tuple(steps)


def _parse_probe(probe: _Reader, root: Path) -> ProbeSettings:
    """`[probe]` (or a scenario laid over it), its preset underneath; `root` is where `trigger_file` is relative to."""
    probe.check_keys(TABLES["probe"])
    probe = _with_preset(probe)
    defaults = _PROBE

    if "trigger" in probe.table and "trigger_file" in probe.table:
        raise probe.error("trigger_file", "give the trigger inline (trigger) or from a file (trigger_file), not both")
    trigger_file = _trigger_file(probe, root)
    trigger = _read_trigger(probe, trigger_file) if trigger_file else _json_template(probe, "trigger", defaults.trigger)

    transport = probe.string("transport", "websocket")
    # A socket.io event's name is its type: matchers compare names with it, as with any type field.
    type_field = _field_path(probe, "type_field", EVENT_NAME if transport == "socketio" else defaults.type_field)
    auth_reader = probe.sub("auth")
    auth = _parse_auth(auth_reader)
    if auth.ack is not None:
        _matcher_spec(auth_reader, "ack", auth.ack, type_field)

    events = probe.strings("events", defaults.events)
    if not events:
        raise probe.error("events", "must name at least one event")
    if len(set(events)) != len(events):
        raise probe.error("events", "lists an event twice")
    terminal = probe.string("terminal", events[-1])
    if terminal not in events:
        raise probe.error("terminal", f"{terminal!r} is not one of the expected events")

    match_reader = probe.sub("match")
    for name, spec in match_reader.table.items():
        if name not in events:
            guess = suggest(name, events)
            hint = f"; did you mean {guess!r}?" if guess else f"; expected events: {', '.join(events)}"
            raise match_reader.error(name, f"{name!r} is not one of the expected events{hint}")
        _matcher_spec(match_reader, name, spec, type_field)
    lists: dict[str, tuple[Any, ...]] = {}
    for key in ("ignore", "error_events"):
        value = probe.table.get(key, [])
        if not isinstance(value, list):
            raise probe.error(key, f"expected a list of matchers (names or tables), got {_kind(value)}")
        lists[key] = tuple(_matcher_spec(probe, f"{key}[{i}]", spec, type_field) for i, spec in enumerate(value))

    correlation = probe.string("run_id", "client")
    if correlation not in CORRELATIONS:
        raise probe.error("run_id", f"expected one of {', '.join(CORRELATIONS)}, got {correlation!r}")
    run_id_from = probe.table.get("run_id_from")
    if run_id_from is not None:
        if correlation != "server":
            raise probe.error("run_id_from", 'only the "server" correlation captures the run id from a frame')
        _matcher_spec(probe, "run_id_from", run_id_from, type_field)
    tool_call_end = probe.table.get("tool_call_end")
    if tool_call_end is not None:
        _matcher_spec(probe, "tool_call_end", tool_call_end, type_field)

    if transport not in TRANSPORTS:
        guess = suggest(transport, TRANSPORTS)
        hint = f"; did you mean {guess!r}?" if guess else ""
        raise probe.error("transport", f"expected one of {', '.join(TRANSPORTS)}, got {transport!r}{hint}")
    if transport not in ("websocket", "socketio"):
        for kind in ("subprotocol", "first_message"):
            if getattr(auth, kind) is not None:
                raise auth_reader.error(
                    kind,
                    f"only a WebSocket carries a token as {kind}; transport is {transport!r}: send it in a header, "
                    "the query or a cookie",
                )
    trigger_event, namespace = _socketio_keys(probe, auth_reader, auth, transport)
    path = probe.string("path")
    if path is not None and not path.startswith("/"):
        raise probe.error("path", f"must start with '/', got {path!r}")
    method = probe.string("method", "POST").upper()
    if method not in ("GET", "POST", "PUT", "PATCH"):
        raise probe.error("method", f"expected GET, POST, PUT or PATCH, got {method!r}")
    request_headers = probe.sub("headers")
    for key, header in request_headers.table.items():
        if not isinstance(header, str):
            raise request_headers.error(key, f"expected a string, got {_kind(header)}")
    started_by = probe.string("started_by")
    if started_by is not None and started_by not in STARTED_BY:
        raise probe.error("started_by", f"expected one of {', '.join(STARTED_BY)}, got {started_by!r}")
    completed_by = probe.string("completed_by")
    if completed_by is not None and completed_by not in COMPLETED_BY:
        raise probe.error("completed_by", f"expected {COMPLETED_BY[0]!r}, got {completed_by!r}")
    warmup = probe.table.get("warmup", 0)
    if isinstance(warmup, bool) or not isinstance(warmup, int) or not 0 <= warmup <= 10:
        raise probe.error("warmup", f"expected a number of runs from 0 to 10, got {_kind(warmup)}")

    percentile = probe.string("percentile", "max")
    if percentile not in _PERCENTILES:
        raise probe.error("percentile", f"expected one of {', '.join(_PERCENTILES)}, got {percentile!r}")
    tool_call_ids = _tool_call_ids(probe, events)
    emit = _emit(probe, events)

    return ProbeSettings(
        trigger=trigger,
        auth=auth,
        events=events,
        terminal=terminal,
        type_field=type_field,
        run_id_field=_field_path(probe, "run_id_field", defaults.run_id_field),
        timestamp_field=_field_path(probe, "timestamp_field", defaults.timestamp_field),
        budget_ms=probe.number("budget_ms", defaults.budget_ms),
        deadline=probe.number("deadline", defaults.deadline),
        connect_timeout=probe.number("connect_timeout", defaults.connect_timeout),
        linger_ms=probe.number("linger_ms", defaults.linger_ms),
        user_id=probe.string("user_id", defaults.user_id),
        percentile=percentile,
        match=tuple(match_reader.table.items()),
        ignore=lists["ignore"],
        error_events=lists["error_events"],
        batch_field=_field_path(probe, "batch_field"),
        run_id=correlation,
        run_id_from=run_id_from,
        tool_call_id_field=tool_call_ids[0],
        tool_call_id_paths=tool_call_ids[1],
        tool_call_end=tool_call_end,
        strict_lifecycle=bool(probe.boolean("strict_lifecycle", False)),
        setup=_parse_setup(probe, type_field),
        http_url=probe.string("http_url", pattern=_HTTP_URL),
        preset=probe.string("preset"),
        gap_ms=_gap(probe),
        once=_once(probe, events, terminal),
        tool_pairs=_tool_pairs(probe, events),
        assume_synced_clocks=bool(probe.boolean("assume_synced_clocks", False)),
        emit=tuple((event, call.method) for event, call in emit),
        emit_kinds=tuple((event, call.kind) for event, call in emit if call.kind is not None),
        trigger_file=trigger_file,
        transport=transport,
        path=path,
        method=method,
        headers=tuple(request_headers.table.items()),
        started_by=started_by,
        completed_by=completed_by,
        warmup=warmup,
        trigger_event=trigger_event,
        namespace=namespace,
    )


_SOCKETIO_RESERVED = ("connect", "connect_error", "disconnect", "disconnecting")
"""Event names socket.io keeps for itself: a trigger emitted under one would never reach the server's handler."""


def _socketio_keys(probe: _Reader, auth_reader: _Reader, auth: Auth, transport: str) -> tuple[str, str]:
    """(trigger_event, namespace), and the auth kinds socket.io carries (its auth payload is `first_message`)."""
    if transport != "socketio":
        for key in ("trigger_event", "namespace"):
            if key in probe.table:
                raise probe.error(key, f"only a socket.io run has {key}; transport is {transport!r}")
        return _PROBE.trigger_event, _PROBE.namespace
    if auth.subprotocol is not None:
        raise auth_reader.error(
            "subprotocol", "socket.io carries no WebSocket subprotocol: send the token in its auth payload "
            "(first_message), a header, the query or a cookie")  # fmt: skip
    if auth.ack is not None:
        raise auth_reader.error(
            "ack", "socket.io answers its auth payload (first_message) itself, by accepting or refusing the "
            "connection: remove ack")  # fmt: skip
    trigger_event = probe.string("trigger_event", _PROBE.trigger_event)
    if trigger_event in _SOCKETIO_RESERVED:
        raise probe.error("trigger_event", f"{trigger_event!r} is an event socket.io keeps for itself; "
                          "name the event the server's handler listens to")  # fmt: skip
    namespace = probe.string("namespace", _PROBE.namespace)
    if not namespace.startswith("/"):
        raise probe.error("namespace", f"must start with '/', got {namespace!r}")
    return trigger_event, namespace


def _parse_load(load: _Reader, probe: ProbeSettings) -> LoadSettings:
    load.check_keys(TABLES["load"])
    if "duration" in load.table and "runs" in load.table:
        raise load.error("runs", "give a duration or a number of runs per user, not both")
    thresholds = load.strings("thresholds")
    try:
        parse_thresholds(thresholds, probe.events)
    except ThresholdError as exc:
        key = "thresholds" if exc.index is None else f"thresholds[{exc.index}]"
        raise load.error(key, str(exc)) from None
    per_user = _parse_per_user(load)
    given = [key for key in ("token", "tokens", "tokens_env") if key in load.table]
    if given and not probe.auth.enabled:
        raise load.error(
            given[0], "the probe sends no token: say how under [probe] auth (query = 'token' or header = ...)"
        )
    spawn_rate = load.table.get("spawn_rate")
    return LoadSettings(
        users=load.integer("users", _LOAD.users),
        spawn_rate=load.number("spawn_rate", 1.0) if spawn_rate is not None else None,
        duration=load.number("duration", 1.0) if "duration" in load.table else None,
        runs=load.integer("runs", None),
        workers=load.integer("workers", None),
        user_id=load.string("user_id", _LOAD.user_id),
        user_ids=per_user.user_ids,
        token=per_user.token,
        tokens=per_user.tokens,
        tokens_env=per_user.tokens_env,
        thresholds=thresholds,
    )


def _transport_for_url(top: _Reader, url: str | None, probe: ProbeSettings) -> ProbeSettings:
    """An ``http(s)://`` target speaks an HTTP transport (SSE unless the table says NDJSON); ``ws(s)://`` a socket.

    A transport the table names must agree with the URL; one it does not name follows it.
    """
    if url is None:
        return probe
    follows = _url_transport(url, probe)
    if follows is probe or "transport" not in top.table.get("probe", {}):
        return follows
    if url.startswith(("http://", "https://")):
        raise top.error("url", f"{url!r} is an HTTP URL, but probe.transport is {probe.transport!r}: "
                        "use a ws:// URL, or transport = \"sse\" or \"ndjson\"")  # fmt: skip
    raise top.error("url", f"{url!r} is a WebSocket URL, but probe.transport is {probe.transport!r}: "
                    "give the stream's http(s):// URL")  # fmt: skip


def _url_transport(url: str, probe: ProbeSettings) -> ProbeSettings:
    """`probe` with the transport `url`'s scheme implies, when nothing chose one: SSE over http(s) (a preset's
    or the table's HTTP transport kept), a WebSocket over ws(s); socket.io servers are named by either."""
    over_http = url.startswith(("http://", "https://"))
    if probe.transport == "socketio" or over_http == probe.over_http:
        return probe  # `probe` itself: it agrees with the URL
    return replace(probe, transport="sse" if over_http else "websocket")


def _gap(probe: _Reader) -> float | bool:
    value = probe.table.get("gap_ms", True)
    if isinstance(value, bool):
        return value
    return probe.number("gap_ms", 0)


def _once(probe: _Reader, events: tuple[str, ...], terminal: str) -> tuple[str, ...] | None:
    """The `once` events: as listed, else the first and the terminal event minus those listed as `repeatable`."""
    once = probe.strings("once") if "once" in probe.table else None
    repeatable = probe.strings("repeatable")
    for key, names in (("once", once or ()), ("repeatable", repeatable)):
        for name in names:
            if name not in events:
                raise probe.error(key, f"{name!r} is not one of the expected events")
    if once is not None:
        both = sorted(set(once) & set(repeatable))
        if both:
            raise probe.error("repeatable", f"{both[0]!r} is listed under both once and repeatable")
        return once
    if not repeatable:
        return None
    return tuple(name for name in dict.fromkeys((events[0], terminal)) if name not in repeatable)


def _tool_pairs(probe: _Reader, events: tuple[str, ...]) -> tuple[tuple[str, str], ...] | None:
    if "tool_pairs" not in probe.table:
        return None
    value = probe.table["tool_pairs"]
    pairs: list[tuple[str, str]] = []
    if not isinstance(value, list):
        raise probe.error("tool_pairs", f"expected a list of [start, end] pairs, got {_kind(value)}")
    for index, pair in enumerate(value):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(n, str) for n in pair)):
            raise probe.error(f"tool_pairs[{index}]", f"expected [start, end] event names, got {_kind(pair)}")
        for name in pair:
            if name not in events:
                raise probe.error(f"tool_pairs[{index}]", f"{name!r} is not one of the expected events")
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


_METHOD = re.compile(r"^[A-Za-z_]\w*\.[A-Za-z_]\w*$")


def _emit(probe: _Reader, events: tuple[str, ...]) -> list[tuple[str, EmitCall]]:
    """`[probe.emit]`: event = "role.method", or a table naming the argument that carries the event's kind.

    A method mapped to several events must say, for each, which argument tells them apart
    (else every call would be stamped as every event), and with different values.
    """
    table = probe.sub("emit")
    mapping: list[tuple[str, EmitCall]] = []
    for event, value in table.table.items():
        if event not in events:
            guess = suggest(event, events)
            hint = f"; did you mean {guess!r}?" if guess else ""
            raise table.error(event, f"{event!r} is not one of the expected events{hint}")
        if isinstance(value, Mapping):
            call = _emit_call(table.sub(event), event)
        else:
            method = table.string(event)
            if not _METHOD.match(method):
                raise table.error(
                    event, f"expected 'role.method' or a table {{ method = ..., argument = ... }}, got {method!r}"
                )
            call = EmitCall(event, method)
        for other, earlier in mapping:
            if earlier.method != call.method:
                continue
            if earlier.kind is None or call.kind is None:
                raise table.error(
                    event if call.kind is None else other,
                    f"{call.method!r} emits {other!r} and {event!r}: say which argument carries the event's kind, "
                    f'e.g. {event} = {{ method = "{call.method}", argument = "kind", value = "{event}" }}',
                )
            shared = [v for v in call.kind.values if any(json_equal(v, w) for w in earlier.kind.values)]
            if shared:
                raise table.error(
                    event,
                    f"{other!r} and {event!r} are both {call.method!r} with {shared[0]!r}: give each its own value",
                )
        mapping.append((event, call))
    return mapping


def _emit_call(entry: _Reader, event: str) -> EmitCall:
    """``{ method = "role.method", argument = "kind" | 0, value = ... }``; `value` defaults to the event's name."""
    entry.check_keys(TABLES["emit_call"])
    method = entry.string("method")
    if method is None:
        raise entry.error("method", "missing: the method that emits the event, as 'role.method'")
    if not _METHOD.match(method):
        raise entry.error("method", f"expected 'role.method', got {method!r}")
    argument = entry.table.get("argument")
    if argument is None:
        raise entry.error(
            "argument", 'missing: the argument that carries the event\'s kind, by name ("kind") or position (0)'
        )
    if isinstance(argument, bool) or not (
        (isinstance(argument, str) and _IDENTIFIER.fullmatch(argument)) or (isinstance(argument, int) and argument >= 0)
    ):
        raise entry.error(
            "argument", f"expected a parameter's name or its position from 0 (after self), got {_kind(argument)}"
        )
    value = entry.table.get("value", event)
    values = tuple(value) if isinstance(value, list) else (value,)
    if not values or not all(isinstance(v, str | int | float | bool) for v in values):
        raise entry.error("value", f"expected the kind's value or a list of values, got {_kind(value)}")
    return EmitCall(event, method, EmitKind(argument, values))


def _tool_call_ids(probe: _Reader, events: tuple[str, ...]) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """`tool_call_id_field` (a path, or event = path), or its old name `tool_id_field` (a path)."""
    value = probe.table.get("tool_call_id_field")
    old = _field_path(probe, "tool_id_field")
    if old is not None and value is not None and value != old:
        raise probe.error(
            "tool_id_field", "tool_id_field is the old name of tool_call_id_field: keep tool_call_id_field only"
        )
    if not isinstance(value, Mapping):
        return (_field_path(probe, "tool_call_id_field") if value is not None else old), ()
    table = probe.sub("tool_call_id_field")
    if not table.table:
        raise probe.error("tool_call_id_field", "an empty table: give a path, or event = path for each event")
    paths: list[tuple[str, str]] = []
    for name in table.table:
        if name not in events and name != TOOL_CALL_END:
            guess = suggest(name, [*events, TOOL_CALL_END])
            hint = f"; did you mean {guess!r}?" if guess else f"; expected events: {', '.join(events)}"
            raise table.error(name, f"{name!r} is not one of the expected events (or {TOOL_CALL_END}){hint}")
        paths.append((name, _field_path(table, name)))
    return None, tuple(paths)


def _trigger_file(probe: _Reader, root: Path) -> Path | None:
    name = probe.string("trigger_file")
    return (root / name).resolve() if name is not None else None


def _read_trigger(probe: _Reader, path: Path) -> Any:
    """The trigger in the JSON file at `path`: a JSON object, like an inline trigger."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise probe.error("trigger_file", f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise probe.error("trigger_file", f"cannot read {path}: {exc}") from None
    try:
        trigger = loads(text)
    except json.JSONDecodeError as exc:  # too deep included (boundedjson.TooDeep)
        raise probe.error(
            "trigger_file", f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(trigger, dict):
        raise probe.error("trigger_file", f"{path} holds {_kind(trigger)}; a trigger is a JSON object")
    return trigger
