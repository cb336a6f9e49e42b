"""The silence a user sees: from the trigger to the first expected event, and between expected events (WC420).

``budget_ms`` bounds each event's latency; ``gap_ms`` bounds the silence (default: the
budget; off with false); ``deadline`` caps the whole run.  docs/configuration.md says the
same to users.
"""

from __future__ import annotations

from wiringcheck.findings import Finding
from wiringcheck.run.recording import Event, RunView
from wiringcheck.run.rules._shared import Ruling, ms, shown_offset

CODES = ("WC420",)


def check(view: RunView) -> list[Ruling]:
    """WC420 for each expected event that arrived more than `gap_ms` after the previous one (or the trigger).

    Receipt times are what the user sees; one finding per event name, naming the worst gap.
    A gap that an over-budget latency explains (WC405 or WC423, for the same event) is
    not reported twice: only the silence before the event was emitted counts.
    """
    expectation, recording = view.expectation, view.recording
    bound = expectation.gap_ms
    if bound is None:
        return []
    worst: dict[str, tuple[float, str, Event]] = {}
    previous_at, previous_name = recording.trigger_at, "the trigger"
    # `until_terminal` is a prefix of `expected`: a position in one is the same position in the other.
    for position, event in enumerate(view.until_terminal):
        gap = ms(event.frame.received_at - previous_at)
        at = view.emitted.get(position)
        late = [event.latency_ms or 0.0, ms(event.frame.received_at - at) if at is not None else 0.0]
        explained = max((value for value in late if value > expectation.budget_ms), default=0.0)
        if gap - explained > bound and gap > worst.get(event.type, (0.0, "", event))[0]:
            worst[event.type] = (gap, previous_name, event)
        previous_at, previous_name = event.frame.received_at, event.type
    rulings: list[Ruling] = []
    for name, (gap, after, event) in worst.items():
        at = view.ms(event.frame.received_at)
        legs = f"; delivery took {event.latency_ms:g} ms" if event.latency_ms is not None else ""
        begun = event.frame.received_at - gap / 1000
        stalls = [
            stall
            for stall in recording.loop_stalls
            if stall.start < event.frame.received_at and stall.start + stall.seconds > begun
        ]
        blocked = ms(sum(stall.seconds for stall in stalls))
        # An in-process watcher's stall also says where the loop was: the line to fix.
        located = max((stall for stall in stalls if stall.where), key=lambda stall: stall.seconds, default=None)
        where = located.where if located else None
        code = located.code if located else ""
        if stalls:
            legs += f"; the backend's event loop was blocked for {blocked:g} ms of it"
            legs += f", in `{code}`" if code else ""
        hint = (
            "The backend's event loop was blocked: a synchronous call (time.sleep, a sync database or HTTP "
            "client, heavy CPU work) in async code. Move it to asyncio.to_thread, or use an async client."
            if blocked > gap / 2
            else "The user saw nothing for that long. Send progress before slow work (persisting, "
            "calling a model), or raise probe.gap_ms if the product accepts the pause."
        )
        rulings.append(
            (
                name,
                Finding(
                    code="WC420",
                    message=f"{name} arrived {gap:g} ms after {after}, over the {bound:g} ms gap bound{legs}",
                    location=where,
                    hint=hint,
                    subject=f"event: {name}",
                    evidence=(
                        f"frame #{event.index} at +{at:g} ms: gap {gap:g} ms, bound {bound:g} ms",
                        *(
                            f"event loop blocked {ms(stall.seconds):g} ms from {shown_offset(view.ms(stall.start))}"
                            for stall in stalls[:3]
                        ),
                        *(f"  {line}" for line in (located.stack if located else ())),
                    ),
                    data={"bound": "gap", "gap_ms": gap, "bound_ms": bound},
                ),
            )
        )
    return rulings
