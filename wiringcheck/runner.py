"""The runner: the one place that knows the order of the phases.

    boot -> roles -> contract -> wires -> startup calls -> probe -> shutdown

Each phase has its own deadline and its own results.  A failing phase does not
hide the phases that can still run (a broken wire still lets the probe show that
no events arrive), a phase that cannot run is reported as skipped with its
reason, and shutdown always runs.  The CLI and the pytest plugin both call
`run` (or `run_async`) and only render the `Report` it returns.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from wiringcheck.capture import Capture
from wiringcheck.contract import Undecidable, compare_member, parse_member
from wiringcheck.diagnose import describe_exception, innermost_error, pending_stacks
from wiringcheck.events import attach_send_times, check_events, expectation_for
from wiringcheck.findings import CheckResult, Finding, Status
from wiringcheck.probe import build_request, record_run
from wiringcheck.report import Report
from wiringcheck.suggest import suggest
from wiringcheck.targets import BootError, Handle, make_target
from wiringcheck.wires import check_wire, parse_wire

if TYPE_CHECKING:
    import ssl

    from wiringcheck.config import RoleSpec, Settings
    from wiringcheck.targets import Target

__all__ = ["Observer", "run", "run_async"]

PHASES = ("boot", "roles", "contract", "wires", "startup", "probe", "shutdown")
"""The phases of a run, in order."""


class Observer(Protocol):
    """Receives progress as the run moves on; the console shows it, other callers need none."""

    def phase_started(self, phase: str) -> None: ...

    def check_finished(self, check: CheckResult) -> None: ...


class _Silent:
    def phase_started(self, phase: str) -> None:
        pass

    def check_finished(self, check: CheckResult) -> None:
        pass


def run(settings: Settings, **options: Any) -> Report:
    """Run every phase against the configured target, in a fresh event loop."""
    return asyncio.run(run_async(settings, **options))


@dataclass(slots=True)
class _Run:
    settings: Settings
    observer: Observer
    environ: Mapping[str, str]
    clock: Callable[[], float]
    ssl_context: ssl.SSLContext | None
    report: Report
    capture: Capture = field(default_factory=Capture)
    roles: dict[str, Any] = field(default_factory=dict)
    missing_roles: set[str] = field(default_factory=set)
    tracer: Any = None

    def add(self, check: CheckResult) -> CheckResult:
        self.report.add(check)
        self.observer.check_finished(check)
        return check

    def skip(self, name: str, phase: str, reason: str) -> None:
        self.add(CheckResult(name=name, phase=phase, status=Status.SKIPPED, reason=reason))

    def result(
        self, name: str, phase: str, findings: list[Finding], started: float, *, duration: float | None = None
    ) -> CheckResult:
        failed = any(f.severity.value == "error" for f in findings)
        return self.add(
            CheckResult(
                name=name,
                phase=phase,
                status=Status.FAILED if failed else Status.PASSED,
                findings=tuple(findings),
                duration=self.clock() - started if duration is None else duration,
            )
        )


async def run_async(
    settings: Settings,
    *,
    observer: Observer | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.monotonic,
    ssl_context: ssl.SSLContext | None = None,
) -> Report:
    """Run every phase against the configured target, in the running event loop.

    Raises:
        wiringcheck.importing.ImportRefError: the target's import path does not resolve (a usage error).
    """
    target = make_target(settings)
    state = _Run(
        settings=settings,
        observer=observer or _Silent(),
        environ=os.environ if environ is None else environ,
        clock=clock,
        ssl_context=ssl_context,
        report=Report(
            kind="run", target=f"{target.kind} {_redacted_url(settings.target)}", budget_ms=settings.probe.budget_ms
        ),
    )
    began = clock()
    handle = await _boot(state, target)
    try:
        if handle is not None:
            state.report.extra["ws_url"] = _redacted_url(handle.ws_url)
        _check_objects(state, target, handle)
        if handle is None:
            state.skip("probe", "probe", "the backend did not boot")
            for event in settings.probe.events:
                state.skip(f"event: {event}", "probe", "the backend did not boot")
        else:
            await _probe(state, handle)
    finally:
        await _shutdown(state, target, booted=handle is not None)
    _logs(state)
    state.report.duration = clock() - began
    return state.report


# -- boot ------------------------------------------------------------------------------------------


async def _boot(state: _Run, target: Target) -> Handle | None:
    settings = state.settings
    state.observer.phase_started("boot")
    if not target.in_process:
        state.skip("boot", "boot", f"{settings.url} is already running: nothing to boot")
        return await target.start()
    started = state.clock()
    before = set(asyncio.all_tasks())
    async with AsyncExitStack() as stack:
        stack.enter_context(state.capture.logs("boot"))
        stack.enter_context(state.capture.python_warnings())
        if settings.trace and any(role.class_ref for role in settings.roles.values()):
            from wiringcheck.tracer import Tracer

            state.tracer = Tracer.for_settings(settings)
            stack.enter_context(state.tracer.installed())
        try:
            async with asyncio.timeout(settings.startup_timeout):
                handle = await target.start()
        except TimeoutError:
            stacks = pending_stacks(
                t for t in asyncio.all_tasks() if t not in before and t is not asyncio.current_task()
            )
            await _abort(target)
            state.result("boot", "boot", [_hang_finding(settings.startup_timeout, stacks)], started)
            return None
        except BootError as exc:
            await _abort(target)
            state.result("boot", "boot", [_crash_finding(exc.phase, exc.error)], started)
            return None
        except Exception as exc:
            from wiringcheck.importing import ImportRefError

            if isinstance(exc, ImportRefError):
                raise
            await _abort(target)
            state.result("boot", "boot", [_crash_finding("startup", exc)], started)
            return None
    state.result("boot", "boot", [], started)
    return handle


async def _abort(target: Target) -> None:
    abort = getattr(target, "abort", None)
    if abort is not None:
        await abort()


def _crash_finding(phase: str, error: BaseException) -> Finding:
    headline, frames = describe_exception(error)
    where = frames[-1].location if frames else None
    evidence = tuple(f"  {frame}" for frame in frames)
    return Finding(
        code="WC101",
        message=f"startup raised during {phase}: {headline}",
        location=where,
        hint="Fix the line above (the last frame of the backend's own code), then run again.",
        subject="boot",
        evidence=("traceback (backend frames, most recent call last):", *evidence) if evidence else (),
        data={"exception": type(innermost_error(error)).__name__},
    )


def _hang_finding(timeout: float, stacks: list[tuple[str, list[Any]]]) -> Finding:
    evidence: list[str] = []
    location = None
    for name, frames in stacks:
        innermost = frames[-1]
        location = location or innermost.location
        evidence.append(f"task {name!r} stuck awaiting `{innermost.code}` at {innermost.path}:{innermost.line}")
        evidence.extend(f"  {frame}" for frame in frames)
    stuck = f"; stuck awaiting `{stacks[0][1][-1].code}`" if stacks else ""
    return Finding(
        code="WC102",
        message=f"startup did not finish within {timeout:g} s{stuck}",
        location=location,
        hint="Bound the await with a timeout, or start the dependency it waits for; "
        "raise startup_timeout only if startup is legitimately slow.",
        subject="boot",
        evidence=tuple(evidence) or ("no backend task was pending: startup was busy, not waiting",),
    )


# -- roles, contract, wires, startup calls --------------------------------------------------------


def _candidates(value: Any) -> list[str]:
    names = [name for name in dir(value) if not name.startswith("__")]
    state = getattr(value, "_state", None)  # starlette.datastructures.State keeps its attributes here
    if isinstance(state, dict):
        names.extend(state)
    if isinstance(value, Mapping):
        names.extend(str(key) for key in value)
    return names


def resolve_path(root: Any, path: str) -> Any:
    """Follow an attribute path from `root` (mappings by key). Raises LookupError naming the missing step."""
    value = root
    walked = "<root>"
    for name in path.split("."):
        if isinstance(value, Mapping) and name in value:
            value = value[name]
        else:
            try:
                value = getattr(value, name)
            except AttributeError:
                guess = suggest(name, _candidates(value))
                hint = f"; did you mean {guess!r}?" if guess else ""
                raise LookupError(f"{walked} ({type(value).__name__}) has no attribute {name!r}{hint}") from None
        walked = name if walked == "<root>" else f"{walked}.{name}"
    return value


def _contract_subject(state: _Run, role: RoleSpec) -> tuple[Any, bool]:
    """The object to check the role's contract on: the live role, else its class, else None."""
    if role.name in state.roles:
        return state.roles[role.name], False
    if role.class_ref:
        if state.tracer is not None and role.name in state.tracer.classes:
            return state.tracer.classes[role.name], True
        from wiringcheck.importing import import_ref

        return import_ref(role.class_ref), True
    return None, False


