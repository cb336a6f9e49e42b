"""wiringcheck's own exceptions: one tree under `WiringcheckError`.

The backend's faults are never exceptions here: a crash in startup, a hang or a
missing event is a `Finding` in the `Report`.  These exceptions are for what stops
wiringcheck itself from checking anything, and each one knows the exit code the
command line returns for it::

    WiringcheckError                 exit 4 unless a subclass says otherwise
    ├── UsageError                   exit 2: bad input from the user; nothing was checked
    │   ├── ConfigError              the configuration file (names the file and the key path)
    │   ├── ImportRefError           a "package.module:attribute" that does not resolve
    │   ├── ContractSyntaxError      a contract member that does not parse
    │   ├── WireSyntaxError          a wire expression that does not parse
    │   ├── ThresholdError           a load threshold that does not parse ("agent_thinking.p95 < 100")
    │   ├── PathSyntaxError          a field path that is not dotted (``/data/type``)
    │   └── MatcherError             an event matcher that cannot be used
    ├── LoadError                    `wiringcheck load`'s client processes failed to start, crashed or hung
    ├── BootError                    the backend failed while starting (internal to the targets)
    └── BackendError                 a booted backend could not start or stop (exit 3 for boot)
        └── RoleNotFound             a role asked for by name that the backend does not offer

The types and their exit codes are stable API; the texts of the messages are not.
The command line prints every one of them the same way, ``wiringcheck: error: ...``
on stderr (`print_error`), never as a traceback.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "BackendError",
    "BootError",
    "ConfigError",
    "ContractSyntaxError",
    "ImportRefError",
    "LoadError",
    "MatcherError",
    "PathSyntaxError",
    "RoleNotFound",
    "ThresholdError",
    "UsageError",
    "WireSyntaxError",
    "WiringcheckError",
    "print_error",
]


class WiringcheckError(Exception):
    """Base of every exception wiringcheck raises on purpose."""

    exit_code: int = 4
    """What `wiringcheck` exits with when this error ends a command (see `report.ExitCode`)."""

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuilt from its fields, not by calling __init__ again: it crosses from the supervised
        # child to the parent (`wiringcheck.supervisor`) whatever its subclass's signature. The
        # cause is left behind: it is the backend's, and may not survive the trip.
        return (_rebuilt, (type(self), self.args, dict(vars(self))))


def _rebuilt(kind: type[WiringcheckError], args: tuple[object, ...], state: dict[str, object]) -> WiringcheckError:
    error = kind.__new__(kind)
    error.args = args
    vars(error).update(state)
    return error


class UsageError(WiringcheckError):
    """Bad input from the user (a flag, a file, an import path): one line, exit code 2."""

    exit_code = 2


class ConfigError(UsageError):
    """The configuration cannot be used; the message says where (file, key path) and why."""

    def __init__(self, problem: str, *, source: Path | str | None = None, key: str = "") -> None:
        self.problem = problem
        self.source = str(source) if source is not None else None
        self.key = key
        super().__init__(problem)

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.source, self.key) if part)
        return f"{where}: {self.problem}" if where else self.problem


class ImportRefError(UsageError):
    """A reference that does not resolve: the message names the part that failed and why."""


class ContractSyntaxError(UsageError, ValueError):
    """A contract member that does not parse (``async notify(run_id,``)."""


class WireSyntaxError(UsageError, ValueError):
    """A wire expression that does not parse; the message points at the offending column."""


class ThresholdError(UsageError, ValueError):
    """A load threshold that does not parse or names an unknown metric; the message quotes it."""

    index: int | None = None
    """Which of a list of thresholds it is about, when it is about one."""


class LoadError(WiringcheckError):
    """The client processes of `wiringcheck load` failed to start, crashed or hung: wiringcheck's own error.

    Bad input to a load test (flags, tokens) is a `UsageError` instead.
    """


class PathSyntaxError(UsageError, ValueError):
    """A field path that is not in the documented dotted syntax; the message shows the dotted spelling."""


class MatcherError(UsageError, ValueError):
    """An event matcher that cannot be used (empty, or a condition that is not a value)."""


class BootError(WiringcheckError):
    """The backend failed while starting; `phase` says where (import, factory, lifespan, serve)."""

    def __init__(self, phase: str, error: BaseException) -> None:
        self.phase = phase
        self.error = error
        super().__init__(f"{phase}: {type(error).__name__}: {error}")


class BackendError(WiringcheckError):
    """The backend could not be started or stopped; `phase` says which (``boot`` or ``shutdown``).

    The backend's own exception, when there is one, is chained as the cause, so a
    test's traceback shows the line of startup that raised.
    """

    def __init__(self, phase: str, problem: str) -> None:
        self.phase = phase
        self.problem = problem
        self.exit_code = 3 if phase == "boot" else 1
        super().__init__(problem)

    def __str__(self) -> str:
        return f"{self.phase}: {self.problem}"


class RoleNotFound(BackendError, KeyError):
    """A role asked for by name that the backend does not offer; the message says why."""

    def __init__(self, problem: str) -> None:
        super().__init__("roles", problem)

    def __str__(self) -> str:
        return self.problem


def print_error(error: WiringcheckError | str) -> int:
    """Print ``wiringcheck: error: ...`` on stderr, with URL credentials masked; return the exit code.

    The one place any command reports its own failure, so every error reads the same.
    """
    import sys

    from wiringcheck.secrets import mask_urls

    sys.stderr.write(f"wiringcheck: error: {mask_urls(str(error))}\n")
    return error.exit_code if isinstance(error, WiringcheckError) else UsageError.exit_code
