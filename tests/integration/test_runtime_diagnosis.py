"""Diagnosis while the probe runs: unawaited coroutines, lost task errors, loguru, silenced logging."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from wiringcheck.config import parse_settings
from wiringcheck.runner import run

from .helpers import REPO, codes


def settings_for(app: str):
    return parse_settings(
        {"app": f"tests.integration.diagnosis_apps:{app}", "probe": {"deadline": 0.5}},
        source=REPO / "wiringcheck.toml",
    )


def test_a_coroutine_never_awaited_during_the_run_is_wc110_at_its_call_site():
    """An emission called without await while serving the run is WC110, pointing at the backend's line."""
    report = run(settings_for("forgets_to_await"))

    (finding,) = [f for f in report.findings if f.code == "WC110"]
    assert ("notify", True, {"WC110", "WC402"}) == (
        finding.subject,
        finding.location is not None and finding.location.path.endswith("diagnosis_apps.py"),
        codes(report),
    )


def test_a_task_that_failed_unawaited_is_wc111_with_its_exception():
    """A background task's exception that only the event loop saw is WC111, with the backend's frames."""
    report = run(settings_for("loses_a_task"))

    (finding,) = [f for f in report.findings if f.code == "WC111"]
    assert ("index unavailable", "probe") == (
        "index unavailable" if "index unavailable" in finding.message else finding.message,
        report.checks[[c.name for c in report.checks].index("probe: runtime errors")].phase,
    )


def test_logging_disabled_during_boot_is_a_warning():
    """A backend that calls logging.disable() while booting gets WC112, a warning that does not fail the run."""
    report = run(settings_for("silences_logging"))

    (finding,) = [f for f in report.findings if f.code == "WC112"]
    assert ("warning", True) == (finding.severity, "logging.disable(WARNING)" in finding.message)


class _FakeLoguru:
    """Enough of loguru's `logger` for the capture: add a sink, remove it, log a warning."""

    def __init__(self) -> None:
        self.sinks: dict[int, Any] = {}

    def add(self, sink: Any, **options: Any) -> int:
        self.sinks[len(self.sinks) + 1] = sink
        return len(self.sinks)

    def remove(self, sink_id: int) -> None:
        del self.sinks[sink_id]

    def warning(self, text: str) -> None:
        record = {
            "name": "backend.jobs",
            "message": text,
            "level": types.SimpleNamespace(name="WARNING"),
            "file": types.SimpleNamespace(path=str(REPO / "backend" / "jobs.py")),
            "line": 12,
        }
        for sink in list(self.sinks.values()):
            sink(types.SimpleNamespace(record=record))


def test_loguru_records_are_captured_when_loguru_is_there(monkeypatch):
    """With loguru installed, its warnings during the run are WC105 findings like logging's (never a dependency)."""
    from wiringcheck.capture import Capture

    fake = _FakeLoguru()
    monkeypatch.setitem(sys.modules, "loguru", types.SimpleNamespace(logger=fake))
    capture = Capture()

    with capture.logs("probe"):
        fake.warning("no websocket manager: event dropped")

    (finding,) = capture.findings()
    assert ("WC105", "backend.jobs", {}) == (finding.code, finding.subject.removeprefix("log: "), fake.sinks)
    assert "during probe" in finding.message


@pytest.mark.parametrize("present", [False])
def test_capture_needs_no_loguru(present):
    """Without loguru, capturing logs works and imports nothing."""
    from wiringcheck.capture import Capture

    with Capture().logs("probe"):
        pass

    assert ("loguru" in sys.modules) == present
