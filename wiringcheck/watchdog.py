"""The command line's last resort: a verdict even when the backend blocks past every deadline.

Deadlines inside the run (`asyncio.timeout`, and `containment.interrupting_after` for
code that blocks the event loop) end almost every hang. What they cannot end is
code that never returns to Python bytecode, or that swallows the interruption: a C
extension spinning with the GIL, a `while True: try: ... except BaseException: pass`.
For those, the watchdog thread waits for the run's whole budget plus a margin, then
writes the report of what was checked so far, with one finding saying where the main
thread is stuck, and ends the process with the run's exit code.

Only the CLI uses it: ending the process is right for a gate, never for the pytest
plugin or a library caller.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING

from wiringcheck.containment import user_stack
from wiringcheck.findings import CheckResult, Finding, Phase

if TYPE_CHECKING:
    from collections.abc import Callable

    from wiringcheck.config import Settings
    from wiringcheck.render import Outputs
    from wiringcheck.report import Report
    from wiringcheck.runner import Observer

__all__ = ["MARGIN", "Watchdog", "budget"]

MARGIN = 3.0
"""Seconds past the run's whole budget before the watchdog ends the process."""

_CODES = {Phase.BOOT: "WC102", Phase.SHUTDOWN: "WC103"}


def budget(settings: Settings) -> float:
    """The longest a run of `settings` may take when every phase uses its whole deadline."""
    probe = settings.probe
    return settings.startup_timeout + probe.connect_timeout + probe.deadline + settings.shutdown_timeout + 2.0


class Watchdog:
    """An observer that remembers the checks so far and, if the run outlives its budget, reports and exits."""

    def __init__(
        self,
        settings: Settings,
        outputs: Outputs,
        inner: Observer | None = None,
        *,
        deliver: Callable[[Report], None] | None = None,
    ) -> None:
        """`deliver` hands the report on (to a supervising process) instead of writing it to `outputs`."""
        self.settings = settings
        self.outputs = outputs
        self.inner = inner
        self.deliver = deliver
        # The streams as they are now: while the run goes on, sys.stdout collects what the backend prints.
        self._streams = sys.stdout, sys.stderr
        self.learned: tuple[str, ...] = ()
        self.phase = Phase.BOOT
        self.checks: list[CheckResult] = []
        self._timer = threading.Timer(budget(settings) + MARGIN, self._fire)
        self._timer.daemon = True
        self._timer.name = "wiringcheck-watchdog"
        self._main = threading.main_thread().ident

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def phase_started(self, phase: str) -> None:
        if phase in Phase.__members__.values():
            self.phase = Phase(phase)
        if self.inner is not None:
            self.inner.phase_started(phase)

    def secrets_learned(self, values: tuple[str, ...]) -> None:
        self.learned = (*self.learned, *values)
        learned = getattr(self.inner, "secrets_learned", None)
        if learned is not None:
            learned(values)

    def check_finished(self, check: CheckResult) -> None:
        self.checks.append(check)  # already scrubbed by the runner
        if self.inner is not None:
            self.inner.check_finished(check)

    def _fire(self) -> None:
        from wiringcheck.errors import print_error
        from wiringcheck.render import write_outputs
        from wiringcheck.report import Report
        from wiringcheck.secrets import Secrets, mask_urls

        frame = sys._current_frames().get(self._main or 0)
        stack = user_stack(frame)
        innermost = stack[-1] if stack else None
        code = _CODES.get(self.phase, "WC409")
        seconds = budget(self.settings) + MARGIN
        finding = Finding(
            code=code,
            message=f"the backend blocked during {self.phase} past every deadline; "
            f"wiringcheck gave up after {seconds:g} s",
            location=innermost.location if innermost else None,
            hint="Something never returned to the event loop (a C extension, or code that catches "
            "BaseException around a blocking call): the frames below show where.",
            subject=str(self.phase),
            evidence=tuple(f"  {frame}" for frame in stack) or ("no frame of the backend's own code was running",),
        )
        report = Report(kind="run", target=f"{self.settings.target_kind} {mask_urls(self.settings.target)}")
        report.checks = [*self.checks, CheckResult.judged("watchdog", self.phase, [finding])]
        report = Secrets([*self.settings.credentials(os.environ), *self.learned]).scrub(report)
        try:
            if self.deliver is not None:
                self.deliver(report)
            else:
                sys.stdout, sys.stderr = self._streams  # the backend is stuck inside the run: its capture is moot
                write_outputs(report, self.outputs)
        except Exception as exc:  # the process ends either way; say why the report is missing
            print_error(f"cannot write the report: {exc}")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(report.exit_code))
