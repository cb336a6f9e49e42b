"""The fault catalog: each real way the system breaks gets its exit code and exactly its finding codes."""

from __future__ import annotations

import re

import pytest

from wiringcheck.report import ExitCode
from wiringcheck.runner import run

from .helpers import FAULTS, codes, fault_report, fault_settings, healthy_settings

CATALOG = {
    "legacy_setter": (ExitCode.CHECK_FAILED, {"WC105", "WC106", "WC211", "WC402", "WC409"}),
    "guarded_missing": (ExitCode.CHECK_FAILED, {"WC105", "WC106", "WC107", "WC202", "WC211", "WC402", "WC409"}),
    "unguarded_rename": (ExitCode.BOOT_FAILED, {"WC101", "WC202"}),
    "unawaited_setter": (ExitCode.CHECK_FAILED, {"WC104", "WC105", "WC203", "WC211", "WC402", "WC409"}),
    "signature_drift": (ExitCode.BOOT_FAILED, {"WC101", "WC206"}),
    "swallowed_error": (ExitCode.CHECK_FAILED, {"WC105", "WC211", "WC402", "WC409"}),
    "missing_event": (ExitCode.CHECK_FAILED, {"WC402"}),
    # Was WC405: the probe shared the blocked loop, so a frame already written waited to be read. On its own
    # thread it reads what a remote client would: tool_completed on time, then 300 ms of a blocked loop.
    "slow_event": (ExitCode.CHECK_FAILED, {"WC420"}),
    "out_of_order": (ExitCode.CHECK_FAILED, {"WC403"}),
    "after_terminal": (ExitCode.CHECK_FAILED, {"WC404"}),
    "bad_frames": (ExitCode.CHECK_FAILED, {"WC406", "WC407"}),
    "boot_crash": (ExitCode.BOOT_FAILED, {"WC101"}),
    "boot_hang": (ExitCode.BOOT_FAILED, {"WC102"}),
    "late_wiring": (ExitCode.CHECK_FAILED, {"WC105", "WC115", "WC402", "WC409"}),
    "swapped_ids": (ExitCode.CHECK_FAILED, {"WC105", "WC402", "WC409", "WC440"}),
    # Backends whose protocol wiringcheck did not write (fixtures/studio, fixtures/relay).
    "studio_setup_refused": (ExitCode.CHECK_FAILED, {"WC414"}),
    "studio_drops_tool_call": (ExitCode.CHECK_FAILED, {"WC402"}),
    "relay_run_fails": (ExitCode.CHECK_FAILED, {"WC402", "WC412"}),
    "relay_wrong_key": (ExitCode.CHECK_FAILED, {"WC413"}),
    # How a run feels to its user (issue 11): timing, cardinality, error paths, cross-talk.
    "buffered_bridge": (ExitCode.CHECK_FAILED, {"WC423"}),
    "late_terminal": (ExitCode.CHECK_FAILED, {"WC420"}),
    "slow_first_event": (ExitCode.CHECK_FAILED, {"WC420"}),
    "duplicate_started": (ExitCode.CHECK_FAILED, {"WC421"}),
    "silent_tool_error": (ExitCode.CHECK_FAILED, {"WC105", "WC402", "WC409"}),
    "broadcast_fallback": (ExitCode.CHECK_FAILED, {"WC424"}),
    "wrong_routing_key": (ExitCode.CHECK_FAILED, {"WC402", "WC409", "WC424"}),
    # A cause and its symptoms in one report (issue 20): the cause leads, on every target kind.
    "degraded_startup": (ExitCode.CHECK_FAILED, {"WC105", "WC106", "WC201", "WC211", "WC213", "WC402", "WC408"}),
    "studio_guarded_rename": (ExitCode.CHECK_FAILED, {"WC107", "WC211"}),
    "dropped_task": (ExitCode.CHECK_FAILED, {"WC110", "WC402", "WC409"}),
    "blocking_handler": (ExitCode.CHECK_FAILED, {"WC420"}),
    # Run ids the server assigns (fixtures/serverids): only an isolation check sees a broadcast there.
    "serverids_broadcast": (ExitCode.CHECK_FAILED, {"WC424"}),
    # An agent chat over Server-Sent Events (fixtures/ssechat).
    "ssechat_buffered": (ExitCode.CHECK_FAILED, {"WC405"}),
    "ssechat_no_terminal": (ExitCode.CHECK_FAILED, {"WC402", "WC408"}),
    "ssechat_tool_result_missing": (ExitCode.CHECK_FAILED, {"WC402", "WC415"}),
    "ssechat_unwired": (ExitCode.CHECK_FAILED, {"WC201", "WC417"}),
    "ndjsonchat_html_error": (ExitCode.CHECK_FAILED, {"WC417"}),
    # pydantic-ai's own AG-UI server (fixtures/agui), checked by `preset = "ag-ui"` and its path.
    "agui_tool_result_dropped": (ExitCode.CHECK_FAILED, {"WC402", "WC415"}),
    "agui_run_finished_dropped": (ExitCode.CHECK_FAILED, {"WC402", "WC408"}),
    "agui_run_started_twice": (ExitCode.CHECK_FAILED, {"WC421"}),
    "agui_buffered": (ExitCode.CHECK_FAILED, {"WC405"}),
    # Google ADK's own API server (fixtures/adk), checked by `preset = "adk"`; ADK logs the tool's exception.
    "adk_tool_raises": (ExitCode.CHECK_FAILED, {"WC105", "WC402", "WC412", "WC415"}),
    "adk_slow_tool": (ExitCode.CHECK_FAILED, {"WC420"}),
    "adk_buffered": (ExitCode.CHECK_FAILED, {"WC405"}),
    # An agent chat over socket.io (fixtures/socketchat). Its connect handler refusing the auth payload is the
    # credentials refused (WC413, like relay_wrong_key), never a connection that failed.
    "socketchat_wrong_room": (ExitCode.CHECK_FAILED, {"WC402"}),
    "socketchat_tool_result_missing": (ExitCode.CHECK_FAILED, {"WC402", "WC415"}),
    "socketchat_refused_auth": (ExitCode.CHECK_FAILED, {"WC413"}),
    "socketchat_broadcast": (ExitCode.CHECK_FAILED, {"WC424"}),
    # Healthy variants: what real agents do, and must still pass.
    "repeated_events": (ExitCode.OK, set()),
    "tool_error_reported": (ExitCode.OK, set()),
}

