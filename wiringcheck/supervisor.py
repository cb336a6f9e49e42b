"""A gate that cannot be made to pass by dying: the in-process check runs in a child, watched by a tiny parent.

Nothing in a process survives `os._exit()`: a backend that calls it in its factory
(or is killed by the OOM killer, or crashes in a C extension) ends the process at
once, with whatever exit status it chose and no report. So the CLI (and the pytest
plugin's items) run the check in a child process, and the parent only waits:

- the child sends the parent its progress (each phase, each check, each secret it
  learns) and then its verdict, through a pipe (`Relay`);
- what the child writes to its descriptors 1 and 2 goes to two more pipes, which the
  parent keeps, bounded, as evidence (a C extension's writes, a crash's last words):
  nothing the backend writes can reach the parent's stdout, which may carry the report;
- when the child ends without a verdict, whatever its exit status, the parent builds
  the report itself (`death_report`): the checks it had received, then WC108 naming the
  phase, how the child ended and, when the backend called `os._exit`, where. Its exit
  code is 3: the checks after that point could not run.

The child is forked when that is safe (a POSIX system other than macOS, and no other
thread in the parent); otherwise it is started with `multiprocessing`'s ``spawn``
method, and its work and arguments must then be picklable (module-level functions,
settings). The parent imports nothing heavy: the child imports the runner, uvicorn
and the backend after it has split off.

Trust: the child runs the backend, which can do anything wiringcheck's own code in the
child can, including write to the pipe. The parent defends against a child that dies,
hangs or floods, not against one that forges a verdict (an in-process backend could
patch the runner as easily).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from wiringcheck.errors import UsageError, WiringcheckError

if TYPE_CHECKING:
    from wiringcheck.config import Settings
    from wiringcheck.diagnose import FrameInfo
    from wiringcheck.findings import CheckResult
    from wiringcheck.report import Output, Report
    from wiringcheck.secrets import Secrets

__all__ = [
    "ChildCrashed",
    "Death",
    "Relay",
    "Supervised",
    "death_report",
    "fork_is_safe",
    "report_of",
    "supervise",
]

_T = TypeVar("_T")

_HEADER = struct.Struct("!I")
_DRAIN = 0.5
"""Seconds the parent keeps reading the child's output after the verdict (or its death), for its last words."""
_REAP = 5.0
"""Seconds a child that gave its verdict may take to exit before it is killed."""


class ChildCrashed(Exception):
    """wiringcheck's own code failed in the child; `details` is its traceback."""

    def __init__(self, details: str) -> None:
        self.details = details
        super().__init__(details.strip().splitlines()[-1] if details.strip() else "the check process failed")


def fork_is_safe() -> bool:
    """Whether the child may be forked: POSIX, not macOS (its system libraries refuse), and this the only thread."""
    return hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1


# -- the child's end -------------------------------------------------------------------------------


