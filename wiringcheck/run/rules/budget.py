"""Each event's delivery fits the budget: from the backend's hand-off (or its own timestamp) to receipt (WC405)."""

from __future__ import annotations

from wiringcheck.findings import Finding
from wiringcheck.run.recording import Expectation, Latency, RunView
from wiringcheck.run.rules._shared import Ruling

CODES = ("WC405",)


_HTTP = ("sse", "ndjson")

_HELD_LOOP = (
    "Something held the event loop or the connection between emission and delivery: look for "
    "blocking calls (time.sleep, sync I/O) near the emitter, or a slow per-connection queue."
)

_HELD_STREAM = (
    "Something between the app's response and the client held the stream back: a middleware that reads the whole "
    "body (logging, compression that waits for a full block), or a proxy that buffers (nginx proxy_buffering); "
    "a blocked event loop delays it too."
)


def measured_leg(expectation: Expectation) -> str:
    """Which clock a latency was read on, in the words of a message: the user must know what was measured."""
    if expectation.latency == Latency.SEND:
        return "from hand-off to delivery"
    if expectation.assume_synced_clocks:
        return "from its own timestamp to delivery"
    return "from its own timestamp to delivery, relative to the run's fastest event"


def check(view: RunView) -> list[Ruling]:
    """WC405 for each delivery of an expected event over the budget (the judge keeps the worst per event)."""
    budget = view.expectation.budget_ms
    leg = measured_leg(view.expectation)
    rulings: list[Ruling] = []
    for event in view.expected:
        if event.latency_ms is None or event.latency_ms <= budget:
            continue
        rulings.append(
            (
                event.type,
                Finding(
                    code="WC405",
                    message=f"{event.type} took {event.latency_ms:g} ms {leg}, over the {budget:g} ms budget",
                    hint=_HELD_STREAM if view.recording.transport in _HTTP else _HELD_LOOP,
                    subject=f"event: {event.type}",
                    evidence=(f"frame #{event.index}: latency {event.latency_ms:g} ms",),
                    data={"latency_ms": event.latency_ms},
                ),
            )
        )
    return rulings
