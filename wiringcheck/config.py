"""Configuration: read `[tool.wiringcheck]` (or a `wiringcheck.toml`) into frozen `Settings`.

Everything that differs between backends (where startup stores its objects, what
they must look like, how a run is started, what the events are called) lives
here, never in code.  Validation is strict and total: every problem becomes a
`ConfigError` naming the file, the key path and what to do, never a traceback,
and no configuration text is ever evaluated as Python.
"""

from __future__ import annotations

import enum
import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wiringcheck.boundedjson import MAX_DEPTH, loads, value_depth
from wiringcheck.contract import parse_member
from wiringcheck.errors import (
    ConfigError,
    ContractSyntaxError,
    MatcherError,
    PathSyntaxError,
    ThresholdError,
    WireSyntaxError,
)
from wiringcheck.events import DEFAULT_BUDGET_MS, DEFAULT_EVENTS
from wiringcheck.protocol import (
    CORRELATIONS,
    PRESETS,
    Protocol,
    parse_matcher,
    parse_path,
)
from wiringcheck.suggest import suggest
from wiringcheck.thresholds import parse_thresholds
from wiringcheck.wires import parse_wire

__all__ = [
    "COUNTS",
    "DEFAULT_EVENTS",
    "LIMITS",
    "Auth",
    "ConfigError",
    "Isolation",
    "LoadSettings",
    "ProbeSettings",
    "RoleSpec",
    "Scenario",
    "Settings",
    "SetupStep",
    "TargetKind",
    "check_count",
    "check_number",
    "check_ws_url",
    "find_config",
    "load_settings",
    "parse_settings",
]


class TargetKind(enum.StrEnum):
    """How wiringcheck gets the backend: boot an ASGI app, enter a boot function, or connect to a URL."""

    APP = "app"
    BOOT = "boot"
    URL = "url"
    NONE = "none"


