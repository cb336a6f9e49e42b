"""pydantic-ai's own AG-UI server (`fixtures/agui`), checked by `preset = "ag-ui"` and its path alone.

The server is pydantic-ai's (``AGUIAdapter.dispatch_request`` under uvicorn on 127.0.0.1),
its model a scripted `FunctionModel`: no network.  Its faults are in the fault catalog;
here, what only a real AG-UI server shows: the preset's request is one pydantic-ai accepts,
the same app over a WebSocket still passes with ``transport = "websocket"``, and on the
streams this server sends over SSE the preset agrees with ag-ui-validate, each reading the
server with its own client.
"""

from __future__ import annotations

import importlib.util

import pytest

from wiringcheck.backend import booted
from wiringcheck.config import load_settings, parse_settings
from wiringcheck.run.judge import judge
from wiringcheck.run.recording import RecordingEnd
from wiringcheck.run.request import http_base
from wiringcheck.runner import run

from ..conftest import MS
from ..test_agui_preset import ADDED, COMPARED_RULES, OURS
from .helpers import FAULTS, REPO, codes

AGUI = REPO / "fixtures" / "agui" / "wiringcheck.toml"

# Imported where it is used: pytest would otherwise import it in every worker, to collect this module.
pytestmark = pytest.mark.skipif(importlib.util.find_spec("ag_ui_validate") is None, reason="ag-ui-validate is missing")


def test_pydantic_ai_agui_server_passes_with_the_preset_and_its_path_alone():
    """Every check runs and passes; the configuration names the app, the preset and the path, nothing else."""
    settings = load_settings(AGUI)

    report = run(settings)

    assert (set(), True, []) == (codes(report), report.ok, [c.name for c in report.checks if c.status == "skipped"])
    assert ("sse", "/agent") == (settings.probe.transport, settings.probe.path)


def test_the_same_server_over_a_websocket_passes_with_transport_websocket():
    """AG-UI on a team's own socket: the preset with `transport = "websocket"` probes it as before issue 18."""
    probe = {"preset": "ag-ui", "transport": "websocket"}
    settings = parse_settings({"app": "fixtures.agui.app:create_app", "ws_path": "/ws", "probe": probe})

    report = run(settings)

    assert (set(), True) == (codes(report), report.ok)


# -- agreeing with ag-ui-validate over SSE --------------------------------------------------------------

SERVERS = {
    # app: (ag-ui-validate errs, wiringcheck errs on the rules both check, wiringcheck adds a missing result)
    "healthy": (False, False, False),
    "agui_run_started_twice": (True, True, False),
    "agui_run_finished_dropped": (True, True, False),
    "agui_tool_result_dropped": (False, False, True),
}


def _settings(name: str):
    return load_settings(AGUI if name == "healthy" else FAULTS / name / "wiringcheck.toml")


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(SERVERS))
async def test_the_preset_agrees_with_ag_ui_validate_on_the_real_servers_streams(name):
    """ag-ui-validate's own SSE client and wiringcheck's each run the server once: the same verdict on the shared
    lifecycle and tool-call rules; wiringcheck alone sees a tool call that never gets its result."""
    from ag_ui_validate import pytest_plugin as validator

    async with booted(_settings(name)) as backend:
        url = http_base(backend.ws_url) + "/agent"
        theirs = await validator.validate_agui_endpoint(url, timeout_ms=int(5000 * MS * 1000))
        recording = await backend.probe()
        verdict = judge(recording, backend.expectation)

    their_rules = sorted({d.rule for d in theirs.diagnostics if d.severity == "error" and d.rule in COMPARED_RULES})
    shared = sorted(f.message for f in verdict.findings if f.code in OURS and ADDED not in f.message)
    added = [f.code for f in verdict.findings if ADDED in f.message]
    assert SERVERS[name] == (bool(their_rules), bool(shared), bool(added)), (their_rules, shared, added)
    assert recording.end in (RecordingEnd.TERMINAL, RecordingEnd.CLOSED)
