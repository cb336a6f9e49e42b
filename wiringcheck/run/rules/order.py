"""Every expected event arrives (WC402), and first arrivals come in the protocol's order (WC403)."""

from __future__ import annotations

from wiringcheck.findings import Finding
from wiringcheck.run.recording import RunView
from wiringcheck.run.rules._shared import Ruling, arrived

CODES = ("WC402", "WC403")


def check(view: RunView) -> list[Ruling]:
    """WC402 for each expected event that never arrived; WC403 for one that overtook an earlier event."""
    expectation = view.expectation
    first: dict[str, int] = {}
    for position, event in enumerate(view.expected):
        first.setdefault(event.type, position)
    shown = arrived(view, view.expected)
    rulings: list[Ruling] = []
    for name in expectation.events:
        if name in first:
            continue
        previous = [e for e in expectation.events[: expectation.events.index(name)] if e in first]
        after = f" after {previous[-1]}" if previous else ""
        rulings.append(
            (
                name,
                Finding(
                    code="WC402",
                    message=f"{name} never arrived{after}",
                    hint=(
                        "Check that the backend emits it, and that it is sent on this connection: an event sent "
                        "through an object startup never connected, or addressed to another run or user, is dropped "
                        "without an error (read the warnings the backend logged)."
                    ),
                    subject=f"event: {name}",
                    evidence=(f"arrived: {shown}", f"expected next: {name}"),
                ),
            )
        )
    latest: tuple[int, str] | None = None
    for name in expectation.events:
        if name not in first:
            continue
        if latest is not None and first[name] < latest[0]:
            rulings.append(
                (
                    name,
                    Finding(
                        code="WC403",
                        message=f"{name} arrived before {latest[1]}, which the protocol puts first",
                        hint="Emit the events in protocol order; clients render the run from this sequence.",
                        subject=f"event: {name}",
                        evidence=(f"arrived: {shown}", f"expected order: {', '.join(expectation.events)}"),
                    ),
                )
            )
        elif latest is None or first[name] > latest[0]:
            latest = (first[name], name)
    return rulings