_IMPORT_REF = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_PATH = re.compile(r"^([A-Za-z_]\w*(\.[A-Za-z_]\w*)*:)?[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_WS_URL = re.compile(r"^wss?://[^\s/]+(/\S*)?$")


AUTH_METHODS = ("query", "header", "subprotocol", "first_message", "cookie")
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
    timeout: float = 5.0

    @property
    def target(self) -> str:
        return f"{self.method} {self.url or self.path}"


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
    tool_call_end: Any = None
    strict_lifecycle: bool = False
    setup: tuple[SetupStep, ...] = ()
    http_url: str | None = None
    preset: str | None = None
    gap_ms: float | bool = True
    """The gap bound: a number of milliseconds, True for the budget (the default), False for none."""
    once: tuple[str, ...] | None = None
    tool_pairs: tuple[tuple[str, str], ...] | None = None
    tool_id_field: str = "tool_call_id"
    assume_synced_clocks: bool = False
    emit: tuple[tuple[str, str], ...] = ()
    """(event, "role.method"): the backend method whose call emits each event, for emission latency."""

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
        token: each user's token, ``{n}`` replaced by its number (non-secret test tokens).
        tokens_env: environment variable holding one token per user, separated by commas or newlines.
        thresholds: ``"agent_thinking.p95 < 100"``-style conditions the test must meet; empty means the
            default (every event's p99 within the budget).
    """

    users: int = 10
    spawn_rate: float | None = None
    duration: float | None = None
    runs: int | None = None
    workers: int | None = None
    user_id: str = "wc-load-user-{n}"
    token: str | None = None
    tokens_env: str | None = None
    thresholds: tuple[str, ...] = ()

    @property
    def per_user_identity(self) -> bool:
        """Whether each user presents its own token (so another user's frame is cross-talk)."""
        return bool(self.tokens_env or (self.token and "{n}" in self.token))


@dataclass(frozen=True, slots=True)
class Isolation:
    """K users connected at once, each starting its own run: no frame may reach another user.

    User ``n`` (1..K) is ``{probe.user_id}-{n}`` in the trigger's ``{user_id}``; its token is
    the variable ``tokens_env[n-1]``, else `token` with ``{n}`` replaced (a non-secret
    development token), else the probe's own token.
    """

    enabled: bool = False
    users: int = 2
    tokens_env: tuple[str, ...] = ()
    token: str | None = None

    def token_for(self, user: int, environ: Mapping[str, str], fallback: str | None) -> str | None:
        """The token user `user` (from 1) sends."""
        if len(self.tokens_env) >= user and environ.get(self.tokens_env[user - 1]):
            return environ[self.tokens_env[user - 1]]
        if self.token:
            return self.token.replace("{n}", str(user))
        return fallback


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
        return replace(self, app=app, boot=boot, url=url)

    def with_probe(self, **changes: Any) -> Settings:
        return replace(self, probe=replace(self.probe, **changes))


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
    """`url` when it is a usable ``ws://`` or ``wss://`` URL.

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


# -- validation ----------------------------------------------------------------------------------

_TOP_KEYS = {
    "app",
    "factory",
    "boot",
    "url",
    "ws_path",
    "ws_url",
    "pythonpath",
    "startup_timeout",
    "shutdown_timeout",
    "trace",
    "roles",
    "wires",
    "must_call",
    "probe",
    "load",
    "isolation",
    "scenarios",
}
_ROLE_KEYS = {"path", "class", "members"}
_PROBE_KEYS = {
    "preset",
    "match",
    "ignore",
    "error_events",
    "batch_field",
    "run_id",
    "run_id_from",
    "tool_call_id_field",
    "tool_call_end",
    "strict_lifecycle",
    "setup",
    "http_url",
    "trigger",
    "auth",
    "events",
    "terminal",
    "type_field",
    "run_id_field",
    "timestamp_field",
    "budget_ms",
    "deadline",
    "connect_timeout",
    "linger_ms",
    "user_id",
    "percentile",
    "gap_ms",
    "once",
    "repeatable",
    "tool_pairs",
    "tool_id_field",
    "assume_synced_clocks",
    "emit",
}
_LOAD_KEYS = {"users", "spawn_rate", "duration", "runs", "workers", "user_id", "token", "tokens_env", "thresholds"}
_AUTH_KEYS = {"query", "header", "scheme", "token_env", "token", "subprotocol", "first_message", "ack", "cookie"}
_SETUP_KEYS = {"method", "path", "url", "json", "headers", "auth", "expect_status", "capture", "timeout"}
_HTTP_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PERCENTILES = ("p50", "p95", "max")


class _Reader:
    """Typed access to one table, producing errors that name the file and the key path."""

    def __init__(self, table: Mapping[str, Any], *, source: Path | None, prefix: str) -> None:
        self.table = table
        self.source = source
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(problem, source=self.source, key=self.key(name))

    def check_keys(self, allowed: set[str]) -> None:
        for name in self.table:
            if name not in allowed:
                guess = suggest(name, allowed)
                hint = f"; did you mean {guess!r}?" if guess else f"; known keys: {', '.join(sorted(allowed))}"
                raise self.error(name, f"unknown key{hint}")

    def sub(self, name: str) -> _Reader:
        value = self.table.get(name, {})
        if not isinstance(value, Mapping):
            raise self.error(name, f"expected a table, got {_kind(value)}")
        return _Reader(value, source=self.source, prefix=self.key(name))

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
    _WS_URL: '"ws://host:port/path" or "wss://..."',
    _HTTP_URL: '"http://host:port/path" or "https://..."',
}


def _kind(value: object) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    names = {bool: "a boolean", int: "an integer", float: "a number", list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def parse_settings(table: Mapping[str, Any], *, source: Path | None = None, prefix: str = "") -> Settings:
    """Validate a configuration table (already parsed from TOML) into `Settings`."""
    top = _Reader(table, source=source, prefix=prefix)
    top.check_keys(_TOP_KEYS)
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
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise roles_reader.error(name, "a role name must be an identifier")
        role = roles_reader.sub(name)
        role.check_keys(_ROLE_KEYS)
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
                guess = suggest(path[0], roles)
                hint = f"; did you mean {guess!r}?" if guess else ""
                raise top.error(f"wires[{index}]", f"{path[0]!r} is not a role defined under [roles]{hint}")

    must_call = top.strings("must_call")
    for index, text in enumerate(must_call):
        role_name, _, method = text.partition(".")
        if not method or "." in method:
            raise top.error(f"must_call[{index}]", f"expected 'role.method', got {text!r}")
        if role_name not in roles:
            guess = suggest(role_name, roles)
            hint = f"; did you mean {guess!r}?" if guess else ""
            raise top.error(f"must_call[{index}]", f"{role_name!r} is not a role defined under [roles]{hint}")

    probe = _parse_probe(top.sub("probe"))
    for event, method in probe.emit:
        role_name = method.partition(".")[0]
        if role_name not in roles:
            guess = suggest(role_name, roles)
            hint = f"; did you mean {guess!r}?" if guess else ""
            key = f"probe.emit.{event}"
            raise top.error(key, f"{role_name!r} is not a role defined under [roles]{hint}")

    pythonpath = tuple((root / entry).resolve() for entry in top.strings("pythonpath", (".",)))
    probe = _parse_probe(top.sub("probe"))

    return Settings(
        source=source,
        root=root,
        app=app,
        factory=top.boolean("factory", None),
        boot=boot,
        url=url,
        ws_path=ws_path,
        ws_url=top.url("ws_url"),
        pythonpath=pythonpath,
        startup_timeout=top.number("startup_timeout", Settings().startup_timeout),
        shutdown_timeout=top.number("shutdown_timeout", Settings().shutdown_timeout),
        trace=top.boolean("trace", True),
        roles=roles,
        wires=wires,
        must_call=must_call,
        probe=probe,
        load=_parse_load(top.sub("load"), probe),
        isolation=_parse_isolation(top.sub("isolation")),
        scenarios=_parse_scenarios(top, roles),
    )


_NOT_INHERITED_WITH_EVENTS = ("once", "repeatable", "tool_pairs", "emit", "terminal")
"""Keys of `[probe]` a scenario that names its own `events` does not inherit: they name the base's events."""


def _parse_scenarios(top: _Reader, roles: Mapping[str, RoleSpec]) -> tuple[Scenario, ...]:
    """`[[scenarios]]`: each a name and probe keys laid over `[probe]`, validated like it."""
    value = top.table.get("scenarios", [])
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise top.error("scenarios", f"expected an array of tables ([[scenarios]]), got {_kind(value)}")
    base = top.table.get("probe", {})
    base = base if isinstance(base, Mapping) else {}
    scenarios: list[Scenario] = []
    for index, table in enumerate(value):
        reader = _Reader(table, source=top.source, prefix=top.key(f"scenarios[{index}]"))
        reader.check_keys({"name"} | _PROBE_KEYS)
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
        merged = {**inherited, **{key: item for key, item in table.items() if key != "name"}}
        probe = _parse_probe(_Reader(merged, source=top.source, prefix=reader.prefix))
        for event, method in probe.emit:
            if method.partition(".")[0] not in roles:
                raise reader.error(f"emit.{event}", f"{method.partition('.')[0]!r} is not a role defined under [roles]")
        scenarios.append(Scenario(name=name, probe=probe))
    return tuple(scenarios)


_ISOLATION_KEYS = {"enabled", "users", "tokens_env", "token"}
MAX_USERS = 16
"""Concurrent users an isolation check connects at most."""


def _parse_isolation(table: _Reader) -> Isolation:
    """`[isolation]`: present means enabled (unless ``enabled = false``); 2 users by default."""
    table.check_keys(_ISOLATION_KEYS)
    users = table.table.get("users", 2)
    if isinstance(users, bool) or not isinstance(users, int) or not 2 <= users <= MAX_USERS:
        raise table.error("users", f"expected a whole number of users from 2 to {MAX_USERS}, got {_kind(users)}")
    tokens_env = table.strings("tokens_env")
    if tokens_env and len(tokens_env) < users:
        raise table.error("tokens_env", f"names {len(tokens_env)} variable(s) for {users} users: one per user")
    token = table.string("token")
    if token is not None and tokens_env == () and "{n}" not in token:
        raise table.error("token", "must contain {n} (the user's number), or every user would be the same user")
    return Isolation(
        enabled=bool(table.table) and bool(table.boolean("enabled", True)),
        users=users,
        tokens_env=tokens_env,
        token=token,
    )


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
    merged = {**base, **probe.table}
    if isinstance(probe.table.get("match", {}), Mapping):
        merged["match"] = {**base.get("match", {}), **probe.table.get("match", {})}
    return _Reader(merged, source=probe.source, prefix=probe.prefix)


def _parse_auth(reader: _Reader, *, websocket: bool = True) -> Auth:
    allowed = _AUTH_KEYS if websocket else {"query", "header", "scheme", "token_env", "token", "cookie"}
    reader.check_keys(allowed)
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
    if auth.enabled and not (auth.token_env or auth.token):
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
        step = _Reader(value[index], source=probe.source, prefix=probe.key(f"setup[{index}]"))
        step.check_keys(_SETUP_KEYS)
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
        for name, where in capture.table.items():
            if not re.fullmatch(r"[A-Za-z_]\w*", name):
                raise capture.error(name, "a placeholder name must be an identifier")
            if not isinstance(where, str):
                raise capture.error(name, f"expected a field path into the JSON response, got {_kind(where)}")
            _field_path(capture, name)
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
                capture=tuple(capture.table.items()),
                timeout=step.number("timeout", 5.0),
            )
        )
    return tuple(steps)


def _parse_probe(probe: _Reader) -> ProbeSettings:
    probe.check_keys(_PROBE_KEYS)
    probe = _with_preset(probe)
    defaults = ProbeSettings()

    trigger = _json_template(probe, "trigger", defaults.trigger)

    type_field = _field_path(probe, "type_field", defaults.type_field)
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

    percentile = probe.string("percentile", "max")
    if percentile not in _PERCENTILES:
        raise probe.error("percentile", f"expected one of {', '.join(_PERCENTILES)}, got {percentile!r}")

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
        tool_call_id_field=_field_path(probe, "tool_call_id_field"),
        tool_call_end=tool_call_end,
        strict_lifecycle=bool(probe.boolean("strict_lifecycle", False)),
        setup=_parse_setup(probe, type_field),
        http_url=probe.string("http_url", pattern=_HTTP_URL),
        preset=probe.string("preset"),
        gap_ms=_gap(probe),
        once=_once(probe, events, terminal),
        tool_pairs=_tool_pairs(probe, events),
        tool_id_field=probe.string("tool_id_field", defaults.tool_id_field),
        assume_synced_clocks=bool(probe.boolean("assume_synced_clocks", False)),
        emit=_emit(probe, events),
    )


