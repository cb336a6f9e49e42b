"""Events a run sends exactly once: by default the first and the terminal event (WC421)."""

from __future__ import annotations

from wiringcheck.findings import Finding
from wiringcheck.run.recording import Expectation, RunView
from wiringcheck.run.rules._shared import Ruling, since_trigger, text
from wiringcheck.secrets import shorten

CODES = ("WC421",)


def once_events(expectation: Expectation) -> tuple[str, ...]:
    """The events a run sends exactly once: `expectation.once`, by default the first and the terminal event."""
    if expectation.once is not None:
        return expectation.once
    return tuple(dict.fromkeys((expectation.events[0], expectation.terminal)))


def check(view: RunView) -> list[Ruling]:
    """WC421 for a `once` event that arrived more than once before the terminal (after it, WC404 says so)."""
    rulings: list[Ruling] = []
    for name in once_events(view.expectation):
        seen = [e for e in view.until_terminal if e.type == name]
        if len(seen) < 2:
            continue
        times = ", ".join(since_trigger(view, e.frame.received_at) for e in seen)
        rulings.append(
            (
                name,
                Finding(
                    code="WC421",
                    message=f"{name} arrived {len(seen)} times for one run ({times}); it is sent once per run",
                    hint=(
                        "Two components announce the same step (a gateway and the runner, a retry): let one own "
                        f"it. If {name} may repeat, list it under probe.repeatable."
                    ),
                    subject=f"event: {name}",
                    evidence=tuple(f"frame #{e.index}: {shorten(text(e.frame.data), 120)}" for e in seen[:3]),
                    data={"count": len(seen)},
                ),
            )
        )
    return rulings
