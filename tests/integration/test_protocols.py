"""Backends wiringcheck did not write, over real sockets: auth, correlation, matchers, error terminals.

Each test configures the probe the way a user would, in a `[probe]` table, against a
server speaking that protocol, and checks the report of a real `url` run.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from wiringcheck.config import parse_settings
from wiringcheck.runner import run_async

from .helpers import codes
from .protocol_server import TOKEN, reference_run, serve_protocol

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
TOKEN_ENV = "WC_PROTOCOL_TOKEN"


async def probe(url: str, probe_table: dict[str, Any], *, token: str = TOKEN):
    # These tests are about the protocol, not the pace: a budget and a deadline far from what a local run takes,
    # however busy the machine (the 100 ms default budget failed a run here beside five other workers).
    limits = {"deadline": 5.0, "connect_timeout": 5.0, "budget_ms": 2000}
    settings = parse_settings({"url": url, "probe": {**limits, **probe_table}})
    return await run_async(settings, environ={TOKEN_ENV: token})


AUTH = {
    "query": {"query": "token"},
    "header": {"header": "Authorization"},
    "header_raw": {"header": "X-Api-Key", "scheme": ""},
    "subprotocol": {"subprotocol": "jwt.{token_b64url}"},
    "first_message": {"first_message": {"token": "{token}"}, "ack": {"op": "welcome"}},
    "cookie": {"cookie": "session"},
}


@pytest.mark.asyncio
@pytest.mark.parametrize("method", sorted(AUTH))
async def test_each_auth_method_is_accepted(method):
    """The token, sent the configured way, opens the run: every event arrives."""
    async with serve_protocol(reference_run, auth=method) as served:
        report = await probe(served.url, {"auth": {**AUTH[method], "token_env": TOKEN_ENV}})

    assert (set(), True) == (codes(report), report.ok)


def logs_a_warning(trigger: dict[str, Any]) -> list[Any]:
    """The reference run, served by a process that logs a warning of its own meanwhile."""
    logging.getLogger("host.suite").warning("a thread of the suite this probe runs in complains")
    return reference_run(trigger)


@pytest.mark.asyncio
async def test_what_the_probing_process_logs_is_never_the_url_backends_warning():
    """A URL's backend runs elsewhere: a warning logged in the probe's own process (the pytest plugin's host suite,
    a server the test itself runs) is kept as evidence, and never reported as the backend's (WC105)."""
    async with serve_protocol(logs_a_warning) as served:
        report = await probe(served.url, {})

    assert (set(), True) == (codes(report), report.ok)
    assert ["host.suite"] == [record.logger for record in report.logs]


@pytest.mark.asyncio
@pytest.mark.parametrize("method", sorted(AUTH))
async def test_a_refused_token_is_wc413_naming_the_method_and_the_answer(method):
    """A wrong token is WC413 (never WC401), saying how it was sent and what the server answered."""
    async with serve_protocol(reference_run, auth=method) as served:
        report = await probe(served.url, {"auth": {**AUTH[method], "token_env": TOKEN_ENV}}, token="wrong-token")

    (finding,) = report.findings
    answer = "code 4401" if method == "first_message" else "HTTP 401"
    sent_as = "header" if method.startswith("header") else method
    assert ("WC413", f"({sent_as})", answer, "wrong-token") == (
        finding.code,
        f"({finding.data['auth_method']})",
        answer if answer in finding.message else finding.message,
        "wrong-token" if "wrong-token" not in str(report) else "leaked",
    )


def server_assigned(trigger: dict[str, Any]) -> list[Any]:
    """This run under an id the server chose, with another run's event in the middle."""
    ours = [{"type": kind, "run_id": "srv-42"} for kind in EVENTS]
    return [ours[0], {"type": "agent_thinking", "run_id": "srv-other"}, *ours[1:]]


def connection_scoped(trigger: dict[str, Any]) -> list[Any]:
    """Every frame names a different run id: only the socket says they belong together."""
    return [{"type": kind, "run_id": f"step-{n}"} for n, kind in enumerate(EVENTS)]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("mode", "script", "extra"),
    [
        ("client", reference_run, {}),
        ("server", server_assigned, {"other_runs": 1, "run_id": "srv-42"}),
        ("connection", connection_scoped, {"other_runs": 0}),
    ],
)
async def test_correlation_modes(mode, script, extra):
    """client: the probe's run id; server: captured from the run's first event; connection: the socket's frames."""
    async with serve_protocol(script) as served:
        report = await probe(served.url, {"run_id": mode})

    assert (set(), extra) == (codes(report), {key: report.extra[key] for key in extra})


