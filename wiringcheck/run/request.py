"""What every transport needs before its first byte: where to go, with which credentials, what to send,
and the run's bounds, built once from the probe settings.

Pure: the placeholders (``{run_id}``, ``{thread_id}``, ``{user_id}``, and any value a setup
step captured) fill the URL, the trigger and the auth templates; the token is placed the
way `probe.auth` says (query, header, subprotocol, first message, cookie).  A value that
goes into a URL is %-encoded there, so a captured id can never add a path segment, a
query or a fragment.
"""

from __future__ import annotations

import base64
import functools
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from wiringcheck.protocol import Matcher, Protocol, parse_matcher, render_trigger

if TYPE_CHECKING:
    from wiringcheck.config import ProbeSettings

__all__ = [
    "MAX_BYTES",
    "MAX_FRAMES",
    "RunLimits",
    "RunRequest",
    "build_request",
    "fill_url",
    "http_base",
    "limits_of",
    "placeholders",
    "run_url",
    "token_forms",
]

MAX_FRAMES = 10_000
"""Frames recorded per run at most: past it the session stops listening (WC411), so a flood cannot stall the verdict."""

MAX_BYTES = 32 * 1024 * 1024
"""Bytes recorded per run at most, for the same reason (one message itself is at most 16 MiB)."""

EVIDENCE_MS = 300.0
"""How long the session keeps listening once the run can no longer pass, to record what still arrives."""


@dataclass(frozen=True, slots=True)
class RunLimits:
    """The bounds of one run, in seconds (None: unbounded, the deadline decides)."""

    connect_timeout: float
    deadline: float
    linger: float
    stall: float | None
    max_frames: int = MAX_FRAMES
    max_bytes: int = MAX_BYTES


def stall_after(budget_ms: float, gap_ms: float | None, evidence_ms: float = EVIDENCE_MS) -> float | None:
    """Seconds of silence after which a run can no longer pass and the session stops (None: wait for the deadline).

    The next expected event is overdue once the gap bound and the budget have both
    passed with nothing arriving; the session then listens `evidence_ms` more.
    """
    if gap_ms is None:
        return None
    return (gap_ms + budget_ms + evidence_ms) / 1000.0


def limits_of(probe: ProbeSettings) -> RunLimits:
    """The bounds the probe settings give one run."""
    return _limits(probe.connect_timeout, probe.deadline, probe.linger_ms, probe.budget_ms, probe.gap_bound)


@functools.lru_cache(maxsize=64)
def _limits(
    connect_timeout: float, deadline: float, linger_ms: float, budget_ms: float, gap: float | None
) -> RunLimits:
    # A load test makes thousands of runs from the same few settings: their bounds are computed once.
    return RunLimits(connect_timeout, deadline, linger_ms / 1000, stall_after(budget_ms, gap))


@dataclass(frozen=True, slots=True)
class RunRequest:
    """Everything needed to start one run: where, with which credentials, what to send, and when to stop.

    Attributes:
        secret: the token sent, if any (the configured tokens are known to `Settings.credentials`).
        secrets: credentials a setup step received for this run; whoever reports on the run scrubs them.
        server_run_id: the run id a setup step captured, for ``run_id = "server"``.
        ids: the ids this run sent, by kind (user, thread, run), for the identifier cross-check.
        earlier_runs: the same user's earlier runs (their late frames are its own).
    """

    url: str
    headers: tuple[tuple[str, str], ...]
    trigger: str
    run_id: str
    protocol: Protocol
    limits: RunLimits
    secret: str | None = None
    subprotocols: tuple[str, ...] = ()
    first_message: str | None = None
    ack: Matcher | None = None
    auth_method: str | None = None
    secrets: tuple[str, ...] = ()
    server_run_id: str | None = None
    ids: tuple[tuple[str, str], ...] = ()
    earlier_runs: tuple[str, ...] = ()
    transport: str = "websocket"
    method: str = "GET"
    """The HTTP method of the run's request (HTTP transports)."""
    completed_by: str | None = None
    """``end_of_stream``: the clean end of the response completes the run."""
    trigger_event: str = "message"
    """The socket.io event the trigger is emitted under."""
    namespace: str = "/"
    """The socket.io namespace the run connects to."""


def token_forms(token: str) -> tuple[str, ...]:
    """The token and its base64url form (how a subprotocol carries it), for placing and for scrubbing."""
    b64 = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
    return (token, b64)


def placeholders(probe: ProbeSettings, *, run_id: str | None = None) -> dict[str, str]:
    """The placeholders every run starts with: a fresh run id and thread id, the user id, and a fresh UUID
    (``{uuid}``, for servers that refuse any other id: Chainlit asserts a message id is a UUID4)."""
    return {
        "run_id": run_id or f"wc-{uuid.uuid4().hex[:12]}",
        "thread_id": f"wc-thread-{uuid.uuid4().hex[:8]}",
        "user_id": probe.user_id,
        "uuid": str(uuid.uuid4()),
    }


