"""Frames of the run that matched no expected event and are not ignored: shown, never failed (WC416, a note)."""

from __future__ import annotations

from wiringcheck.findings import Finding, Severity
from wiringcheck.run.recording import RunView
from wiringcheck.run.rules._shared import Ruling

CODES = ("WC416",)


def check(view: RunView) -> list[Ruling]:
    """One note listing the run's unmapped frames (before its terminal), so the user can map or ignore them."""
    if not view.unexpected:
        return []
    return [
        (
            None,
            Finding(
                code="WC416",
                message=f"{len(view.unexpected)} frame(s) of the run matched no expected event and are not in "
                "probe.ignore",
                hint="Map them to an event with probe.match, or list them under probe.ignore "
                "(`wiringcheck inspect --probe` suggests matchers).",
                subject="probe",
                evidence=view.unexpected[:10],
                severity=Severity.NOTE,
            ),
        )
    ]
