"""`probe.warmup`: unjudged runs made once per boot, before the first judged one.

A real server's first run after boot pays for what it imports lazily (Google ADK's
blocks its loop for a tenth of a second); a warm-up run takes that cost, and the judged
run is like every later one.  The backend here makes the first run after its boot
visibly different (it drops an event), so which run was judged needs no clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from wiringcheck.backend import booted
from wiringcheck.commands.probe import record_runs
from wiringcheck.config import DEFAULT_EVENTS, parse_settings
from wiringcheck.findings import Severity
from wiringcheck.run.judge import judge
from wiringcheck.run.request import http_base

from .helpers import REPO

PATH = "/runs"

REQUESTS: list[str] = []
"""The paths of the requests these apps handled in this process (read by the fresh-process test's import hook)."""


def create_app(*, broken_first: bool = True) -> Starlette:
    """An SSE backend whose first run after boot never sends tool_completed; every later run is whole.

    Its events name no run: every run sends the same bytes, as many servers' do.
    """

    async def stream(request: Request) -> StreamingResponse:
        REQUESTS.append(request.url.path)
        request.app.state.runs += 1
        first = broken_first and request.app.state.runs == 1

        async def events() -> AsyncIterator[str]:
            for name in DEFAULT_EVENTS:
                if not (first and name == "tool_completed"):
                    yield f"data: {json.dumps({'type': name})}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.runs = 0
        yield

    return Starlette(routes=[Route(PATH, stream, methods=["POST"])], lifespan=lifespan)


def create_whole_app() -> Starlette:
    """The same backend with every run whole, the first one too."""
    return create_app(broken_first=False)


def settings_with(**probe: Any):
    table = {"transport": "sse", "path": PATH, "trigger": {"text": "hi"}, "deadline": 2.0, **probe}
    return parse_settings({"app": "tests.integration.test_warmup:create_app", "probe": table})


def missing(backend: Any, recording: Any) -> list[str]:
    return [name for name, found in judge(recording, backend.expectation).per_event.items() if found]


@pytest.mark.asyncio
async def test_without_warmup_the_first_run_after_boot_is_the_one_judged():
    """The control: with no warm-up, the run judged is the boot's first, which drops tool_completed."""
    async with booted(settings_with()) as backend:
        recording = await backend.probe()

        assert (["tool_completed"], 1) == (missing(backend, recording), backend.app.state.runs)


@pytest.mark.asyncio
async def test_a_warmup_run_goes_first_and_is_not_judged():
    """`warmup = 1`: the boot's first run is made and dropped; the judged run is the second, and whole."""
    async with booted(settings_with(warmup=1)) as backend:
        recording = await backend.probe()

        assert ([], 2) == (missing(backend, recording), backend.app.state.runs)


@pytest.mark.asyncio
async def test_the_judged_runs_events_are_timed_from_their_own_hand_off_not_the_warmups():
    """The warm-up sent the very same bytes earlier: each judged frame still pairs with a hand-off after its trigger."""
    async with booted(settings_with(warmup=1)) as backend:
        recording = await backend.probe()

    handed_off = [frame.sent_at for frame in recording.frames]
    assert (5, True) == (len(handed_off), all(at is not None and at >= recording.trigger_at for at in handed_off))


@pytest.mark.asyncio
async def test_the_warmup_is_made_once_per_boot():
    """A second probe of the same booted backend (a scenario, a second fixture use) makes no second warm-up."""
    async with booted(settings_with(warmup=2)) as backend:
        first = await backend.probe()
        second = await backend.probe()

        assert ([], [], 4) == (missing(backend, first), missing(backend, second), backend.app.state.runs)


@pytest.mark.asyncio
async def test_the_probe_command_warms_a_running_server_up_before_its_runs():
    """`wiringcheck probe URL --runs 2` with `warmup = 1`: three requests, the two judged ones whole."""
    settings = settings_with(warmup=1)
    async with booted(settings) as backend:
        url = http_base(backend.ws_url) + PATH

        runs = await record_runs(url, settings, {}, runs=2)

        assert ([[], []], 3) == ([missing(backend, each) for each in runs.recordings], backend.app.state.runs)


WHEN_HTTPX = """
import os, sys


class WhenHttpx:
    \"\"\"Finds nothing; writes down how many requests the backend had handled when httpx was first imported.\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name == "httpx" and not os.path.exists(os.environ["WHEN_HTTPX"]):
            backend = sys.modules.get("tests.integration.test_warmup")
            with open(os.environ["WHEN_HTTPX"], "w") as marker:
                marker.write(str(len(backend.REQUESTS) if backend is not None else 0))
        return None


sys.meta_path.insert(0, WhenHttpx())
"""


def test_the_first_sse_run_of_a_fresh_process_is_not_late_by_what_the_client_imports(tmp_path):
    """A backend that imports no httpx of its own, probed by a fresh `wiringcheck run`: its first (and only) run
    is on time. The SSE parser imports httpx; imported after the first event arrived, that counted as every
    event's delivery latency (WC405). An import hook (a `sitecustomize` on PYTHONPATH) writes down how many
    requests the backend had handled when httpx was imported: none, the client imports it before it sends."""
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(WHEN_HTTPX, encoding="utf-8")
    config = tmp_path / "wiringcheck.toml"
    config.write_text(
        f'app = "tests.integration.test_warmup:create_whole_app"\npythonpath = [{json.dumps(str(REPO))}]\n\n'
        f'[probe]\ntransport = "sse"\npath = "{PATH}"\ntrigger = {{ text = "hi" }}\nbudget_ms = 1000\n',
        encoding="utf-8",
    )
    marker = tmp_path / "when-httpx.txt"
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "hook"), "WHEN_HTTPX": str(marker)}

    done = subprocess.run(
        [sys.executable, "-m", "wiringcheck", "run", "--config", str(config), "--format", "json"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path, env=env,
    )  # fmt: skip

    report = json.loads(done.stdout)
    found = [finding["code"] for check in report["checks"] for finding in check["findings"]]
    assert (0, []) == (done.returncode, found), done.stderr
    assert "0" == marker.read_text()  # httpx was imported, before the backend handled the run's request


@pytest.mark.parametrize(("warmup", "fails"), [(0, True), (1, False)])
def test_load_warms_the_booted_backend_up_once_before_its_users_start(warmup, fails):
    """`wiringcheck load` with `warmup = 1`: one unjudged run after boot, then each user's run whole.
    Without it (the control), the first user's run is the boot's first and drops tool_completed."""
    import asyncio

    from wiringcheck.load.command import LoadOptions, run_load

    settings = settings_with(warmup=warmup)
    options = LoadOptions(users=2, spawn_rate=2.0, duration=None, runs=1, workers=1, grace=1.0)
    served: list[int] = []

    class Counting:
        def phase_started(self, phase: str) -> None:
            served.append(phase)

    report = asyncio.run(run_load(settings, options, environ={}, observer=Counting()))
    errors = [
        (check.name, finding.code)
        for check in report.checks
        for finding in check.findings
        if finding.severity is Severity.ERROR
    ]

    assert ([("event: tool_completed", "WC502")] if fails else []) == errors
    assert ["warm-up"] * warmup == [phase for phase in served if phase == "warm-up"]
