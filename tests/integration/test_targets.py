"""The other targets: a running backend probed by URL, and a user's boot() context manager."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from wiringcheck.config import load_settings
from wiringcheck.findings import Status
from wiringcheck.report import ExitCode
from wiringcheck.runner import run

from ..conftest import MS
from .helpers import REPO, healthy_settings

IN_PROCESS_PHASES = {"boot", "roles", "contract", "wires", "startup", "shutdown"}


@pytest.fixture(name="served_by_hand", scope="module")
def _served_by_hand():
    """The reference backend started the way a person would: uvicorn in its own process (the tests only read it)."""
    yield from _serve("fixtures.agentchat.app:create_app")


@pytest.fixture(name="clock_ahead", scope="module")
def _clock_ahead():
    """The reference backend whose server clock runs 2 s ahead, in its own process (the tests only read it)."""
    yield from _serve("fixtures.clock_ahead:create_app")


def _serve(factory: str):
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 20
        port = None
        assert process.stdout is not None
        while port is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            port = int(match[1]) if match else None
        if port is None:
            pytest.fail("uvicorn did not report its port")
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        process.terminate()
        process.wait(timeout=10_000 * MS)
        if process.stdout is not None:
            process.stdout.close()


def test_url_target_passes_with_in_process_checks_skipped(served_by_hand):
    """A url run probes the events and reports every in-process check as skipped, never passed."""
    settings = healthy_settings().with_target(url=served_by_hand)

    report = run(settings)

    statuses = {c.status for c in report.checks if c.phase in IN_PROCESS_PHASES}
    assert ExitCode.OK == report.exit_code
    assert {Status.SKIPPED} == statuses
    assert 5 == sum(c.status is Status.PASSED for c in report.checks if c.name.startswith("event: "))
    assert "timestamp" in report.clock


def test_a_url_run_whose_events_carry_no_timestamp_says_no_latency_was_measured(served_by_hand):
    """Presence and order are judged; the clock line says nothing was timed instead of naming a method unused."""
    settings = healthy_settings().with_target(url=served_by_hand)
    settings = replace(settings, probe=replace(settings.probe, timestamp_field="no_such_field"))

    report = run(settings)

    events = [c for c in report.checks if c.name.startswith("event: ")]
    assert (ExitCode.OK, {Status.PASSED}) == (report.exit_code, {c.status for c in events})
    assert {"not timed: the event has no usable 'no_such_field' field"} == {c.reason for c in events}
    assert report.clock.startswith("none: no event carried a usable 'no_such_field' field")


def test_a_server_clock_two_seconds_ahead_passes_with_its_offset_reported(clock_ahead):
    """Latency relative to the run's fastest event: never negative, the 2 s offset a warning, the run passing."""
    report = run(healthy_settings().with_target(url=clock_ahead))

    (offset,) = [f for f in report.findings if f.code == "WC425"]
    latencies = [e.latency_ms for e in report.events if e.ours]
    assert (ExitCode.OK, "warning") == (report.exit_code, offset.severity)
    assert -2500 < offset.data["offset_ms"] < -1500
    assert all(latency is not None and latency >= 0 for latency in latencies)


def test_with_synced_clocks_assumed_a_clock_ahead_fails(clock_ahead):
    """--assume-synced-clocks trusts the server's clock: an event from the future is an error, never a pass."""
    report = run(healthy_settings().with_target(url=clock_ahead).with_probe(assume_synced_clocks=True))

    assert ExitCode.CHECK_FAILED == report.exit_code
    assert "WC425" in {f.code for f in report.findings}


def test_url_target_that_refuses_connections_is_a_finding():
    """Nothing listening on the port is a WC401 finding, not a crash or a hang."""
    settings = healthy_settings().with_target(url="ws://127.0.0.1:9/ws").with_probe(connect_timeout=2.0)

    report = run(settings)

    assert ExitCode.CHECK_FAILED == report.exit_code
    assert ["WC401"] == [f.code for f in report.findings]


def test_boot_target_runs_every_phase():
    """A boot() async context manager is entered, checked like an app, and exited."""
    report = run(load_settings(Path(REPO / "fixtures" / "boot_target" / "wiringcheck.toml")))

    assert ExitCode.OK == report.exit_code
    assert [] == [c.name for c in report.checks if c.status is not Status.PASSED]
