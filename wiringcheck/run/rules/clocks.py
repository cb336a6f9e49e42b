"""The server's clock against the probe's, for latency read from the events' own timestamps (WC425).

Not a rule the judge runs over the finished view: the judge asks it first
(`server_clock_offset`), so every rule reads latencies with the offset taken out.
"""

from __future__ import annotations

from collections.abc import Sequence

from wiringcheck.findings import Finding, Severity
from wiringcheck.run.recording import Expectation, Latency

CODES = ("WC425",)

IMPLAUSIBLE_OFFSET_MS = 1000.0
"""A server clock further than this from the probe's is a finding (WC425): latency is then relative only."""


def clock_offset(raw_ms: Sequence[float], *, assume_synced: bool) -> tuple[float, list[Finding]]:
    """The server clock's offset to subtract from each raw (receipt - timestamp) latency, and what it says.

    Without synced clocks the offset is estimated as the smallest raw latency of the run
    (the fastest event is taken as instant): each event's delay is then relative to it,
    never negative. A larger offset than `IMPLAUSIBLE_OFFSET_MS` is a warning (WC425). With
    `assume_synced`, the offset is 0 and a negative latency is an error (WC425): the clocks
    are not synced after all.
    """
    if not raw_ms:
        return 0.0, []
    lowest = min(raw_ms)
    if assume_synced:
        if lowest >= -1.0:  # a millisecond of timestamp rounding is not a clock problem
            return 0.0, []
        return 0.0, [
            Finding(
                code="WC425",
                message=(
                    f"an event arrived {-lowest:g} ms before its own timestamp: the server's clock is ahead of "
                    "the probe's, so its latencies cannot be trusted"
                ),
                hint="Sync both clocks (NTP), or drop --assume-synced-clocks to measure relative to the fastest event.",
                subject="probe",
                data={"offset_ms": lowest},
            )
        ]
    offset = round(lowest, 3)
    if abs(offset) <= IMPLAUSIBLE_OFFSET_MS:
        return offset, []
    side = "behind" if offset > 0 else "ahead of"
    return offset, [
        Finding(
            code="WC425",
            message=(
                f"the server's clock is about {abs(offset):g} ms {side} the probe's; latencies are measured "
                "relative to the run's fastest event"
            ),
            hint=(
                "A clock this far off is misconfigured: sync it (NTP). Relative latency still catches a slow event, "
                "not a run whose every event is equally late."
            ),
            subject="probe",
            severity=Severity.WARNING,
            data={"offset_ms": offset},
        )
    ]


def server_clock_offset(expectation: Expectation, raw_ms: Sequence[float]) -> tuple[float | None, list[Finding]]:
    """The offset to take out of each raw timestamp latency of the run (None: nothing to take out), and WC425."""
    if expectation.latency != Latency.TIMESTAMP:
        return None, []
    offset, findings = clock_offset(raw_ms, assume_synced=expectation.assume_synced_clocks)
    return (offset if raw_ms else None), findings


def timestamp_clock(field: str, *, synced: bool, timed: bool = True) -> str:
    """How timestamp latency was measured, for the report (`timed`: whether any event of the run had one)."""
    if not timed:
        return f"none: no event carried a usable {field!r} field, so no delivery latency was measured"
    if synced:
        return f"wall clock: the event's {field!r} field to probe receive (clocks assumed synced)"
    return (
        f"wall clock: the event's {field!r} field to probe receive, relative to the run's fastest event "
        "(the server clock's offset is estimated from the run)"
    )
