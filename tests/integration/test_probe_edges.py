"""The probe against servers that close mid-run, refuse the handshake, or never answer."""

from __future__ import annotations

import time

import pytest

from wiringcheck.config import parse_settings
from wiringcheck.findings import Status
from wiringcheck.report import ExitCode
from wiringcheck.runner import run

from .helpers import REPO


def settings_for(app: str, **probe: float):
    return parse_settings(
        {"app": f"tests.integration.edge_apps:{app}", "probe": {"deadline": 0.5, **probe}},
        source=REPO / "wiringcheck.toml",
    )


def test_server_closing_mid_run_is_a_finding_with_its_close_code():
    """A close before the terminal event is WC408 with the code and reason, plus the missing events."""
    report = run(settings_for("closes_mid_run"))

    (closed,) = [f for f in report.findings if f.code == "WC408"]
    assert ExitCode.CHECK_FAILED == report.exit_code
    assert "1011" in closed.message
    assert "agent crashed" in closed.message
    assert "arrived: agent_started" in closed.evidence[0]
    assert {"WC402", "WC408"} == {f.code for f in report.findings}


def test_refused_handshake_is_a_connect_finding_and_events_are_skipped():
    """A refused handshake is WC401; the event checks are skipped with the reason, never passed."""
    report = run(settings_for("rejects"))

    assert ["WC401"] == [f.code for f in report.findings]
    events = [c for c in report.checks if c.name.startswith("event: ")]
    assert {Status.SKIPPED} == {c.status for c in events}


@pytest.mark.parametrize("deadline", [0.3])
def test_silent_server_ends_at_the_deadline_with_evidence(deadline):
    """A server that never answers ends the run at its deadline as WC409, not a hung job."""
    started = time.monotonic()

    report = run(settings_for("silent", deadline=deadline))

    (timeout,) = [f for f in report.findings if f.code == "WC409"]
    assert time.monotonic() - started < deadline + 5.0
    assert "nothing arrived for this run" in timeout.evidence[0]


@pytest.mark.slow
def test_an_in_process_flood_ends_soon_after_the_frame_cap_with_one_finding_per_kind():
    """A backend that keeps its loop busy sending is interrupted once the verdict is in: the probe phase ends long
    before the deadline (it used to wait for the run's whole budget), with one WC411 and at most one finding per
    (code, check). The deadline is far from the seconds the 10,000 frames of the cap take on a busy machine."""
    from wiringcheck.config import parse_settings
    from wiringcheck.runner import run

    settings = parse_settings({"app": "tests.integration.edge_apps:floods", "probe": {"deadline": 20.0}})
    report = run(settings)

    (probe,) = [check for check in report.checks if check.name == "probe"]
    pairs = [(finding.code, check.name) for check in report.checks for finding in check.findings]
    assert (True, 1, True) == (
        probe.duration < 10.0,
        pairs.count(("WC411", "probe")),
        len(pairs) == len(set(pairs)),
    )
