"""The fault catalog: each real way the system breaks gets its exit code and exactly its finding codes."""

from __future__ import annotations

import pytest

from wiringcheck.report import ExitCode
from wiringcheck.runner import run

from .helpers import FAULTS, codes, fault_settings, healthy_settings

CATALOG = {
    "legacy_setter": (ExitCode.CHECK_FAILED, {"WC105", "WC106", "WC211", "WC402", "WC409"}),
    "guarded_missing": (ExitCode.CHECK_FAILED, {"WC105", "WC106", "WC107", "WC202", "WC211", "WC402", "WC409"}),
    "unguarded_rename": (ExitCode.BOOT_FAILED, {"WC101", "WC202"}),
    "unawaited_setter": (ExitCode.CHECK_FAILED, {"WC104", "WC105", "WC203", "WC211", "WC402", "WC409"}),
    "signature_drift": (ExitCode.BOOT_FAILED, {"WC101", "WC206"}),
    "swallowed_error": (ExitCode.CHECK_FAILED, {"WC105", "WC211", "WC402", "WC409"}),
    "missing_event": (ExitCode.CHECK_FAILED, {"WC402"}),
    "slow_event": (ExitCode.CHECK_FAILED, {"WC405"}),
    "out_of_order": (ExitCode.CHECK_FAILED, {"WC403"}),
    "after_terminal": (ExitCode.CHECK_FAILED, {"WC404"}),
    "bad_frames": (ExitCode.CHECK_FAILED, {"WC406", "WC407"}),
    "boot_crash": (ExitCode.BOOT_FAILED, {"WC101"}),
    "boot_hang": (ExitCode.BOOT_FAILED, {"WC102"}),
    # Backends whose protocol wiringcheck did not write (fixtures/studio, fixtures/relay).
    "studio_setup_refused": (ExitCode.CHECK_FAILED, {"WC414"}),
    "studio_drops_tool_call": (ExitCode.CHECK_FAILED, {"WC402"}),
    "relay_run_fails": (ExitCode.CHECK_FAILED, {"WC402", "WC412"}),
    "relay_wrong_key": (ExitCode.CHECK_FAILED, {"WC413"}),
}


def test_catalog_covers_every_fault_folder():
    """Every folder under fixtures/faults has an entry here, and every entry a folder."""
    folders = {p.name for p in FAULTS.iterdir() if (p / "wiringcheck.toml").is_file()}

    assert set(CATALOG) == folders


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_fault_is_reported_with_its_exit_code_and_codes(name):
    """Each fault exits as documented, with exactly its finding codes and no unrelated noise."""
    expected_exit, expected_codes = CATALOG[name]

    report = run(fault_settings(name))

    assert (expected_exit, expected_codes) == (report.exit_code, codes(report))


# Faults seen only on the wire: the frames do not say which backend line emitted them.
ON_THE_WIRE = {
    "missing_event",
    "slow_event",
    "out_of_order",
    "after_terminal",
    "bad_frames",
    "studio_setup_refused",
    "studio_drops_tool_call",
    "relay_run_fails",
    "relay_wrong_key",
}


@pytest.mark.parametrize("name", sorted(set(CATALOG) - ON_THE_WIRE))
def test_fault_report_names_a_file_to_change(name):
    """Every startup fault's report points into the backend's own code (file:line)."""
    report = run(fault_settings(name))

    located = [f for f in report.findings if f.location is not None and f.location.line]
    assert any("/fixtures/" in f.location.path for f in located)


def test_boot_hang_ends_near_its_deadline_and_shows_the_await():
    """A startup that never finishes is cancelled at its deadline, showing where it waits."""
    settings = fault_settings("boot_hang")

    report = run(settings)

    (finding,) = report.findings
    assert report.duration < settings.startup_timeout + 1.0
    assert any("await" in line and "boot_hang" in line for line in finding.evidence)


def test_unguarded_rename_keeps_pythons_did_you_mean():
    """The AttributeError of a renamed setter carries Python's own suggestion."""
    report = run(fault_settings("unguarded_rename"))

    (crash,) = [f for f in report.findings if f.code == "WC101"]
    assert "Did you mean" in crash.message


def test_healthy_backend_passes_fifty_runs_in_a_row():
    """No flakiness: the healthy backend passes 50 consecutive runs with tracing on."""
    settings = healthy_settings()

    failures = [report for report in (run(settings) for _ in range(50)) if not report.ok]

    assert [] == failures