def fill_url(template: str, values: Mapping[str, str]) -> str:
    """`template` with each ``{name}`` replaced by its value, %-encoded: a value is one path segment or query value."""
    if "{" not in template:
        return template
    return str(render_trigger(template, {name: quote(value, safe="") for name, value in values.items()}))


def _with_token(values: Mapping[str, str], token: str) -> dict[str, Any]:
    """The placeholders of the auth templates: the run's, and the token raw and base64url-encoded."""
    raw, b64 = token_forms(token)
    return {**values, "token": raw, "token_b64url": b64}


def run_url(probe: ProbeSettings, url: str) -> str:
    """Where the run goes: a WebSocket URL as given; over HTTP, an http(s) URL as given when it names a route,
    else the URL's origin (or the served backend's) with `probe.path`.

    ``url = "http://host:8124"`` with ``preset = "langgraph"``: the preset's route on that server, as
    Locust's ``--host`` works, not a POST to ``/``.
    """
    if probe.transport == "websocket":
        return url
    if url.startswith(("http://", "https://")):
        parts = urlsplit(url)
        if parts.path not in ("", "/") or not probe.path or probe.transport == "socketio":
            return url
        return urlunsplit((parts.scheme, parts.netloc, probe.path, parts.query, parts.fragment))
    return http_base(url) + (probe.path or "/")


def http_base(ws_url: str, http_url: str | None = None) -> str:
    """Where setup steps go: `http_url`, or the WebSocket URL's origin over http(s)."""
    if http_url:
        return http_url.rstrip("/")
    parts = urlsplit(ws_url)
    scheme = {"wss": "https", "ws": "http"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "", "", ""))


def build_request(
    url: str,
    probe: ProbeSettings,
    environ: Mapping[str, str],
    *,
    run_id: str | None = None,
    values: Mapping[str, str] | None = None,
    secrets: tuple[str, ...] = (),
    server_run_id: str | None = None,
    earlier_runs: tuple[str, ...] = (),
    protocol: Protocol | None = None,
) -> RunRequest:
    """The URL, headers, subprotocols, first message and trigger of one run, with the token placed as configured.

    `values` are the run's placeholders (a setup step's captures among them); they fill
    the URL (``/runs/{run_id}``, %-encoded), the trigger and the auth templates.
    `protocol` saves rebuilding the protocol model when the caller makes many runs.
    """
    filled = dict(values) if values is not None else placeholders(probe, run_id=run_id)
    run_id = filled["run_id"]
    protocol = protocol if protocol is not None else probe.protocol()
    url = fill_url(url, filled)
    trigger = json.dumps(render_trigger(probe.trigger, filled))
    auth = probe.auth
    secret = auth.resolve(environ) if auth.enabled else None
    header_values = _with_token(filled, secret) if secret is not None else filled
    headers = [(name, str(render_trigger(value, header_values))) for name, value in probe.headers]
    subprotocols: tuple[str, ...] = ()
    first_message = None
    if secret is not None:
        if auth.query:
            parts = urlsplit(url)
            query = [*parse_qsl(parts.query, keep_blank_values=True), (auth.query, secret)]
            url = urlunsplit(parts._replace(query=urlencode(query)))
        elif auth.header:
            headers.append((auth.header, auth.header_value(secret)))
        elif auth.subprotocol:
            subprotocols = (render_trigger(auth.subprotocol, _with_token(filled, secret)),)
        elif auth.first_message is not None:
            first_message = json.dumps(render_trigger(auth.first_message, _with_token(filled, secret)))
        elif auth.cookie:
            headers.append(("Cookie", f"{auth.cookie}={secret}"))
    if auth.carries_no_token:
        first_message = json.dumps(render_trigger(auth.first_message, filled))
    ack = parse_matcher(auth.ack, protocol.type_path) if first_message is not None and auth.ack is not None else None
    return RunRequest(
        url=url,
        headers=tuple(headers),
        trigger=trigger,
        run_id=run_id,
        protocol=protocol,
        limits=limits_of(probe),
        secret=secret,
        subprotocols=subprotocols,
        first_message=first_message,
        ack=ack,
        auth_method=auth.method if secret is not None else None,
        secrets=tuple(value for value in secrets if value),
        server_run_id=server_run_id if probe.run_id == "server" else None,
        ids=(("user", filled.get("user_id", probe.user_id)), ("thread", filled.get("thread_id", "")), ("run", run_id)),
        earlier_runs=earlier_runs,
        transport=probe.transport,
        method=probe.method,
        completed_by=probe.completed_by,
        trigger_event=probe.trigger_event,
        namespace=probe.namespace,
    )
