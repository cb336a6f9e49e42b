"""An error terminal: the backend said the run failed, and why; the finding shows it (WC412)."""

from __future__ import annotations

from wiringcheck.findings import Finding
from wiringcheck.run.recording import RunView
from wiringcheck.run.rules._shared import Ruling, arrived, payload_text, shown_offset

CODES = ("WC412",)


def check(view: RunView) -> list[Ruling]:
    """WC412 for the run's first error terminal, with its payload and what arrived before it."""
    if not view.errors:
        return []
    error = view.errors[0]
    assert error.item is not None
    at = view.ms(error.frame.received_at)
    shown = error.item.type or "an error frame"
    return [
        (
            None,
            Finding(
                code="WC412",
                message=f"the backend ended the run with {shown} at {shown_offset(at)}: "
                f"{payload_text(error.item.message, 160)}",
                hint="The run failed inside the backend: the payload (and the backend's log) says why. "
                "Fix that failure; the events that never arrived follow from it.",
                subject="probe",
                evidence=(f"payload: {payload_text(error.item.message)}", f"before it: {arrived(view, view.ours)}"),
                data={"at_ms": at},
            ),
        )
    ]
