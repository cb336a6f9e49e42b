"""An event whose timestamp is no time (1e400, "NaN", a date without a zone): its delivery cannot be timed (WC441)."""

from __future__ import annotations

from wiringcheck.findings import Finding
from wiringcheck.run.recording import RunView
from wiringcheck.run.rules._shared import Ruling
from wiringcheck.secrets import shorten

CODES = ("WC441",)


def check(view: RunView) -> list[Ruling]:
    """WC441 for each expected event the judge could not time because its timestamp is unreadable."""
    field = view.expectation.timestamp_field
    return [
        (
            event,
            Finding(
                code="WC441",
                message=f"frame #{index} has {field!r} = {shorten(repr(value), 60)}, "
                "which is no time: its delivery could not be timed",
                hint="Send epoch seconds or milliseconds, or ISO 8601 with a time zone; clients that show times break "
                "on this value, and the budget cannot be checked.",
                subject="probe",
            ),
        )
        for event, index, value in view.untimed
    ]
