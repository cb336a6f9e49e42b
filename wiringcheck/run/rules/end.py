"""How the run ended: a flood (WC411), a close the probe made (WC410), events after the terminal (WC404),
a close before the terminal (WC408), silence or the deadline (WC409).

A run that ended with an error terminal is WC412's (`rules.error`): it says why the
run stopped, so this rule is silent then.
"""

from __future__ import annotations

from wiringcheck.findings import Finding
from wiringcheck.run.recording import Recording, RecordingEnd, RunView
from wiringcheck.run.rules._shared import Ruling, arrived, ms, since_trigger, text
from wiringcheck.secrets import shorten

_NORMAL_CLOSE = (1000, 1001)
"""Close codes of a connection ended on purpose (normal closure, going away): no exception to look for."""
_CRASH_CLOSE = (1006, 1011)
"""Close codes of a server that failed: the connection lost without a close frame, or an internal error."""

CODES = ("WC404", "WC408", "WC409", "WC410", "WC411")

_CLIENT_CLOSES = {
    1002: "the server broke the WebSocket protocol",
    1007: "a text frame was not valid UTF-8",
    1009: "a message was larger than the client accepts (16 MiB)",
}


def _closed_how(recording: Recording) -> str:
    if recording.close_code is None and recording.transport == "socketio":
        reason = f" ({recording.close_reason})" if recording.close_reason else ""
        return f"the server disconnected the socket.io client{reason}"
    if recording.close_code is None:
        return "the response stream ended"
    reason = f" ({recording.close_reason})" if recording.close_reason else ""
    if recording.close_code in _NORMAL_CLOSE:
        return f"the server closed the connection normally (code {recording.close_code}{reason})"
    return f"the server closed the connection with code {recording.close_code}{reason}"


def _closed_hint(recording: Recording, terminal: str) -> str:
    if recording.close_code is None and recording.transport == "socketio":
        return (
            f"The server disconnected before {terminal}: look at the backend's log for what ended the session "
            "(a handler that raised, a server-side disconnect), or, if its runs end by disconnecting, declare "
            'completed_by = "end_of_stream".'
        )
    if recording.close_code is None:
        return (
            "The server ended the response before the run finished: look at the backend's log for what ended the "
            'stream, or, if it never sends a terminal event, declare completed_by = "end_of_stream".'
        )
    if recording.close_code in _NORMAL_CLOSE:
        # No exception to look for: the server meant to close, as if the run were over.
        return (
            f"The server ended the connection on purpose, as if the run were over without {terminal}: check that "
            f"it sends {terminal} before it closes (not a limit or a timeout of its own), or map the frame that "
            "does end its runs as the terminal event (probe.events, probe.terminal)."
        )
    if recording.close_code in _CRASH_CLOSE:
        return "Look at the backend's log for the exception that closed the connection."
    return (
        "The server refused the run: its close code and reason say why (auth, a message it does not accept, a limit)."
    )


def check(view: RunView) -> list[Ruling]:
    """The end of the recording, judged: what stopped it, and what came after the terminal."""
    if view.errors:
        return []
    recording, expectation = view.recording, view.expectation
    events = view.everything if view.protocol.strict_lifecycle else view.ours
    findings: list[Finding] = []
    if recording.end == RecordingEnd.OVERFLOW:
        received = sum(len(frame.data) for frame in recording.frames)
        findings.append(
            Finding(
                code="WC411",
                message=(
                    f"the server sent {len(recording.frames)} frames ({received} bytes) for one run; "
                    "the probe stopped listening there"
                ),
                hint="Find the emitter that floods the socket (the first frames are below) and bound it.",
                subject="probe",
                evidence=tuple(
                    f"#{index}: {shorten(text(frame.data), 120)}" for index, frame in enumerate(recording.frames[:5])
                ),
            )
        )
    elif recording.end == RecordingEnd.PROBE_CLOSED:
        reason = f" ({recording.close_reason})" if recording.close_reason else ""
        findings.append(
            Finding(
                code="WC410",
                message=f"the probe closed the connection with code {recording.close_code}{reason}: "
                f"{_CLIENT_CLOSES.get(recording.close_code or 0, 'the server broke the protocol')}",
                hint="Keep every event under the client's size limit, as valid UTF-8 JSON text.",
                subject="probe",
                evidence=(f"arrived: {arrived(view, events)}",),
            )
        )
    terminal_at = next((p for p, e in enumerate(events) if e.type == expectation.terminal), None)
    if terminal_at is not None:
        # The terminal itself counts as seen: a second terminal is an event after the terminal.
        seen_before = {e.type for e in events[: terminal_at + 1]}
        extra: list[str] = []
        for event in events[terminal_at + 1 :]:
            # A first occurrence of an expected event after the terminal is an ordering
            # finding already; everything else after the terminal is reported here.
            if event.type in expectation.events and event.type not in seen_before and event.type not in extra:
                seen_before.add(event.type)
                continue
            extra.append(event.type)
        if extra:
            findings.append(
                Finding(
                    code="WC404",
                    message=(
                        f"{len(extra)} event(s) arrived after the terminal {expectation.terminal}: {', '.join(extra)}"
                    ),
                    hint="Send nothing for a run after its terminal event; clients have stopped listening.",
                    subject="probe",
                    evidence=(f"arrived: {arrived(view, events)}",),
                )
            )
        return [(None, finding) for finding in findings]

    last = events[-1] if events else None
    shown = f"arrived: {arrived(view, events)}"
    last_activity = (
        f"last event: {last.type} at {since_trigger(view, last.frame.received_at)}"
        if last
        else f"frames of any kind: {len(recording.frames)}"
    )
    if recording.end == RecordingEnd.CLOSED:
        findings.append(
            Finding(
                code="WC408",
                message=f"{_closed_how(recording)} before {expectation.terminal}",
                hint=_closed_hint(recording, expectation.terminal),
                subject="probe",
                evidence=(shown, last_activity),
            )
        )
    elif recording.end == RecordingEnd.STALLED:
        since = last.frame.received_at if last else recording.trigger_at
        silent = ms(recording.ended_at - since)
        after = f"after {last.type}" if last else "after the trigger"
        findings.append(
            Finding(
                code="WC409",
                message=(
                    f"no {expectation.terminal}: nothing of the run arrived for {silent:g} ms {after}, "
                    f"past the {expectation.gap_ms or 0:g} ms gap bound and the {expectation.budget_ms:g} ms budget; "
                    "the probe stopped waiting"
                ),
                hint="The run stalled or its events were dropped; the missing events and warnings say where. "
                "A backend that is slow to start or continue a run by design (a run queue that a worker polls) "
                "needs probe.gap_ms above that delay, or gap_ms = false.",
                subject="probe",
                evidence=(shown, last_activity),
            )
        )
    elif recording.end == RecordingEnd.DEADLINE:
        waited = ms(recording.ended_at - recording.trigger_at)
        findings.append(
            Finding(
                code="WC409",
                message=f"no {expectation.terminal} within the run deadline ({waited:g} ms after the trigger)",
                hint="The run stalled or its events were dropped; the missing events and warnings say where.",
                subject="probe",
                evidence=(shown, last_activity),
            )
        )
    return [(None, finding) for finding in findings]
