"""The one result vocabulary: a `Finding`, where it points, and the status of a check.

Every part of wiringcheck (the run's phases, the static scan, the renderers, the
pytest plugin) speaks in these types, so a finding reads the same wherever it is
shown.  They are frozen: a finding is a fact about one run, never edited later.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CheckResult", "Finding", "Location", "Phase", "Severity", "Status"]


class Status(enum.StrEnum):
    """The outcome of one check.

    `SKIPPED` is an outcome of its own: a check that could not run is never
    counted as passed (a `url` target cannot see the objects startup built).
    """

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class Phase(enum.StrEnum):
    """Where a check belongs: the phases of a run, in order, then the log summary and the static scan."""

    BOOT = "boot"
    ROLES = "roles"
    CONTRACT = "contract"
    WIRES = "wires"
    STARTUP = "startup"
    PROBE = "probe"
    SHUTDOWN = "shutdown"
    LOGS = "logs"
    SCAN = "scan"


class Severity(enum.StrEnum):
    """How much a finding weighs on the verdict: only errors fail a check."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Location:
    """A place in the backend's source code, or a place in the configuration."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


@dataclass(frozen=True, slots=True)
class Finding:
    """Something wrong, with a stable code, where it is, why it matters and what to do.

    Attributes:
        code: a stable identifier from `wiringcheck.codes` (``WC402``).
        message: what is wrong, in one sentence, naming the objects involved.
        location: where to look, when known.
        hint: what to do about it.
        subject: the object the finding is about (``registry.set_websocket_manager``).
        evidence: what was observed, as lines of text (frames that arrived, calls made).
        severity: errors fail their check; warnings and notes only inform.
    """

    code: str
    message: str
    location: Location | None = None
    hint: str = ""
    subject: str = ""
    evidence: tuple[str, ...] = ()
    severity: Severity = Severity.ERROR
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        from wiringcheck.codes import CODES

        if self.code not in CODES:
            raise ValueError(f"{self.code!r} is not in the catalog of codes (wiringcheck.codes)")

    @property
    def title(self) -> str:
        """The catalog title of this finding's code."""
        from wiringcheck.codes import CODES

        return CODES[self.code].title

    @property
    def why(self) -> str:
        """Why this kind of finding matters, from the catalog."""
        from wiringcheck.codes import CODES

        return CODES[self.code].why

    def oneline(self) -> str:
        """``path:line: subject: WC203 title: message``, as compilers and linters print."""
        where = f"{self.location}: " if self.location else ""
        subject = f"{self.subject}: " if self.subject else ""
        return f"{where}{subject}{self.code} {self.title}: {self.message}"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check of a run or scan: its name, its phase, its status and its findings.

    `name` is stable and unique within a report (``wire: bridge.websocket_manager is not None``);
    the pytest plugin turns each check into one test item, JUnit into one testcase.
    """

    name: str
    phase: str
    status: Status
    findings: tuple[Finding, ...] = ()
    duration: float = 0.0
    reason: str = ""

    @classmethod
    def judged(cls, name: str, phase: str, findings: Iterable[Finding], *, duration: float = 0.0) -> CheckResult:
        """A check that failed when one of its findings is an error, and passed otherwise."""
        findings = tuple(findings)
        failed = any(f.severity is Severity.ERROR for f in findings)
        status = Status.FAILED if failed else Status.PASSED
        return cls(name=name, phase=phase, status=status, findings=findings, duration=duration)

    @classmethod
    def skipped(cls, name: str, phase: str, reason: str) -> CheckResult:
        """A check that could not run, and why: never counted as passed."""
        return cls(name=name, phase=phase, status=Status.SKIPPED, reason=reason)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)
