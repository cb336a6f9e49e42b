"""Capture what the backend says while it boots and runs: log records, Python warnings, and what it prints.

Real backends log the real failure ("emission blocked: no WebSocket manager") and
carry on, and an async setter called without `await` only leaves a
`RuntimeWarning: coroutine ... was never awaited`.  Both are often the whole
diagnosis, so the runner collects them per phase and turns them into findings.

While the probe runs, the same goes for the run itself: coroutines never awaited
(WC110), exceptions of tasks nobody awaited, which only reach the event loop's
exception handler (WC111), and loguru's records when the backend logs with loguru
(read through a sink added for the phase; loguru is never a dependency).  A
backend that disables logging while it boots gets a warning (WC112), since the
advice to read the logged warnings is then empty.

What the backend writes to ``sys.stdout`` and ``sys.stderr`` (``print()``, a log
handler it configured, a record no handler takes, asyncio's "Task exception was never
retrieved") is evidence too: `Capture.output` collects it, bounded, by phase, for the
report (`report.Output`), which the one scrubber cleans like everything else. Nothing
the backend writes reaches wiringcheck's own stdout, which may be carrying a JSON or
SARIF report. What bypasses ``sys.stdout`` (a C extension writing to descriptor 1) is
caught one level down, by the CLI's supervising process (`wiringcheck.supervisor`).
"""

from __future__ import annotations

import functools
import gc
import importlib.util
import io
import logging
import re
import sys
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from wiringcheck.diagnose import is_user_file
from wiringcheck.findings import CheckResult, Finding, Location, Phase, Severity
from wiringcheck.render import shown_path
from wiringcheck.report import LogRecord, Output
from wiringcheck.secrets import Secrets

__all__ = ["OUTPUT_KEPT", "Capture", "Kept", "scrubbed_logs"]

_IGNORED_LOGGERS = ("wiringcheck", "uvicorn.access", "websockets.client", "asyncio")
_ORIGIN_DEPTH = 32
_COROUTINE = re.compile(r"coroutine '(?P<name>[^']+)' was never awaited")


@dataclass(slots=True)
class _Warning:
    message: str
    category: str
    location: Location | None
    origin: tuple[str, ...] = ()


