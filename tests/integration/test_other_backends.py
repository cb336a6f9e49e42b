"""The two reference backends wiringcheck did not write, checked by their configuration alone.

`fixtures/studio` (Starlette: REST setup, subprotocol auth, server run ids, nested envelope,
module-global managers) and `fixtures/relay` (plain websockets, boot target: first-message
auth, batches, heartbeats, an error terminal).
"""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from wiringcheck.backend import booted
from wiringcheck.config import load_settings
from wiringcheck.run.judge import judge as check_events
from wiringcheck.runner import run

from .helpers import REPO, check, codes

STUDIO = REPO / "fixtures" / "studio" / "wiringcheck.toml"
RELAY = REPO / "fixtures" / "relay" / "wiringcheck.toml"


@pytest.mark.parametrize("config", [STUDIO, RELAY], ids=["studio", "relay"])
def test_healthy_backend_passes_by_configuration_alone(config):
    """Every role, contract, wire and event check passes; nothing is skipped."""
    report = run(load_settings(config))

    assert (set(), True, []) == (codes(report), report.ok, [c.name for c in report.checks if c.status == "skipped"])


def test_studio_roles_are_module_globals_built_by_the_lifespan():
    """`pkg.deps:_run_manager.db` reaches the lifespan's objects, and the wire between them holds."""
    report = run(load_settings(STUDIO))

    assert ["passed"] * 3 == [
        check(report, name).status for name in ("role: store", "role: manager", "wire: manager.db is store")
    ]


def test_studio_run_id_is_the_one_the_server_assigned():
    """The run id in the report is the one the REST call created, not the probe's own."""
    report = run(load_settings(STUDIO))

    assert str(report.extra["run_id"]).startswith("run-")


def test_relay_heartbeats_are_counted_not_judged():
    """The relay's heartbeats run all along; they are counted as ignored frames."""
    report = run(load_settings(RELAY))

    assert (True, True) == (report.ok, report.extra["ignored_frames"] > 0)


@pytest.mark.asyncio
async def test_two_boots_in_one_session_each_set_up_their_own_run():
    """Booting the studio twice in one process works: each boot's probe creates its own run over REST."""
    settings = load_settings(STUDIO)
    run_ids = []
    for _ in range(2):
        async with booted(settings) as backend:
            recording = await backend.probe()
            verdict = check_events(recording, backend.expectation)
            run_ids.append(verdict.run_id)
            assert [] == [f for f in verdict.findings if f.severity == "error"]

    assert 2 == len(set(run_ids))


@pytest.mark.asyncio
async def test_probe_runs_five_times_against_the_setup_step_backend():
    """`wiringcheck probe --runs 5` sets each run up afresh (a studio run can be streamed only once)."""
    settings = load_settings(STUDIO)
    async with booted(settings) as backend:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "wiringcheck", "probe", backend.ws_url, "--runs", "5",
            "--config", str(STUDIO), "--format", "json",
            cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        async with asyncio.timeout(60):
            out, err = await process.communicate()

    report = json.loads(out)
    assert (0, 5, []) == (
        process.returncode,
        report["extra"]["completed_runs"],
        [f["code"] for c in report["checks"] for f in c["findings"]],
    ), err.decode()
