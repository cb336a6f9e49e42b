"""The catalog of finding codes.

Codes are stable: once published, a code keeps its meaning, so CI suppressions,
baselines and dashboards keyed on it stay valid.  The hundreds say which part of
wiringcheck raises them:

- ``WC1xx`` boot and shutdown of the backend, and what startup did while booting;
- ``WC2xx`` the objects startup built: roles, their contract, the wires between them;
- ``WC3xx`` the static scan;
- ``WC4xx`` the events a real agent run delivers over the WebSocket;
- ``WC5xx`` the same events with many users at once (`wiringcheck load`).

Each code has a page, ``docs/codes/WCnnn.md``, that `wiringcheck explain` prints.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["CODES", "Code", "Link"]


class Link(enum.StrEnum):
    """Where a kind of finding stands in the chain from cause to symptom: what a report leads with.

    A report is read from its first finding; when one run shows both a cause and what
    follows from it, the cause must come first (`report.Report.sort_by_cause`).
    """

    CAUSE = "cause"
    """Names what went wrong, and usually where: an exception, a line, a stored error, a rename."""
    SYMPTOM = "symptom"
    """What follows from a cause without saying which: a wire not made, a call never made, an event that never came."""
    OWN = "own"
    """Judged on its own place in the run: neither explains nor is explained by the others."""


@dataclass(frozen=True, slots=True)
class Code:
    """One entry of the catalog: a title that reads as a sentence, why it matters, and its link in the chain."""

    code: str
    title: str
    why: str
    link: Link = Link.OWN


_ENTRIES = (
    # -- boot ---------------------------------------------------------------------------------
    Code(
        "WC101", "boot failed", "The backend never finished startup, so nothing else could be checked.", link=Link.CAUSE
    ),
    Code(
        "WC102",
        "boot timed out",
        "Startup is waiting on something that never comes; in production the pod never becomes ready.",
        link=Link.CAUSE,
    ),
    Code("WC103", "shutdown failed", "A shutdown that raises or hangs leaks connections and blocks deploys."),
    Code(
        "WC104",
        "coroutine never awaited during boot",
        "An async method called without await never runs: whatever boot needed it to do (often wiring) "
        "silently never happens.",
        link=Link.CAUSE,
    ),
    Code(
        "WC105",
        "warning logged",
        'Backends often log the real failure ("no connection to send events through") and carry on; '
        "that line is the diagnosis.",
    ),
    Code(
        "WC106",
        "expected call not made during startup",
        "A call that startup must make was never made: whatever it sets up is missing.",
        link=Link.SYMPTOM,
    ),
    Code(
        "WC107",
        "guard on a missing attribute",
        "A hasattr()/getattr() guard looked for a member that does not exist, so the guarded wiring was skipped.",
        link=Link.CAUSE,
    ),
    Code(
        "WC108",
        "backend exited",
        "A backend that calls sys.exit() (or raises KeyboardInterrupt) would end the gate with its own exit code; "
        "in production it kills the worker.",
        link=Link.CAUSE,
    ),
    Code(
        "WC109",
        "threads left behind",
        "Threads the backend started and never stopped keep a process alive after shutdown, and leak between tests.",
    ),
    Code(
        "WC110",
        "coroutine never awaited during the run",
        "An async call made while serving the run did nothing: its event or side effect never happens.",
        link=Link.CAUSE,
    ),
    Code(
        "WC111",
        "task failed and nobody awaited it",
        "A background task raised and the exception went nowhere but the event loop's handler: the run stalls.",
        link=Link.CAUSE,
    ),
    Code(
        "WC112",
        "logging disabled during boot",
        "The backend's own warnings, often the real diagnosis, cannot be read here or in production.",
    ),
    Code(
        "WC115",
        "wired late",
        "Startup finished, and the app accepted connections, before the wiring was made: "
        "the first users after every deploy get nothing.",
        link=Link.CAUSE,
    ),
    # -- roles, contract, wires ----------------------------------------------------------------
    Code("WC201", "role not found", "Startup did not build the object, or stored it under another name."),
    Code(
        "WC202",
        "member missing",
        "Callers of a renamed or removed member fail, or skip the call behind a guard.",
    ),
    Code(
        "WC203",
        "async mismatch",
        "Calling an async def without await returns a coroutine and does nothing; awaiting a plain result raises.",
    ),
    Code("WC204", "not callable", "The contract calls this member, but it is a plain attribute (or vice versa)."),
    Code(
        "WC205",
        "parameter not accepted",
        "The live signature rejects an argument the contract passes: callers raise TypeError.",
    ),
    Code(
        "WC206",
        "required parameter not in contract",
        "The live signature requires an argument the contract does not pass: callers raise TypeError.",
    ),
    Code("WC211", "wire not made", "Startup did not connect two objects that must be connected.", link=Link.SYMPTOM),
    Code("WC212", "wire cannot be evaluated", "A path in the wire expression does not exist on the live objects."),
    Code(
        "WC213",
        "startup recorded a failure",
        "Startup stored an error or a wrong state and carried on: the app reports healthy but is not.",
        link=Link.CAUSE,
    ),
    # -- static scan ---------------------------------------------------------------------------
    Code("WC300", "file skipped", "The file could not be read or parsed, so it was not scanned."),
    Code(
        "WC301",
        "attribute missing on class",
        "The attribute is defined nowhere on the class or its bases: the access raises, or its guard never passes.",
    ),
    Code("WC302", "call does not fit signature", "The call raises TypeError when it runs."),
    Code("WC303", "await of a non-awaitable", "Awaiting a plain function's result raises TypeError at run time."),
    Code(
        "WC304",
        "coroutine never awaited",
        "Calling an async def without awaiting it does nothing but warn, and its result is not what the code uses.",
    ),
    Code("WC305", "import of a missing name", "The import raises ImportError when the code runs (often lazily)."),
    Code(
        "WC306",
        "required call missing from startup",
        "Startup code never calls a method the configuration says it must call.",
    ),
    Code("WC307", "contract member missing on class", "The role's class does not define a contract member."),
    Code(
        "WC308",
        "coroutine used as a value",
        "A coroutine stands where its result was meant: it is always true, and what it should do never runs.",
    ),
    # -- events --------------------------------------------------------------------------------
    Code("WC401", "probe could not connect", "No client could connect, so no user can see any event."),
    Code("WC402", "event missing", "Users never see this step of the agent run.", link=Link.SYMPTOM),
    Code("WC403", "event out of order", "Clients that follow the protocol show the run in the wrong state."),
    Code("WC404", "event after terminal", "Clients stop listening at the terminal event; what follows is lost."),
    Code("WC405", "event over budget", "Events that arrive late make the chat feel stuck."),
    Code("WC406", "frame not JSON", "Clients that parse every frame as JSON break on this one."),
    Code("WC407", "event without type", "Clients cannot dispatch an event that does not say what it is."),
    Code(
        "WC408",
        "connection closed early",
        "The server closed the connection (or ended the stream) before the run finished.",
        link=Link.SYMPTOM,
    ),
    Code("WC409", "run deadline reached", "The run did not reach its terminal event in time.", link=Link.SYMPTOM),
    Code(
        "WC410",
        "probe closed the connection",
        "The server sent something a WebSocket client must refuse (a frame too big, invalid UTF-8): "
        "browsers close the connection the same way.",
    ),
    Code(
        "WC411",
        "frame limit reached",
        "The server sent more frames or bytes for one run than any client should have to read; "
        "the probe stopped listening to bound its time and memory.",
    ),
    Code("WC412", "backend signalled failure", "The run ended with the backend's error event: users see the failure."),
    Code("WC413", "credentials refused", "The server refused the probe's token: no client holding it can start a run."),
    Code("WC414", "setup step failed", "The HTTP request that prepares a run failed, so no run could start."),
    Code(
        "WC415",
        "event lifecycle broken",
        "Clients track the run and its tool calls from start/end pairs; a broken pair leaves them in a wrong state.",
    ),
    Code(
        "WC417",
        "stream request refused",
        "The run's HTTP request was answered with an error or a page, not a stream of events: no client can follow "
        "a run there.",
    ),
    Code(
        "WC416",
        "frames matched no event",
        "Frames the configuration does not map are neither checked nor ignored on purpose.",
    ),
    Code(
        "WC420",
        "silence over the gap bound",
        "The user saw nothing for longer than the gap bound, before the first event or between two: "
        "the chat looks stuck.",
    ),
    Code(
        "WC421",
        "once-only event repeated",
        "Clients render a second start or answer as a second run, or reset what they showed.",
    ),
    Code(
        "WC422",
        "tool call never completed",
        "A tool the user saw start never ends: its spinner keeps turning after the run finished.",
    ),
    Code(
        "WC423",
        "event late after it was emitted",
        "The event was buffered or queued before the WebSocket: delivery looks fast, yet the user waits.",
    ),
    Code(
        "WC424",
        "event delivered to another user",
        "One user's agent run is shown to another: a data leak between customers.",
    ),
    Code(
        "WC425",
        "server clock offset",
        "With clocks this far apart, latency from the event's own timestamp means nothing unless corrected.",
    ),
    Code(
        "WC440",
        "identifier used in another's place",
        "Events addressed by the wrong id reach nobody (or someone else): the chat stays silent for the user.",
    ),
    Code(
        "WC441",
        "timestamp is no time",
        "An event whose timestamp is not a time breaks the clients that show it, and its latency cannot be checked.",
    ),
    # -- load ----------------------------------------------------------------------------------
    Code("WC501", "load threshold failed", "The backend misses a target the team set for many users at once."),
    Code(
        "WC502",
        "event missing under load",
        "Some users never see this step when others chat at the same time: the evening peak breaks the chat.",
    ),
    Code(
        "WC503",
        "event out of order under load",
        "Under concurrency, some users' clients show the run in the wrong state.",
    ),
    Code(
        "WC504", "event duplicated under load", "Users see the same step twice; clients that append messages repeat it."
    ),
    Code(
        "WC505", "cross-talk between users", "A user receives another user's agent run: a privacy leak, not just a bug."
    ),
    Code(
        "WC506",
        "client saturated",
        "The load generator itself was too busy, so its latencies include its own delay, not only the backend's.",
    ),
    Code(
        "WC507",
        "runs failed under load",
        "Runs that cannot connect, are closed or never finish are lost conversations.",
    ),
)

CODES: dict[str, Code] = {entry.code: entry for entry in _ENTRIES}
"""Every finding code wiringcheck can report, by code."""
