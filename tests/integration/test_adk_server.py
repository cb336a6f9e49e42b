"""Google ADK's own API server (`fixtures/adk`), checked by `preset = "adk"` alone.

The server is ADK's (``get_fast_api_app``, FastAPI, in-memory sessions) under uvicorn on
127.0.0.1, its model a scripted `BaseLlm`: no network.  The preset creates the session
over REST (the app's name from ``/list-apps``), posts the run to ``/run_sse``, reads the
thought and the ``functionCall`` of one ADK event in the order of its parts, takes the
response for the start and the end of its body for the end, and warms the server up
once per boot.  The faults are in the fault catalog.
"""

from __future__ import annotations

import pytest

from wiringcheck.backend import booted
from wiringcheck.commands.probe import record_runs
from wiringcheck.config import load_settings
from wiringcheck.run.judge import judge
from wiringcheck.run.request import http_base
from wiringcheck.runner import run

from .helpers import REPO, codes

ADK = REPO / "fixtures" / "adk" / "wiringcheck.toml"


def test_adk_api_server_passes_with_the_preset_alone():
    """Every check runs and passes; the run's id is the invocation id ADK assigned; the scripted turn is one
    ADK event whose parts are a thought, then a functionCall: two of the five events, in that order."""
    report = run(load_settings(ADK))

    first = [record.type for record in report.events if record.index == 0 and not record.implied]
    assert (set(), True, []) == (codes(report), report.ok, [c.name for c in report.checks if c.status == "skipped"])
    assert (True, ["agent_thinking", "tool_executing"]) == (str(report.extra["run_id"]).startswith("e-"), first)


@pytest.mark.asyncio
async def test_a_running_adk_server_is_probed_by_its_url_with_the_same_preset():
    """The preset's setup steps, warm-up and stream work against the server's URL, as `wiringcheck probe` runs."""
    settings = load_settings(ADK)
    async with booted(settings) as backend:
        url = http_base(backend.ws_url) + settings.probe.path

        runs = await record_runs(url, settings, {}, runs=2)
        verdicts = [judge(recording, backend.expectation) for recording in runs.recordings]

    assert [[], []] == [verdict.findings for verdict in verdicts]