class _Handler(logging.Handler):
    def __init__(self, sink: Capture) -> None:
        super().__init__(level=logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(_IGNORED_LOGGERS):
            return
        try:
            message = record.getMessage()
        except Exception:  # a broken format string in the backend must not break the run
            message = str(record.msg)
        where = f"{record.pathname}:{record.lineno}"
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and not is_user_file(record.pathname):
            # A server logging the backend's exception ("Exception in ASGI application"): the
            # exception and the backend's line it came from are the diagnosis, not the server's line.
            from wiringcheck.diagnose import describe_exception

            headline, frames = describe_exception(error)
            message = f"{message.strip()}: {headline}"
            if frames:
                where = f"{frames[-1].path}:{frames[-1].line}"
        key = (self.sink.phase, record.levelname, record.name, str(record.msg), where)
        if key not in self.sink.first_message:
            self.sink.first_message[key] = message
        self.sink.log_counts[key] += 1


class _Scrubbing(logging.Filter):
    """Rewrites each record, before any handler formats it, with the run's secrets removed."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string in the backend must not break the run
            message = str(record.msg)
        clean = self.secrets.scrub_text(message)
        if clean != message:  # rewritten only when it must be: records of one format string stay grouped
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.secrets.scrub_text(record.exc_text)
        return True


def _handlers() -> list[logging.Handler]:
    loggers = [
        logging.getLogger(),
        *(item for item in logging.Logger.manager.loggerDict.values() if isinstance(item, logging.Logger)),
    ]
    return [handler for logger in loggers for handler in logger.handlers]


@contextmanager
def scrubbed_logs(secrets: Secrets) -> Iterator[Callable[[], None]]:
    """Scrub the run's secrets from every log record any handler writes (the backend's, pytest's), for the block.

    Yields a function that covers handlers added since (a backend configures logging in its startup).
    """
    scrubbing = _Scrubbing(secrets)
    covered: list[logging.Handler] = []

    def cover() -> None:
        for handler in _handlers():
            if scrubbing not in handler.filters:
                handler.addFilter(scrubbing)
                covered.append(handler)

    if secrets:
        cover()
    try:
        yield cover if secrets else (lambda: None)
    finally:
        for handler in covered:
            handler.removeFilter(scrubbing)


def _count(sink: Capture, level: str, name: str, template: str, message: str, where: str) -> None:
    key = (sink.phase, level, name, template, where)
    if key not in sink.first_message:
        sink.first_message[key] = message
    sink.log_counts[key] += 1


@functools.cache
def _loguru_installed() -> bool:
    return importlib.util.find_spec("loguru") is not None


def _loguru_sink(sink: Capture) -> Any:
    def write(message: Any) -> None:
        record = message.record
        name = str(record["name"] or "loguru")
        if name.startswith(_IGNORED_LOGGERS):
            return
        where = f"{record['file'].path}:{record['line']}"
        _count(sink, record["level"].name, name, str(record["message"]), str(record["message"]), where)

    return write


OUTPUT_KEPT = 32 * 1024
"""Characters kept of what the backend writes to one stream in one phase: this many of its start, as many of its end."""


class Kept:
    """A text written piece by piece, kept bounded: its first and its last `limit` characters, and how many between."""

    def __init__(self, limit: int = OUTPUT_KEPT) -> None:
        self.limit = limit
        self._head: list[str] = []
        self._head_size = 0
        self._tail = ""
        self.dropped = 0

    def add(self, text: str) -> None:
        if self._head_size < self.limit:
            taken = text[: self.limit - self._head_size]
            self._head.append(taken)
            self._head_size += len(taken)
            text = text[len(taken) :]
        if text:
            self._tail += text
            if len(self._tail) > 2 * self.limit:  # trimmed in batches: appending stays cheap
                excess = len(self._tail) - self.limit
                self.dropped += excess
                self._tail = self._tail[excess:]

    def text(self) -> str:
        """What was kept; a cut is marked where characters were dropped (so the scrubber knows it is a cut)."""
        head = "".join(self._head)
        if not self.dropped:
            return head + self._tail
        return f"{head}… ({self.dropped} characters not kept) …{self._tail}"


class _Written(io.RawIOBase):
    """The byte side of a captured stream (``sys.stdout.buffer``): bytes are decoded and recorded as text."""

    def __init__(self, stream: _Stream) -> None:
        super().__init__()
        self._stream = stream

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        payload = bytes(data)
        self._stream.write(payload.decode("utf-8", "backslashreplace"))
        return len(payload)

    def fileno(self) -> int:
        return self._stream.fileno()


class _Stream(io.TextIOBase):
    """Stands in for ``sys.stdout`` or ``sys.stderr`` while the backend runs: what it writes is recorded, not shown."""

    def __init__(self, sink: Capture, name: str, original: IO[str]) -> None:
        super().__init__()
        self._sink = sink
        self._name = name
        self._original = original
        self.buffer = _Written(self)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return "backslashreplace"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._sink.record_output(self._name, str(text))
        return len(text)

    def isatty(self) -> bool:
        return False  # no colours, no progress bars: it is a record, not a terminal

    def output_records(self) -> list[Output]:
        """What the backend has written so far (for a process about to end before the run can report it)."""
        return self._sink.output_records()

    def fileno(self) -> int:
        # The real descriptor, for what needs one (faulthandler): what is written there directly
        # is the supervising process's to collect.
        return self._original.fileno()


@dataclass(slots=True)
class Capture:
    """Collects log records (WARNING and above) and warnings while a phase runs."""

    phase: str = ""
    log_counts: Counter[tuple[str, str, str, str, str]] = field(default_factory=Counter)
    first_message: dict[tuple[str, str, str, str, str], str] = field(default_factory=dict)
    warnings: list[_Warning] = field(default_factory=list)
    runtime_warnings: list[tuple[str, _Warning]] = field(default_factory=list)
    loop_errors: list[tuple[str, str, Location | None, tuple[str, ...]]] = field(default_factory=list)
    logging_disabled: list[str] = field(default_factory=list)
    printed: dict[tuple[str, str], Kept] = field(default_factory=dict)
    _printing: threading.Lock = field(default_factory=threading.Lock)

    def record_output(self, stream: str, text: str) -> None:
        """Note `text`, written by the backend to `stream` (``stdout``, ``stderr``) during the current phase."""
        with self._printing:  # the backend's threads print too
            kept = self.printed.get((self.phase, stream))
            if kept is None:
                kept = self.printed[(self.phase, stream)] = Kept()
            kept.add(text)

    @contextmanager
    def output(self) -> Iterator[None]:
        """Collect what is written to ``sys.stdout`` and ``sys.stderr`` for the block, by phase, instead of showing it.

        On the way out, finalizers run (``gc.collect`` of the young generations: cheap, and
        where the run's dropped tasks are) while the streams are still collected: a task
        that failed unobserved reports itself when it is collected.
        """
        saved = sys.stdout, sys.stderr
        sys.stdout = _Stream(self, "stdout", saved[0])
        sys.stderr = _Stream(self, "stderr", saved[1])
        try:
            yield
        finally:
            gc.collect(1)
            sys.stdout, sys.stderr = saved  # also when the backend replaced them itself

    def output_records(self) -> list[Output]:
        """What the backend wrote, by phase and stream, in the order the phases ran."""
        return [
            Output(phase=phase, stream=stream, lines=tuple(kept.text().splitlines()), dropped=kept.dropped)
            for (phase, stream), kept in self.printed.items()
        ]

    @contextmanager
    def logs(self, phase: str) -> Iterator[None]:
        """Attach a handler to the root logger (and a sink to loguru, when installed) for `phase`."""
        self.phase = phase
        handler = _Handler(self)
        root = logging.getLogger()
        root.addHandler(handler)
        loguru_id = None
        if "loguru" in sys.modules or _loguru_installed():
            from loguru import logger  # type: ignore[import-not-found,unused-ignore]

            loguru_id = logger.add(_loguru_sink(self), level="WARNING", format="{message}", catch=True)
        try:
            yield
        finally:
            root.removeHandler(handler)
            if loguru_id is not None:
                from loguru import logger  # type: ignore[import-not-found,unused-ignore]

                logger.remove(loguru_id)

    @contextmanager
    def logging_watch(self, packages: Sequence[str] = ()) -> Iterator[None]:
        """Notice a backend that disables logging while it boots (logging.disable, logger.disabled, fileConfig).

        The loggers of `packages` (the backend's own, from the configuration) are named first:
        a fileConfig that disables 238 loggers hides the application's among its dependencies'.
        """
        manager = logging.root.manager
        before_level = manager.disable
        before = {name for name, lg in manager.loggerDict.items() if getattr(lg, "disabled", False)}
        try:
            yield
        finally:
            if manager.disable > before_level:
                self.logging_disabled.append(f"logging.disable({logging.getLevelName(manager.disable)})")
            now = {name for name, lg in manager.loggerDict.items() if getattr(lg, "disabled", False)}
            added = [name for name in now - before if not name.startswith(_IGNORED_LOGGERS)]
            if added:
                self.logging_disabled.append(_disabled_loggers(added, packages))

    @contextmanager
    def runtime(self, phase: str) -> Iterator[None]:
        """While the run goes on: unawaited coroutines and exceptions that reached the loop's handler."""
        import asyncio

        loop = asyncio.get_running_loop()
        previous_handler = loop.get_exception_handler()

        def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            error = context.get("exception")
            message = str(context.get("message") or "unhandled error in the event loop")
            where: Location | None = None
            evidence: tuple[str, ...] = ()
            if isinstance(error, BaseException):
                from wiringcheck.diagnose import describe_exception

                headline, frames = describe_exception(error)
                message = f"{message}: {headline}"
                where = frames[-1].location if frames else None
                evidence = tuple(f"  {frame}" for frame in frames)
            self.loop_errors.append((phase, message, where, evidence))

        previous_depth = sys.get_coroutine_origin_tracking_depth()
        sys.set_coroutine_origin_tracking_depth(_ORIGIN_DEPTH)
        loop.set_exception_handler(handler)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            finally:
                gc.collect(1)  # finalize dropped tasks and coroutines now (young ones: cheap), so they land here
                loop.set_exception_handler(previous_handler)
                sys.set_coroutine_origin_tracking_depth(previous_depth)
        for item in caught:
            self.runtime_warnings.append((phase, _describe_warning(item)))

    def runtime_findings(self) -> list[Finding]:
        """WC110 for each coroutine never awaited while the run went on, WC111 for each unretrieved error."""
        found: list[Finding] = []
        for phase, item in self.runtime_warnings:
            if (unawaited := _unawaited(item, "WC110", f"the {phase}")) is not None:
                found.append(unawaited)
        for phase, message, where, evidence in self.loop_errors:
            found.append(
                Finding(
                    code="WC111",
                    message=f"during the {phase}, a task failed and nobody awaited it: {message}",
                    location=where,
                    hint="Keep a reference to background tasks and await them (or add a done callback that logs); "
                    "the run's missing events are often this exception.",
                    subject=phase,
                    evidence=evidence,
                )
            )
        return found

    @contextmanager
    def python_warnings(self) -> Iterator[None]:
        """Record warnings (with coroutine origins, to attribute unawaited calls to their call site)."""
        previous_depth = sys.get_coroutine_origin_tracking_depth()
        sys.set_coroutine_origin_tracking_depth(_ORIGIN_DEPTH)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            finally:
                gc.collect()  # finalize dropped coroutines now, so their warnings land here
                sys.set_coroutine_origin_tracking_depth(previous_depth)
        for item in caught:
            self.warnings.append(_describe_warning(item))

    def log_records(self) -> list[LogRecord]:
        return [
            LogRecord(
                phase=phase,
                level=level,
                logger=logger,
                message=self.first_message[key],
                location=where,
                count=count,
            )
            for key, count in self.log_counts.items()
            for (phase, level, logger, _, where) in [key]
        ]

    def logs_check(self) -> CheckResult | None:
        """The ``logs`` check (WC105 for what the backend logged, WC112 when it disabled logging), if it found any."""
        logged = [finding for finding in self.findings() if finding.code in ("WC105", "WC112")]
        return CheckResult.judged("logs", Phase.LOGS, logged) if logged else None

    def findings(self) -> list[Finding]:
        """WC104 for each coroutine never awaited, WC105 for each group of logged warnings."""
        found: list[Finding] = []
        for item in self.warnings:
            if (unawaited := _unawaited(item, "WC104", "boot")) is not None:
                found.append(unawaited)
        for record in self.log_records():
            path, _, line = record.location.rpartition(":")
            times = f" ({record.count} times)" if record.count > 1 else ""
            found.append(
                Finding(
                    code="WC105",
                    message=f"{record.level} during {record.phase} from {record.logger}{times}: {record.message}",
                    location=Location(path, int(line)) if line.isascii() and line.isdigit() else None,
                    hint="Read this log line: backends often log the real failure and carry on.",
                    subject=f"log: {record.logger}",
                    severity=Severity.WARNING,
                )
            )
        for what in self.logging_disabled:
            found.append(
                Finding(
                    code="WC112",
                    message=f"the backend disabled logging while it booted: {what}",
                    hint="Its warnings cannot be read, here or in production: keep loggers enabled "
                    "(fileConfig(..., disable_existing_loggers=False)) and drop logging.disable().",
                    subject="logging",
                    severity=Severity.WARNING,
                )
            )
        return found


def _disabled_loggers(names: Sequence[str], packages: Sequence[str], shown: int = 5) -> str:
    """How many loggers were disabled, the backend's own (those of `packages`) named first, then how many others."""

    def own(name: str) -> bool:
        return any(name == package or name.startswith(f"{package}.") for package in packages)

    ranked = sorted(names, key=lambda name: (not own(name), name))
    mine = sum(1 for name in names if own(name))
    of_theirs = f", {mine} of them from {', '.join(packages)}" if mine else ""
    rest = f" and {len(ranked) - shown} others" if len(ranked) > shown else ""
    return f"{len(ranked)} logger(s) disabled{of_theirs} ({', '.join(ranked[:shown])}{rest})"


def _unawaited(item: _Warning, code: str, during: str) -> Finding | None:
    """WC104 (boot) or WC110 (the run) when a recorded warning says a coroutine was never awaited."""
    match = _COROUTINE.search(item.message)
    if not match or item.category != "RuntimeWarning":
        return None
    return Finding(
        code=code,
        message=f"{match['name']}() was called during {during} but its coroutine was never awaited or scheduled",
        location=item.location,
        hint=(
            f"Await the call to {match['name']}() (it is async def), or make it a plain def."
            if code == "WC104"
            else f"Await the call to {match['name']}(), or, to let it run in the background, schedule it "
            "with asyncio.create_task(...) and keep a reference to the task until it ends."
        ),
        subject=match["name"],
        evidence=item.origin,
    )


def _describe_warning(item: warnings.WarningMessage) -> _Warning:
    """A recorded warning, attributed to the backend's call site when its origin is known.

    For an unawaited coroutine the warning itself points wherever it was finalized;
    its `cr_origin` (innermost frame first) names the call that created it.
    """
    frames = getattr(getattr(item, "source", None), "cr_origin", None) or ()
    user_frames = [(path, line, function) for path, line, function in frames if is_user_file(path)]
    if user_frames:
        location: Location | None = Location(user_frames[0][0], user_frames[0][1])
    elif is_user_file(item.filename):
        location = Location(item.filename, item.lineno)
    else:
        location = None
    origin = tuple(f"created at {shown_path(path)}:{line} in {function}" for path, line, function in user_frames)
    return _Warning(
        message=str(item.message).split("\n", 1)[0],
        category=item.category.__name__,
        location=location,
        origin=origin,
    )