LOAD_ONLY = {"drops_under_load": "tests/load/test_load_command.py"}
"""Faults that only show with many users at once: a single-user run passes, so their tests live with the load tests."""


FIRST_CAUSE = {
    "legacy_setter": "WC106",
    "guarded_missing": "WC107",
    "unguarded_rename": "WC101",
    "unawaited_setter": "WC104",
    "signature_drift": "WC101",
    "swallowed_error": "WC211",
    "missing_event": "WC402",
    "slow_event": "WC420",
    "out_of_order": "WC403",
    "after_terminal": "WC404",
    "bad_frames": "WC406",
    "boot_crash": "WC101",
    "boot_hang": "WC102",
    "late_wiring": "WC115",
    "swapped_ids": "WC440",
    "studio_setup_refused": "WC414",
    "studio_drops_tool_call": "WC402",
    "relay_run_fails": "WC412",
    "relay_wrong_key": "WC413",
    "buffered_bridge": "WC423",
    "late_terminal": "WC420",
    "slow_first_event": "WC420",
    "duplicate_started": "WC421",
    "silent_tool_error": "WC409",
    "broadcast_fallback": "WC424",
    "wrong_routing_key": "WC424",
    "degraded_startup": "WC213",
    "studio_guarded_rename": "WC107",
    "dropped_task": "WC110",
    "blocking_handler": "WC420",
    "serverids_broadcast": "WC424",
    "ssechat_buffered": "WC405",
    "ssechat_no_terminal": "WC408",
    "ssechat_tool_result_missing": "WC415",
    "ssechat_unwired": "WC201",
    "ndjsonchat_html_error": "WC417",
    "agui_tool_result_dropped": "WC415",
    "agui_run_finished_dropped": "WC408",
    "agui_run_started_twice": "WC421",
    "agui_buffered": "WC405",
    "adk_tool_raises": "WC412",
    "adk_slow_tool": "WC420",
    "adk_buffered": "WC405",
    "socketchat_wrong_room": "WC402",
    "socketchat_tool_result_missing": "WC415",
    "socketchat_refused_auth": "WC413",
    "socketchat_broadcast": "WC424",
}
"""The code every report must lead with: the cause, never one of its symptoms (a missing event, the deadline)."""

LOCATED_CAUSE = {
    "guarded_missing": "fixtures/faults/guarded_missing/app.py:",
    "degraded_startup": "fixtures/faults/degraded_startup/app.py:",
    "studio_guarded_rename": "fixtures/faults/studio_guarded_rename/app.py:",
    "dropped_task": "fixtures/faults/dropped_task/app.py:",
    "blocking_handler": "fixtures/faults/blocking_handler/app.py:",
}
"""Faults whose cause is a line of the backend: the headline names it, file:line."""