def _check_objects(state: _Run, target: Target, handle: Handle | None) -> None:
    settings = state.settings
    if handle is None or not target.in_process:
        reason = "the backend did not boot" if target.in_process else "a running URL exposes no in-process objects"
        state.observer.phase_started("roles")
        for role in settings.roles.values():
            state.skip(f"role: {role.name}", "roles", reason)
        if target.in_process:
            _check_contracts(state, unavailable=reason)
        else:
            for role in settings.roles.values():
                for member in role.members:
                    state.skip(f"contract: {role.name}.{parse_member(member).name}", "contract", reason)
        for wire in settings.wires:
            state.skip(f"wire: {wire}", "wires", reason)
        for call in settings.must_call:
            state.skip(f"startup call: {call}", "startup", reason)
        return

    state.observer.phase_started("roles")
    for role in settings.roles.values():
        started = state.clock()
        try:
            state.roles[role.name] = resolve_path(handle.root, role.path)
        except LookupError as exc:
            state.missing_roles.add(role.name)
            state.result(
                f"role: {role.name}",
                "roles",
                [
                    Finding(
                        code="WC201",
                        message=f"role {role.name!r} not found at {role.path!r}: {exc}",
                        hint="Check where startup stores this object, and that the phase building it ran.",
                        subject=role.name,
                    )
                ],
                started,
            )
        else:
            state.result(f"role: {role.name}", "roles", [], started)

    _check_contracts(state)
    _check_wires_and_calls(state)


