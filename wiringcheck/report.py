"""One `Report` per run, probe or scan, and the mapping from a report to an exit code.

Exit codes (documented in docs/exit-codes.md, stable):

==== ==========================================================================
0    every check that ran passed (skipped checks are listed, never counted as passed)
1    a check failed: a finding of severity error
2    configuration or usage error: nothing was checked
3    the backend failed to boot (or hung in startup), or ended the process running the check
     without a verdict (WC108): the other checks could not run
4    wiringcheck's own error: a bug, please report it
==== ==========================================================================
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any

from wiringcheck.codes import CODES, Link
from wiringcheck.findings import CheckResult, Finding, Phase, Status

__all__ = ["SCHEMA_VERSION", "EventRecord", "ExitCode", "LogRecord", "Output", "Report", "cause_rank"]

SCHEMA_VERSION = 1
"""Version of the JSON report's schema; bumped on any incompatible change."""


class ExitCode(enum.IntEnum):
    """The process exit status of `wiringcheck run`, `probe` and `scan`."""

    OK = 0
    CHECK_FAILED = 1
    USAGE_ERROR = 2
    BOOT_FAILED = 3
    INTERNAL_ERROR = 4


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One frame of the probed run, as the timeline shows it.

    Attributes:
        index: position among the frames received, from 0.
        type: the event's type, or ``None`` for a frame without one.
        run_id: the run the event belongs to, if it says.
        at_ms: receive time, in milliseconds after the trigger was sent.
        latency_ms: delivery latency (backend hand-off to probe), when measurable.
        ours: whether the event belongs to the probe's run.
        emitted_at_ms: when the backend's emitting call (probe.emit) ran, in ms after the trigger.
        sent_at_ms: when the backend handed the frame to its WebSocket layer, in ms after the trigger.

    The break-down of an in-process event is emit (`emitted_at_ms`) → hand-off
    (`sent_at_ms`) → receipt (`at_ms`); `latency_ms` is the delivery leg (hand-off → receipt).
    An implied event (`implied`) sits before the first frame or after the last.
    """

    index: int
    type: str | None
    run_id: str | None
    at_ms: float
    latency_ms: float | None
    ours: bool = True
    emitted_at_ms: float | None = None
    sent_at_ms: float | None = None
    implied: str = ""
    """What implied an event the server does not send ("the response", "the first frame", "the end of the
    stream": `probe.started_by`, `probe.completed_by`); empty for a frame that arrived."""

    @property
    def emission_ms(self) -> float | None:
        """From the emitting call to the receipt: the latency a user feels, when the emit is traced."""
        return round(self.at_ms - self.emitted_at_ms, 3) if self.emitted_at_ms is not None else None


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A log record of level WARNING or above that the backend emitted during the run."""

    phase: str
    level: str
    logger: str
    message: str
    location: str = ""
    count: int = 1


@dataclass(frozen=True, slots=True)
class Output:
    """What the backend wrote to its standard output or error during one phase (``print()``, its log handlers).

    Attributes:
        phase: the phase it was written in.
        stream: ``stdout`` or ``stderr``.
        lines: what was kept, line by line: the start and the end, with the cut marked when it was long.
        dropped: characters not kept, between the start and the end.
    """

    phase: str
    stream: str
    lines: tuple[str, ...]
    dropped: int = 0


_CAUSE_RANKS = {
    Phase.BOOT: 0,
    Phase.STARTUP: 1,
    Phase.ROLES: 2,
    Phase.CONTRACT: 3,
    Phase.WIRES: 4,
    Phase.PROBE: 5,
    Phase.SHUTDOWN: 7,
    Phase.LOGS: 8,
}
_EVENTS_RANK = 6


def _link(finding: Finding) -> Link:
    return CODES[finding.code].link


def _tier(check: CheckResult) -> int:
    """0: the check failed on a cause; 2: on symptoms only; 1: anything else (passed, skipped, its own findings)."""
    links = {_link(finding) for finding in check.errors}
    if Link.CAUSE in links:
        return 0
    return 2 if links == {Link.SYMPTOM} else 1


def _phase_rank(check: CheckResult) -> int:
    if check.phase == Phase.PROBE and check.name == "isolation":
        # Cross-talk is the cause of the events one user missed: it leads, after the wires.
        return _CAUSE_RANKS[Phase.WIRES]
    if check.phase == Phase.PROBE and check.name != "probe":
        return _EVENTS_RANK
    return _CAUSE_RANKS.get(Phase(check.phase), 0) if check.phase in _CAUSE_RANKS else 0


def cause_rank(check: CheckResult) -> tuple[int, int]:
    """Where a check stands in the chain from cause to symptom.

    First the checks that failed on a cause (`codes.Link.CAUSE`: an exception, a coroutine
    never awaited or scheduled, a stored startup error, a guard that skipped a renamed
    member), then the others in the order of the run (boot, startup, the objects and their
    wires, the connection, the events), and last the checks that failed only on symptoms
    (a wire not made, a call never made, an event that never came, the deadline).
    """
    return _tier(check), _phase_rank(check)


def _causes_first(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    order = {Link.CAUSE: 0, Link.OWN: 1, Link.SYMPTOM: 2}
    return tuple(sorted(findings, key=lambda finding: order[_link(finding)]))


@dataclass(slots=True)
class Report:
    """Everything one `wiringcheck` invocation found.

    The runner appends checks as phases complete; renderers only read it.
    """

    kind: str
    target: str
    checks: list[CheckResult] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    clock: str = ""
    budget_ms: float | None = None
    timings: dict[str, float | None] = field(default_factory=dict)
    logs: list[LogRecord] = field(default_factory=list)
    output: list[Output] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    duration: float = 0.0
    aborted: bool = False
    """The process running the backend ended without a verdict (WC108): the checks after that could not run."""

    def add(self, check: CheckResult) -> None:
        self.checks.append(check)

    def sort_by_cause(self) -> None:
        """Order the checks (and each check's findings) causes first, so every format leads with what to fix.

        A cause wherever the run found it (a startup error the app stored, an unscheduled
        coroutine in the WebSocket handler), then boot, what startup called (or failed to),
        the objects it built and their wires, the connection, the events, shutdown and the
        logs, and last the symptoms: five missing events and the deadline are what one
        unmade wire looks like, and must not bury it (`cause_rank`). The sort is stable,
        so checks of one kind keep the order the run made them in.
        """
        self.checks = [replace(check, findings=_causes_first(check.findings)) for check in self.checks]
        self.checks.sort(key=cause_rank)

    @property
    def first_cause(self) -> Finding | None:
        """The first error finding in cause order: what the headline names."""
        checks = sorted(self.checks, key=cause_rank)
        return next((f for check in checks for f in _causes_first(check.errors)), None)

    @property
    def findings(self) -> list[Finding]:
        return [finding for check in self.checks for finding in check.findings]

    @property
    def ok(self) -> bool:
        """True when no check failed. A report whose checks were all skipped is still ok."""
        return not any(check.status is Status.FAILED for check in self.checks)

    @property
    def boot_failed(self) -> bool:
        return any(check.phase == "boot" and check.status is Status.FAILED for check in self.checks)

    @property
    def exit_code(self) -> ExitCode:
        if self.boot_failed or self.aborted:
            return ExitCode.BOOT_FAILED
        return ExitCode.OK if self.ok else ExitCode.CHECK_FAILED

    def counts(self) -> dict[Status, int]:
        counts = dict.fromkeys(Status, 0)
        for check in self.checks:
            counts[check.status] += 1
        return counts
