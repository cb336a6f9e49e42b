"""`wiringcheck run` against the reference backend and the seed's fault, booted in-process."""

from __future__ import annotations

from wiringcheck.findings import Status
from wiringcheck.report import ExitCode

from .helpers import check, codes, fault_report, healthy_report


def test_healthy_backend_passes_every_check():
    """The reference backend boots, matches its contract, is wired, and delivers the five events."""
    report = healthy_report()

    assert ExitCode.OK == report.exit_code
    assert [] == [c.name for c in report.checks if c.status is not Status.PASSED]
    assert [
        "agent_started",
        "agent_thinking",
        "tool_executing",
        "tool_completed",
        "agent_completed",
    ] == [e.type for e in report.events]


def test_healthy_backend_reports_latencies_and_its_clock():
    """Every event has a measured latency, and the report says which clock measured it."""
    report = healthy_report()

    assert all(e.latency_ms is not None and e.latency_ms >= 0 for e in report.events)
    assert report.clock.startswith("monotonic")
    assert report.timings["time_to_first_event_ms"] is not None
    assert report.timings["time_to_terminal_ms"] >= report.timings["time_to_first_event_ms"]


def test_legacy_setter_fails_loudly_with_broken_wire_and_missing_events():
    """The seed's fault: nothing raises at boot, yet the wire and all five events fail."""
    report = fault_report("legacy_setter")

    assert ExitCode.CHECK_FAILED == report.exit_code
    assert Status.PASSED == check(report, "boot").status
    assert Status.FAILED == check(report, "wire: bridge.websocket_manager is not None").status
    assert {"WC211", "WC106", "WC402", "WC409"} <= codes(report)
    missing = [c.name for c in report.checks if any(f.code == "WC402" for f in c.findings)]
    assert 5 == len(missing)


def test_legacy_setter_names_the_call_startup_made_instead():
    """The must_call finding points at the guarded legacy setter, with its file and line."""
    report = fault_report("legacy_setter")

    (finding,) = check(report, "startup call: registry.set_websocket_manager").findings
    assert "set_websocket_bridge" in finding.message
    assert "behind a hasattr guard" in finding.message
    assert finding.location is not None
    assert finding.location.path.endswith("fixtures/faults/legacy_setter/app.py")


def test_legacy_setter_shows_the_backend_warning_that_explains_it():
    """The bridge's own 'emission blocked' log line is shown, grouped with its count."""
    report = fault_report("legacy_setter")

    (record,) = [r for r in report.logs if "emission blocked" in r.message]
    assert 5 == record.count
    assert "probe" == record.phase


def test_a_phase_that_fails_does_not_hide_the_probe():
    """A broken wire still lets the probe run and show that no events arrive."""
    report = fault_report("legacy_setter")

    assert Status.FAILED == check(report, "probe").status
    assert Status.FAILED == check(report, "event: agent_started").status