def _parse_load(load: _Reader, probe: ProbeSettings) -> LoadSettings:
    load.check_keys(_LOAD_KEYS)
    defaults = LoadSettings()
    if "duration" in load.table and "runs" in load.table:
        raise load.error("runs", "give a duration or a number of runs per user, not both")
    thresholds = load.strings("thresholds")
    try:
        parse_thresholds(thresholds, probe.events)
    except ThresholdError as exc:
        key = "thresholds" if exc.index is None else f"thresholds[{exc.index}]"
        raise load.error(key, str(exc)) from None
    token = load.string("token")
    tokens_env = load.string("tokens_env")
    if token and tokens_env:
        raise load.error(
            "tokens_env", "give per-user tokens as a template (token) or a variable (tokens_env), not both"
        )
    if (token or tokens_env) and not probe.auth.enabled:
        raise load.error(
            "token" if token else "tokens_env",
            "the probe sends no token: say how under [probe] auth (query = 'token' or header = ...)",
        )
    spawn_rate = load.table.get("spawn_rate")
    return LoadSettings(
        users=load.integer("users", defaults.users),
        spawn_rate=load.number("spawn_rate", 1.0) if spawn_rate is not None else None,
        duration=load.number("duration", 1.0) if "duration" in load.table else None,
        runs=load.integer("runs", None),
        workers=load.integer("workers", None),
        user_id=load.string("user_id", defaults.user_id),
        token=token,
        tokens_env=tokens_env,
        thresholds=thresholds,
    )


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


def _emit(probe: _Reader, events: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    table = probe.sub("emit")
    mapping: list[tuple[str, str]] = []
    for event in table.table:
        if event not in events:
            guess = suggest(event, events)
            hint = f"; did you mean {guess!r}?" if guess else ""
            raise table.error(event, f"{event!r} is not one of the expected events{hint}")
        method = table.string(event)
        if not _METHOD.match(method):
            raise table.error(event, f"expected 'role.method', got {method!r}")
        mapping.append((event, method))
    return tuple(mapping)