def nested(trigger: dict[str, Any]) -> list[Any]:
    inner = ["RunStarted", "Thought", "ToolCallRequestEvent", "ToolCallExecutionEvent"]
    frames: list[Any] = [{"type": "message", "data": {"type": kind}} for kind in inner]
    return [{"type": "heartbeat"}, *frames, {"type": "completion", "status": "complete"}]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "match",
    [
        pytest.param(
            {"agent_started": "RunStarted", "agent_thinking": "Thought", "tool_executing": "ToolCallRequestEvent",
             "tool_completed": "ToolCallExecutionEvent", "agent_completed": {"type": "completion"}},
            id="names on a nested type field",
        ),
        pytest.param(
            {"agent_started": ["RunStarted", "TaskStarted"], "agent_thinking": ["Thought"],
             "tool_executing": ["ToolCallRequestEvent"], "tool_completed": ["ToolCallExecutionEvent"],
             "agent_completed": {"type": "completion", "status": ["complete", "done"]}},
            id="lists of names",
        ),
        pytest.param(
            {"agent_started": {"type": "message", "data.type": "RunStarted"},
             "agent_thinking": {"type": "message", "data": {"type": "Thought"}},
             "tool_executing": {"data.type": "ToolCallRequestEvent"},
             "tool_completed": {"data.type": "ToolCallExecutionEvent"},
             "agent_completed": {"type": "completion", "status": "complete"}},
            id="tables, quoted and nested",
        ),
    ],
)  # fmt: skip
async def test_matcher_forms_over_a_nested_envelope(match):
    """Names, lists and condition tables all map a nested envelope onto the five events."""
    async with serve_protocol(nested) as served:
        report = await probe(
            served.url,
            {"type_field": "data.type", "run_id": "connection", "match": match, "ignore": [{"type": "heartbeat"}]},
        )

    assert (set(), 1) == (codes(report), report.extra["ignored_frames"])


def fails_then_idles(trigger: dict[str, Any]) -> list[Any]:
    return [
        {"type": "agent_started", "run_id": trigger["run_id"]},
        {"type": "completion", "status": "error", "error": f"provider rejected the key {TOKEN}"},
        ("sleep", 30.0),
    ]


def closes_with_1011(trigger: dict[str, Any]) -> list[Any]:
    return [{"type": "agent_started", "run_id": trigger["run_id"]}, ("close", 1011)]


@pytest.mark.asyncio
@pytest.mark.parametrize(("script", "code"), [(fails_then_idles, "WC412"), (closes_with_1011, "WC408")])
async def test_a_failing_backend_never_costs_the_deadline(script, code):
    """An error terminal (or an error close) ends the run at once: far sooner than the 5 s deadline."""
    async with serve_protocol(script) as served:
        began = time.monotonic()
        report = await probe(served.url, {"error_events": [{"type": "completion", "status": "error"}]})
        took = time.monotonic() - began

    assert ({code, "WC402"}, True) == (codes(report), took < 1.5)


@pytest.mark.asyncio
async def test_an_error_payload_is_shown_scrubbed():
    """WC412 shows what the backend said, with the probe's token scrubbed from it."""
    async with serve_protocol(fails_then_idles) as served:
        report = await probe(
            served.url,
            {
                "error_events": [{"type": "completion", "status": "error"}],
                "auth": {"header": "X-Unused", "token_env": TOKEN_ENV},
            },
        )

    (finding,) = [f for f in report.findings if f.code == "WC412"]
    assert ("provider rejected the key ***" in finding.message, TOKEN in str(report)) == (True, False)


def test_a_credential_a_setup_step_received_is_scrubbed():
    """A captured ticket (its name says it is a credential) never appears in the report, not even in WC412."""
    from wiringcheck.runner import run

    from .helpers import REPO

    settings = parse_settings(
        {
            "app": "tests.integration.edge_apps:ticketed",
            "ws_path": "/ws?ticket={ws_ticket}",
            "probe": {
                "deadline": 2.0,
                "error_events": ["failed"],
                "setup": [{"path": "/tickets", "expect_status": 201, "capture": {"ws_ticket": "ticket"}}],
            },
        },
        source=REPO / "wiringcheck.toml",
    )

    report = run(settings)

    (finding,) = [f for f in report.findings if f.code == "WC412"]
    assert ("ticket *** expired" in finding.message, "tk-" in str(report)) == (True, False)


@pytest.mark.asyncio
@pytest.mark.parametrize(("token", "end"), [(TOKEN, "terminal"), ("wrong-token", "auth_rejected")])
async def test_the_sync_client_speaks_first_message_auth_too(token, end):
    """perform_sync (the Locust user's way) waits for the ack, and a refusal is the same auth_rejected end."""
    import asyncio

    from wiringcheck.run.drive import perform_sync

    probe_settings = parse_settings(
        {"probe": {"deadline": 2.0, "auth": {**AUTH["first_message"], "token_env": TOKEN_ENV}}}
    ).probe
    async with serve_protocol(reference_run, auth="first_message") as served:
        recording = await asyncio.to_thread(perform_sync, served.url, probe_settings, {TOKEN_ENV: token})

    assert (end, "first_message") == (recording.end, recording.auth_method)