def test_catalog_covers_every_fault_folder():
    """Every folder under fixtures/faults has an entry here and a first cause (or is a load-only fault)."""
    folders = {p.name for p in FAULTS.iterdir() if (p / "wiringcheck.toml").is_file()}

    assert (folders, folders) == (set(CATALOG) | set(LOAD_ONLY), set(FIRST_CAUSE) | set(LOAD_ONLY) | HEALTHY)
    assert not set(CATALOG) & set(LOAD_ONLY)


@pytest.mark.parametrize("name", sorted(LOAD_ONLY))
def test_load_only_fault_passes_a_single_user_run(name):
    """A load-only fault is invisible to one user: `run` passes on it, which is why `load` exists."""
    report = fault_report(name)

    assert (ExitCode.OK, set()) == (report.exit_code, codes(report))


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_fault_is_reported_with_its_exit_code_and_codes(name):
    """Each fault exits as documented, with exactly its finding codes and no unrelated noise."""
    expected_exit, expected_codes = CATALOG[name]

    report = fault_report(name)

    assert (expected_exit, expected_codes) == (report.exit_code, codes(report))


@pytest.mark.parametrize("name", sorted(FIRST_CAUSE))
def test_fault_report_leads_with_its_cause(name):
    """The first failing finding, in every format's order, is the fault's cause; the console headline names it."""
    from wiringcheck.render import Format

    report = fault_report(name)
    console = Format.CONSOLE.render(report)

    assert FIRST_CAUSE[name] == report.first_cause.code
    assert FIRST_CAUSE[name] == next(f.code for f in report.findings if f.severity == "error")
    assert f"first cause: {FIRST_CAUSE[name]}" in console.splitlines()[1]


@pytest.mark.parametrize("name", sorted(LOCATED_CAUSE))
def test_headline_carries_the_causes_location(name):
    """The console's headline names the cause's file and line, so the first line read says where to look."""
    from wiringcheck.render import Format

    report = fault_report(name)
    headline = Format.CONSOLE.render(report).splitlines()[1]

    assert re.search(rf"first cause: {FIRST_CAUSE[name]} {re.escape(LOCATED_CAUSE[name])}\d+ ", headline), headline


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
    "buffered_bridge",
    "late_terminal",
    "slow_first_event",
    "duplicate_started",
    "silent_tool_error",
    "broadcast_fallback",
    "wrong_routing_key",
    "serverids_broadcast",
    "ssechat_buffered",
    "ssechat_no_terminal",
    "ssechat_tool_result_missing",
    "ssechat_unwired",
    "ndjsonchat_html_error",
    "agui_tool_result_dropped",
    "agui_run_finished_dropped",
    "agui_run_started_twice",
    "agui_buffered",
    "adk_tool_raises",
    "adk_slow_tool",
    "adk_buffered",
    "socketchat_wrong_room",
    "socketchat_tool_result_missing",
    "socketchat_refused_auth",
    "socketchat_broadcast",
}
HEALTHY = {"repeated_events", "tool_error_reported"}


@pytest.mark.parametrize("name", sorted(set(CATALOG) - ON_THE_WIRE - HEALTHY))
def test_fault_report_names_a_file_to_change(name):
    """Every startup fault's report points into the backend's own code (file:line)."""
    report = fault_report(name)

    located = [f for f in report.findings if f.location is not None and f.location.line]
    assert any("/fixtures/" in f.location.path for f in located)


def test_boot_hang_ends_near_its_deadline_and_shows_the_await():
    """A startup that never finishes is cancelled at its deadline, showing where it waits."""
    settings = fault_settings("boot_hang")

    report = fault_report("boot_hang")

    (finding,) = report.findings
    assert report.duration < settings.startup_timeout + 1.0
    assert any("await" in line and "boot_hang" in line for line in finding.evidence)


def test_unguarded_rename_keeps_pythons_did_you_mean():
    """The AttributeError of a renamed setter carries Python's own suggestion."""
    report = fault_report("unguarded_rename")

    (crash,) = [f for f in report.findings if f.code == "WC101"]
    assert "Did you mean" in crash.message


@pytest.mark.slow
def test_healthy_backend_passes_fifty_runs_in_a_row():
    """No flakiness: the healthy backend passes 50 consecutive runs with tracing on."""
    settings = healthy_settings()

    failures = [report for report in (run(settings) for _ in range(50)) if not report.ok]

    assert [] == failures


def test_late_wiring_names_the_task_that_wired_and_when():
    """Wired late: the required call and the wire say how long after startup, and which task made them."""
    report = fault_report("late_wiring")

    late = [f for f in report.findings if f.code == "WC115"]
    assert 3 == len(late)
    assert all("ms after startup completed" in f.message for f in late)
    assert "from a task created at fixtures/faults/late_wiring/app.py:" in late[0].message