def _check_contracts(state: _Run, *, unavailable: str = "") -> None:
    state.observer.phase_started("contract")
    for role in state.settings.roles.values():
        subject, on_class = _contract_subject(state, role)
        for text in role.members:
            spec = parse_member(text)
            name = f"contract: {role.name}.{spec.name}"
            if subject is None:
                state.skip(name, "contract", unavailable or f"role {role.name!r} was not found and names no `class`")
                continue
            started = state.clock()
            try:
                findings = compare_member(role.name, subject, spec, on_class=on_class)
            except Undecidable as exc:
                state.skip(name, "contract", f"role {role.name!r} was not built; {exc}")
                continue
            check = state.result(name, "contract", findings, started)
            if on_class:
                state.report.checks[-1] = replace(check, reason="checked on the class: startup did not build the role")


def _check_wires_and_calls(state: _Run) -> None:
    settings = state.settings
    state.observer.phase_started("wires")
    for text in settings.wires:
        wire = parse_wire(text)
        missing = sorted({path[0] for path in wire.paths} & state.missing_roles)
        if missing:
            state.skip(f"wire: {text}", "wires", f"role {missing[0]!r} was not found")
            continue
        started = state.clock()
        state.result(f"wire: {text}", "wires", check_wire(wire, state.roles), started)

    state.observer.phase_started("startup")
    # Boot completed, so an unawaited setter is a wiring failure, not a boot failure.
    unawaited = [f for f in state.capture.findings() if f.code == "WC104"]
    state.result("startup: coroutines awaited", "startup", unawaited, state.clock())
    for call in settings.must_call:
        name = f"startup call: {call}"
        if state.tracer is None:
            state.skip(name, "startup", "tracing is off, or the role names no `class` to trace")
            continue
        started = state.clock()
        state.result(name, "startup", state.tracer.check_must_call(call), started)
    if state.tracer is not None:
        guard_findings = state.tracer.guard_findings()
        if guard_findings:
            started = state.clock()
            state.result("startup guards", "startup", guard_findings, started)


# -- probe -----------------------------------------------------------------------------------------


