"""From the backend's emitting call to the client's receipt, within the budget (WC423).

The judge pairs each received event with the `probe.emit` call that emitted it
(`RunView.emitted`); a slow delivery after the hand-off is WC405's, so this rule speaks
only when the time went before it: buffered, queued, or blocked before the send.
"""

from __future__ import annotations

from wiringcheck.findings import Finding
from wiringcheck.run.recording import RunView
from wiringcheck.run.rules._shared import Ruling, ms, since_trigger

CODES = ("WC423",)


def check(view: RunView) -> list[Ruling]:
    """WC423 when an event reached the client over the budget after it was emitted, the slow leg before hand-off."""
    expectation = view.expectation
    rulings: list[Ruling] = []
    # One finding per slow delivery: the judge keeps the worst of an event's, with the count.
    for position, event in enumerate(view.expected):
        at = view.emitted.get(position)
        if at is None or event.type not in expectation.events:
            continue
        total = ms(event.frame.received_at - at)
        if total <= expectation.budget_ms:
            continue
        sent_at = event.frame.sent_at
        if sent_at is not None and ms(event.frame.received_at - sent_at) > expectation.budget_ms:
            continue  # the delivery leg alone is over: WC405 says so
        if sent_at is not None:
            delivery = ms(event.frame.received_at - sent_at)
            legs = f"emit → hand-off {ms(sent_at - at):g} ms, hand-off → receipt {delivery:g} ms"
            slow = "between the emitting call and the hand-off to the transport: the event was buffered or queued"
        else:
            legs = f"emit → receipt {total:g} ms"
            slow = "between the emitting call and the client"
        rulings.append(
            (
                event.type,
                Finding(
                    code="WC423",
                    message=(
                        f"{event.type} reached the client {total:g} ms after it was emitted, over the "
                        f"{expectation.budget_ms:g} ms budget ({legs})"
                    ),
                    hint=(
                        f"The time went {slow}. Send each event when it is emitted: no buffering until the end of "
                        "the run, no queue drained by a slow task, no blocking call before the send."
                    ),
                    subject=f"event: {event.type}",
                    evidence=(
                        f"emitted at {since_trigger(view, at)}, "
                        + (f"handed off at {since_trigger(view, sent_at)}, " if sent_at else "")
                        + f"received at {since_trigger(view, event.frame.received_at)}",
                    ),
                    data={"bound": "emission", "latency_ms": total, "bound_ms": expectation.budget_ms},
                ),
            )
        )
    return rulings