class Relay:
    """The child's side of the pipe: the runner's observer, and the way the verdict reaches the parent."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()  # the backend's threads may end the process too

    def send(self, message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        payload = memoryview(_HEADER.pack(len(data)) + data)
        with self._lock:
            while payload:
                written = os.write(self._fd, payload)
                payload = payload[written:]

    # the runner's Observer
    def phase_started(self, phase: str) -> None:
        self.send(("phase", str(phase)))

    def check_finished(self, check: CheckResult) -> None:
        self.send(("check", check))

    def secrets_learned(self, values: Iterable[str]) -> None:
        """Secrets the run learnt (a setup step's captures): the parent scrubs the child's output with them too."""
        self.send(("secrets", tuple(values)))

    def call(self, target: str, method: str, **kwargs: Any) -> None:
        """Call `method` of the parent's object named `target` (a progress display) with `kwargs`."""
        self.send(("call", target, method, kwargs))

    def deliver(self, verdict: Any) -> None:
        """Hand the verdict to the parent (the watchdog's report, before it ends the process)."""
        self.send(("result", verdict))

    def reporting_exit(self, real_exit: Callable[[int], Any]) -> Callable[[int], Any]:
        """`os._exit` that first tells the parent who called it, and from where."""

        def _exit(code: int) -> Any:
            from wiringcheck.containment import user_stack

            with contextlib.suppress(Exception):
                stack = user_stack(sys._getframe(1), stop=lambda frame: frame.f_code is _child.__code__)
                self.send(("exit", code, stack))
                # What the backend printed is held in this process (`Capture.output`): its last words go first.
                printed = getattr(sys.stdout, "output_records", None)
                if printed is not None:
                    self.send(("output", printed()))
            return real_exit(code)

        return _exit


def _child(work: Callable[..., Any], args: tuple[Any, ...], channel: int, out: int, err: int) -> None:
    """Run `work(relay, *args)` with descriptors 1 and 2 on the parent's pipes; send its verdict; never return."""
    real_exit = os._exit
    os.dup2(out, 1)
    os.dup2(err, 2)
    for fd in {out, err} - {1, 2}:
        os.close(fd)
    # Python's streams onto those descriptors, whatever they wrapped in the parent (pytest's capture files).
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
    relay = Relay(channel)
    os._exit = relay.reporting_exit(real_exit)  # type: ignore[assignment]
    try:
        verdict = work(relay, *args)
        try:
            relay.send(("result", verdict))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            relay.send(("crash", f"the verdict cannot be sent to the parent: {exc!r}"))
    except WiringcheckError as exc:
        try:
            relay.send(("error", exc))
        except Exception:  # a field that does not pickle: the message and the exit code are what matter
            relay.send(("error", UsageError(str(exc)) if exc.exit_code == 2 else _as_error(str(exc), exc.exit_code)))
    except KeyboardInterrupt:
        relay.send(("interrupted",))
    except BaseException:  # wiringcheck's own failure: the parent reports it as an internal error
        import traceback

        with contextlib.suppress(Exception):
            relay.send(("crash", traceback.format_exc()))
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        real_exit(0)


def _as_error(message: str, exit_code: int) -> WiringcheckError:
    error = WiringcheckError(message)
    error.exit_code = exit_code
    return error


def _spawned(work: Callable[..., Any], args: tuple[Any, ...], channel: Any, out: Any, err: Any) -> None:
    """The child started by `multiprocessing` (spawn): the descriptors arrive as `Connection`s."""
    fds = []
    for handle in (channel, out, err):
        fds.append(os.dup(handle.fileno()))
        handle.close()
    _child(work, args, *fds)


# -- the parent's end ------------------------------------------------------------------------------


@dataclass
class Death:
    """How a child ended without a verdict: its status, the phase it was in, what it had reported.

    Attributes:
        status: how it ended, for a person (``exit status 0``, ``signal 9 (SIGKILL)``).
        phase: the last phase it announced.
        checks: the checks it reported before it ended.
        exit_code: the code the backend passed to `os._exit`, when it called it.
        exit_stack: the backend's frames where it called `os._exit`, outermost first.
    """

    status: str
    phase: str = ""
    checks: list[CheckResult] = field(default_factory=list)
    exit_code: int | None = None
    exit_stack: list[FrameInfo] = field(default_factory=list)


@dataclass
class Supervised(Generic[_T]):
    """What the parent got: the verdict or the death, what the child wrote, and the secrets it learnt."""

    verdict: _T | None = None
    death: Death | None = None
    output: list[Output] = field(default_factory=list)
    secrets: tuple[str, ...] = ()


class _Parent:
    """Reads the child's pipe and descriptors until it ends, feeding progress to the observer."""

    def __init__(self, observer: Any, targets: Mapping[str, Any]) -> None:
        self.observer = observer
        self.targets = targets
        self.capture: Any = None  # the child's descriptors, kept bounded, by phase: made when it writes there
        self.buffer = b""
        self.decoders: dict[str, Any] = {}
        self.phase = ""
        self.checks: list[CheckResult] = []
        self.secrets: list[str] = []
        self.exit: tuple[int, list[FrameInfo]] | None = None
        self.printed: list[Output] = []
        """What the backend had printed in the child, held there, sent before it ended the process."""
        self.answer: tuple[Any, ...] | None = None

    def on_channel(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.buffer)
            if len(self.buffer) < _HEADER.size + size:
                return
            message = pickle.loads(self.buffer[_HEADER.size : _HEADER.size + size])
            self.buffer = self.buffer[_HEADER.size + size :]
            self.on_message(message)

    def on_message(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "phase":
            self.phase = message[1]
            if self.observer is not None:
                self.observer.phase_started(message[1])
        elif kind == "check":
            self.checks.append(message[1])
            if self.observer is not None:
                self.observer.check_finished(message[1])
        elif kind == "secrets":
            self.secrets.extend(message[1])
        elif kind == "call":
            target = self.targets.get(message[1])
            if target is not None and not message[2].startswith("_"):
                getattr(target, message[2])(**message[3])
        elif kind == "exit":
            self.exit = (message[1], message[2])
        elif kind == "output":
            self.printed.extend(message[1])
        elif self.answer is None:  # result, error, interrupted, crash: the first one counts
            self.answer = message

    def on_output(self, stream: str, data: bytes) -> None:
        import codecs

        decoder = self.decoders.get(stream)
        if decoder is None:
            decoder = self.decoders[stream] = codecs.getincrementaldecoder("utf-8")("backslashreplace")
        text = decoder.decode(data)
        if text:
            if self.capture is None:  # imported only when the child wrote to its descriptors: rarely
                from wiringcheck.capture import Capture

                self.capture = Capture()
            self.capture.phase = self.phase
            self.capture.record_output(stream, text)

    def output(self) -> list[Output]:
        return self.capture.output_records() if self.capture is not None else []


def _status(code: int | None) -> str:
    if code is None:
        return "no status"
    if code >= 0:
        return f"exit status {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = "unknown signal"
    return f"signal {-code} ({name})"


def supervise(
    work: Callable[..., _T],
    args: tuple[Any, ...] = (),
    *,
    timeout: float,
    observer: Any = None,
    targets: Mapping[str, Any] | None = None,
) -> Supervised[_T]:
    """Run ``work(relay, *args)`` in a child process and wait for its verdict, at most `timeout` seconds.

    `relay` is the child's `Relay` (an observer for the runner). Progress is passed to
    `observer` as it arrives; ``relay.call(name, method, ...)`` calls a method of
    ``targets[name]`` in the parent.

    Returns:
        The verdict, or the `Death` of a child that ended (or was killed at `timeout`)
        without one; and what it wrote to its descriptors, unscrubbed (scrub it).

    Raises:
        WiringcheckError: the child's own usage or backend error, with its exit code.
        KeyboardInterrupt: the child was interrupted, or this process was (the child is then killed).
        ChildCrashed: wiringcheck itself failed in the child.
    """
    for stream in (sys.stdout, sys.stderr):  # a forked child must not write the parent's buffered text again
        with contextlib.suppress(Exception):
            stream.flush()
    channel_r, channel_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    reads = {channel_r: "channel", out_r: "stdout", err_r: "stderr"}
    process: Any = None
    pid = 0
    if fork_is_safe():
        import gc

        # The child's garbage collections would otherwise walk (and so copy) every page the two share.
        gc.freeze()
        pid = os.fork()
        if pid != 0:
            gc.unfreeze()
        if pid == 0:  # the child: never returns
            for fd in reads:
                os.close(fd)
            _child(work, args, channel_w, out_w, err_w)
    else:
        import multiprocessing
        from multiprocessing.connection import Connection

        context = multiprocessing.get_context("spawn")
        handles = [Connection(os.dup(fd), readable=False) for fd in (channel_w, out_w, err_w)]
        process = context.Process(target=_spawned, args=(work, args, *handles), name="wiringcheck-check", daemon=True)
        process.start()
        for handle in handles:
            handle.close()
    for fd in (channel_w, out_w, err_w):
        os.close(fd)

    parent = _Parent(observer, targets or {})
    timed_out = False
    try:
        timed_out = _pump(parent, reads, deadline=time.monotonic() + timeout)
    except BaseException:  # interrupted (Ctrl-C), or the observer failed: never leave the child running
        _kill(pid, process)
        _reap(pid, process, wait=_REAP)
        raise
    finally:
        for fd in reads:
            with contextlib.suppress(OSError):
                os.close(fd)
    if timed_out:
        _kill(pid, process)
    code = _reap(pid, process, wait=_REAP if parent.answer is not None else 1.0)
    if code is None:  # still running after its verdict (a thread that will not end): it has said all it will
        _kill(pid, process)
        code = _reap(pid, process, wait=_REAP)
    supervised: Supervised[_T] = Supervised(output=parent.output(), secrets=tuple(parent.secrets))
    if parent.answer is None:
        supervised.output[:0] = parent.printed
    answer = parent.answer
    if answer is None or timed_out:
        status = f"no verdict within {timeout:g} s; killed" if timed_out else _status(code)
        death = Death(status=status, phase=parent.phase, checks=parent.checks)
        if parent.exit is not None:
            death.exit_code, death.exit_stack = parent.exit
        supervised.death = death
        return supervised
    if answer[0] == "result":
        supervised.verdict = answer[1]
        return supervised
    if answer[0] == "error":
        raise answer[1]
    if answer[0] == "interrupted":
        raise KeyboardInterrupt
    raise ChildCrashed(str(answer[1]))


def _pump(parent: _Parent, reads: dict[int, str], *, deadline: float) -> bool:
    """Read the pipes until the child has answered and closed them (or `deadline`); True when it timed out."""
    import selectors

    selector = selectors.DefaultSelector()
    for fd, name in reads.items():
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ, name)
    drain_until: float | None = None
    try:
        while selector.get_map():
            now = time.monotonic()
            if drain_until is None and parent.answer is not None:
                drain_until = now + _DRAIN  # what is left in the pipes, not what a grandchild may still write
            limit = deadline if drain_until is None else min(deadline, drain_until)
            if now >= limit:
                return drain_until is None
            for key, _ in selector.select(timeout=limit - now):
                try:
                    data = os.read(key.fd, 1 << 16)
                except BlockingIOError:
                    continue
                if not data:
                    selector.unregister(key.fd)
                    if key.data == "channel" and drain_until is None:
                        drain_until = time.monotonic() + _DRAIN  # the child is gone: collect its last words
                elif key.data == "channel":
                    parent.on_channel(data)
                else:
                    parent.on_output(key.data, data)
        return False
    finally:
        selector.close()


def _kill(pid: int, process: Any) -> None:
    with contextlib.suppress(OSError):
        if process is not None:
            process.kill()
        elif pid:
            os.kill(pid, signal.SIGKILL)


def _reap(pid: int, process: Any, *, wait: float) -> int | None:
    """The child's exit code (negative: the signal that ended it), waiting at most `wait` seconds; None if alive."""
    if process is not None:
        process.join(timeout=wait)
        return process.exitcode  # type: ignore[no-any-return]
    give_up = time.monotonic() + wait
    pause = 0.0005  # a child that has answered is exiting: look again soon, then less often
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= give_up:
            return None
        time.sleep(pause)
        pause = min(pause * 2, 0.02)


# -- the report of a death -------------------------------------------------------------------------

_CHECK_OF_PHASE = {"boot": "boot", "probe": "probe", "shutdown": "shutdown", "load": "load: runs"}
"""The check a death in a phase fails, when that check has not been reported yet; otherwise ``process``."""


def death_report(death: Death, *, kind: str, target: str, output: list[Output] | None = None) -> Report:
    """The report of a check whose process ended without a verdict: what it had reported, then WC108; exit code 3."""
    from wiringcheck.findings import CheckResult, Finding
    from wiringcheck.report import Report

    phase = death.phase or "boot"
    if death.exit_code is not None:
        how = f"the backend called os._exit({death.exit_code})"
    else:
        how = f"it ended with {death.status}"
    innermost = death.exit_stack[-1] if death.exit_stack else None
    lines = [line for item in output or () for line in item.lines]
    evidence = [f"  {frame}" for frame in death.exit_stack]
    if lines:
        evidence += ["its last output (the report's output has the rest):", *(f"  {line}" for line in lines[-10:])]
    finding = Finding(
        code="WC108",
        message=f"the process running the backend ended during {phase} without a verdict: {how}; "
        "wiringcheck's supervising process reported it",
        location=innermost.location if innermost is not None else None,
        hint="A backend must never end the process: raise an exception instead of calling os._exit(); "
        "if it crashed or was killed (a C extension, the OOM killer), its last output below says where.",
        subject=phase,
        evidence=tuple(evidence),
    )
    name = _CHECK_OF_PHASE.get(phase, "process")
    if any(check.name == name for check in death.checks):
        name = "process"
    report = Report(kind=kind, target=target, checks=list(death.checks), output=list(output or ()))
    report.add(CheckResult.judged(name, phase, [finding]))
    report.aborted = True
    return report


def report_of(supervised: Supervised[Report], settings: Settings, *, kind: str, secrets: Secrets) -> Report:
    """The report to render: the child's verdict with what it wrote to its descriptors, or the report of its death.

    The child's verdict is scrubbed already; what the parent collected is scrubbed here,
    with `secrets` and those the child learnt.
    """
    from wiringcheck.secrets import mask_urls

    secrets = secrets.with_values(*supervised.secrets)
    output = secrets.scrub(supervised.output)
    if supervised.death is not None:
        target = f"{settings.target_kind} {mask_urls(settings.target)}"
        return secrets.scrub(death_report(supervised.death, kind=kind, target=target, output=output))
    assert supervised.verdict is not None
    report = supervised.verdict
    report.output += output
    return report