async def _probe(state: _Run, handle: Handle) -> None:
    probe = state.settings.probe
    state.observer.phase_started("probe")
    started = state.clock()
    request = build_request(handle.ws_url, probe, state.environ)
    state.report.extra["run_id"] = request.run_id
    with state.capture.logs("probe"):
        try:
            async with asyncio.timeout(probe.connect_timeout + probe.deadline + 1.0):
                recording = await record_run(request, probe, ssl_context=state.ssl_context, clock=state.clock)
        except TimeoutError:  # record_run bounds its own awaits; this is the last line of defence
            from wiringcheck.events import Recording

            now = state.clock()
            recording = Recording(run_id=request.run_id, trigger_at=started, ended_at=now, end="deadline")
    if handle.sends is not None:
        recording = _with_send_times(recording, handle.sends)
    latency = "send" if handle.latency == "send" else "timestamp"
    state.report.clock = (
        "monotonic: backend hand-off (ASGI websocket.send) to probe receive, in one process"
        if latency == "send"
        else f"wall clock: the event's {probe.timestamp_field!r} field to probe receive (assumes synced clocks)"
    )
    if recording.end == "connect_failed":
        finding = Finding(
            code="WC401",
            message=f"cannot connect to {_redacted_url(handle.ws_url)}: {recording.error}",
            hint="Check ws_path, the auth settings (query parameter or header, and the token's variable), "
            "and that the server accepts WebSocket upgrades there.",
            subject="probe",
        )
        state.result("probe", "probe", [finding], started)
        for event in probe.events:
            state.skip(f"event: {event}", "probe", "the probe could not connect")
        return

    verdict = check_events(recording, expectation_for(probe, latency=latency))
    state.report.events = verdict.timeline
    state.report.timings = verdict.timings
    state.report.extra["other_runs"] = verdict.other_runs
    state.result("probe", "probe", verdict.general, started)
    # An event's check takes as long as its delivery did: that is what JUnit shows as its time.
    latencies: dict[str | None, float] = {
        e.type: e.latency_ms for e in reversed(verdict.timeline) if e.ours and e.latency_ms is not None
    }
    for event, findings in verdict.per_event.items():
        delivered = latencies.get(event)
        duration = delivered / 1000 if delivered is not None else 0.0
        state.result(f"event: {event}", "probe", findings, 0.0, duration=duration)


def _with_send_times(recording: Any, sends: list[tuple[float, str | bytes]]) -> Any:
    return replace(recording, frames=attach_send_times(recording.frames, sends))


def _redacted_url(url: str) -> str:
    """A URL without its query string, which may carry a token; reports never show it."""
    return url.split("?", 1)[0]


# -- shutdown and logs -----------------------------------------------------------------------------


async def _shutdown(state: _Run, target: Target, *, booted: bool) -> None:
    state.observer.phase_started("shutdown")
    if not booted or not target.in_process:
        reason = "nothing was booted" if not target.in_process else "the backend did not boot (aborted)"
        state.skip("shutdown", "shutdown", reason)
        return
    started = state.clock()
    findings: list[Finding] = []
    with state.capture.logs("shutdown"):
        try:
            async with asyncio.timeout(state.settings.shutdown_timeout):
                await target.stop()
        except TimeoutError:
            await _abort(target)
            findings.append(
                Finding(
                    code="WC103",
                    message=f"shutdown did not finish within {state.settings.shutdown_timeout:g} s",
                    hint="Cancel background tasks and close connections in the lifespan's shutdown.",
                    subject="shutdown",
                )
            )
        except Exception as exc:
            headline, frames = describe_exception(exc)
            findings.append(
                Finding(
                    code="WC103",
                    message=f"shutdown raised: {headline}",
                    location=frames[-1].location if frames else None,
                    hint="Make shutdown tolerate the state startup left behind.",
                    subject="shutdown",
                    evidence=tuple(str(frame) for frame in frames),
                )
            )
    state.result("shutdown", "shutdown", findings, started)


def _logs(state: _Run) -> None:
    state.report.logs = state.capture.log_records()
    logged = [f for f in state.capture.findings() if f.code == "WC105"]
    if logged:
        state.add(CheckResult(name="logs", phase="logs", status=Status.PASSED, findings=tuple(logged)))
