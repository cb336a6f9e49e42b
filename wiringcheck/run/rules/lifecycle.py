"""The protocol's lifecycle: the start first, nothing after an error terminal, tool calls opened and closed
in pairs under unique ids, each with its result (WC415).  A start sent twice is WC421's.

It applies to protocols that declare it (`strict_lifecycle`, AG-UI's rules as
ag-ui-validate checks them) or that name a tool-call id field.
"""

from __future__ import annotations

from wiringcheck.findings import Finding
from wiringcheck.protocol import Kind
from wiringcheck.run.recording import Event, RunView
from wiringcheck.run.rules._shared import Ruling

CODES = ("WC415",)


def _finding(message: str, evidence: str) -> Ruling:
    return (
        None,
        Finding(
            code="WC415",
            message=message,
            hint="Clients that follow the protocol track the run and its tool calls from these events; "
            "emit each start once, before anything else, and close every tool call you open.",
            subject="probe",
            evidence=(evidence,),
        ),
    )


def check(view: RunView) -> list[Ruling]:
    """The lifecycle rules over every item of the run, ignored ones included."""
    protocol, expectation, items = view.protocol, view.expectation, view.everything
    if not (protocol.strict_lifecycle or protocol.pairs_tool_calls):
        return []
    rulings: list[Ruling] = []
    end = next(
        (p for p, e in enumerate(items) if e.type == expectation.terminal or (e.item and e.item.kind is Kind.ERROR)),
        len(items) - 1,
    )
    run = items[: end + 1]
    shown = ", ".join(f"#{e.index} {e.type}" for e in run[:12]) or "nothing"
    failed = bool(run) and run[-1].item is not None and run[-1].item.kind is Kind.ERROR
    if protocol.strict_lifecycle and failed and items[end + 1 :]:
        after = ", ".join(e.type for e in items[end + 1 : end + 6])
        rulings.append(_finding(f"{len(items) - end - 1} event(s) followed the error terminal: {after}", shown))
    start = expectation.events[0]
    # A start sent twice is WC421's (`rules.once`): the start is a once-only event of every run.
    if protocol.strict_lifecycle and run and run[0].type != start:
        rulings.append(_finding(f"the run's first event is {run[0].type}, not {start}", f"arrived: {shown}"))
    if not protocol.pairs_tool_calls:
        return rulings
    opened: dict[str, Event] = {}
    closed: set[str] = set()
    answered: set[str] = set()
    for event in run:
        assert event.item is not None
        call = protocol.tool_call_id(event.item)
        if call is None:
            continue
        if event.expected and event.type == "tool_executing":
            if call in opened or call in closed:
                rulings.append(_finding(f"tool call {call!r} was started twice (frame #{event.index})", shown))
            else:
                opened[call] = event
        elif protocol.tool_call_end is not None and protocol.tool_call_end.matches(event.item.message):
            if call not in opened:
                rulings.append(
                    _finding(f"tool call {call!r} ended (frame #{event.index}) but was never started", shown)
                )
            else:
                del opened[call]
                closed.add(call)
        elif event.expected and event.type == "tool_completed":
            if call not in opened and call not in closed:
                rulings.append(
                    _finding(
                        f"a result for tool call {call!r} arrived (frame #{event.index}) but the call never started",
                        shown,
                    )
                )
            answered.add(call)
    if protocol.tool_call_end is not None:
        for call, event in opened.items():
            rulings.append(_finding(f"tool call {call!r} started at frame #{event.index} and never ended", shown))
    for call in [*opened, *closed]:
        if call not in answered and "tool_completed" in expectation.events:
            rulings.append(_finding(f"tool call {call!r} never got its result", shown))
    return rulings
