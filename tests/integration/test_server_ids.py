"""Runs whose id the server assigns: learnt once, it is the run's id everywhere (emission, isolation, reports).

`fixtures/serverids` is a chat server shaped like many real ones: a plain question in, a
run id of its own choosing out, nested in every event.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from wiringcheck.config import load_settings
from wiringcheck.report import ExitCode
from wiringcheck.runner import run

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(name="settings", scope="module")
def _settings():
    return load_settings(FIXTURES / "serverids" / "wiringcheck.toml")


def test_the_server_assigned_id_is_the_reports_run_and_pairs_the_emissions(settings):
    """The report names the server's run id, and every event is broken down from its emitting call."""
    report = run(replace(settings, isolation=replace(settings.isolation, enabled=False)))

    assert ExitCode.OK == report.exit_code
    assert str(report.extra["run_id"]).startswith("run-")
    assert [False] * 5 == [record.emitted_at_ms is None for record in report.events if record.ours]


def test_isolated_users_with_server_ids_pass(settings):
    """Two users at once, each learning its own server-assigned run: no cross-talk, both runs judged."""
    report = run(settings)

    assert (ExitCode.OK, 2) == (report.exit_code, report.extra["users"])


def test_a_broadcast_with_server_ids_and_a_plain_question_fails_isolation_naming_the_foreign_run():
    """Every run sent to every user: WC424 names the run that was not the receiver's own."""
    report = run(load_settings(FIXTURES / "faults" / "serverids_broadcast" / "wiringcheck.toml"))

    (check,) = [c for c in report.checks if c.name == "isolation"]
    assert {"WC424"} == {f.code for f in check.findings}
    assert any(f.data.get("run", "").startswith("run-") and "not its own" in f.message for f in check.findings)
