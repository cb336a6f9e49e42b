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
import dataclasses
import os
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from wiringcheck import lifecycle
from wiringcheck.capture import Capture, scrubbed_logs
from wiringcheck.containment import Containment, Overrun, new_threads
from wiringcheck.contract import Undecidable, compare_member, parse_member
from wiringcheck.diagnose import where_recorded
from wiringcheck.findings import CheckResult, Finding, Location, Phase, Severity, Status
from wiringcheck.identifiers import Text, swapped_ids
from wiringcheck.importing import on_path
from wiringcheck.render import shown_path
from wiringcheck.report import Report
from wiringcheck.run.judge import Verdict, expectation_for, judge, judge_isolation
from wiringcheck.run.recording import EMISSION_CHECK, EMIT_ELSEWHERE, Latency, Recording
from wiringcheck.run.rules.clocks import timestamp_clock
from wiringcheck.run.rules.unreached import unreached_finding
from wiringcheck.secrets import Secrets, mask_urls
from wiringcheck.targets import Handle, make_target
from wiringcheck.wires import Wire, check_wire, parse_wire

if TYPE_CHECKING:
    import ssl

    from wiringcheck.config import ProbeSettings, RoleSpec, Scenario, Settings
    from wiringcheck.isolation import SimulatedUser
    from wiringcheck.targets import Target

__all__ = ["Observer", "plan", "resolve_path", "run", "run_async"]

PHASES = (Phase.BOOT, Phase.ROLES, Phase.CONTRACT, Phase.WIRES, Phase.STARTUP, Phase.PROBE, Phase.SHUTDOWN)
"""The phases of a run, in order."""

resolve_path = lifecycle.resolve_path

OPTIONAL_CHECKS = ("startup guards", "probe: runtime errors", "logs")
"""Checks a run reports only when they have findings."""

ISOLATION_CHECK = "isolation"
"""The check of an isolation run (`[isolation]`): cross-talk, and the other users' own runs."""


def plan(settings: Settings) -> list[str]:
    """The names of the checks a run of `settings` reports, in order, known before it runs.

    The pytest plugin collects one item per name without booting anything; the
    checks in `OPTIONAL_CHECKS` appear in a report only when they found something.
    """
    in_process = settings.target_kind != "url"
    names = ["boot"]
    names += [f"role: {role}" for role in settings.roles]
    names += [_contract_name(role.name, member) for role in settings.roles.values() for member in role.members]
    names += [f"wire: {wire}" for wire in settings.wires]
    if in_process:
        names.append("startup: coroutines awaited")
    names += [f"startup call: {call}" for call in settings.must_call]
    if in_process and settings.trace and any(role.class_ref for role in settings.roles.values()):
        names.append("startup guards")
    names.append("probe")
    if not in_process and settings.probe.emit:
        names.append(EMISSION_CHECK)
    if in_process:
        names.append("probe: runtime errors")
    names += [f"event: {event}" for event in settings.probe.events]
    if settings.isolation.enabled:
        names.append(ISOLATION_CHECK)
    for scenario in settings.scenarios:
        names += _scenario_checks(scenario)
    names += ["shutdown", "logs"]
    return names


def _contract_name(role: str, member: str) -> str:
    return f"contract: {role}.{parse_member(member).name}"


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
    secrets: Secrets
    report: Report
    capture: Capture = field(default_factory=Capture)
    containment: Containment = field(default_factory=Containment)
    roles: dict[str, Any] = field(default_factory=dict)
    missing_roles: set[str] = field(default_factory=set)
    tracer: Any = None
    ready_at: float | None = None
    """When startup completed: wiring after it is late (WC115)."""
    cover_log_handlers: Callable[[], None] = lambda: None

    def add(self, check: CheckResult) -> CheckResult:
        self.report.add(check)
        # Progress is output too: it shows the check as the report will, scrubbed.
        self.observer.check_finished(self.secrets.scrub(check))
        return check

    def enter(self, phase: Phase) -> None:
        """Announce `phase` to the observer; exits the backend attempts, and what it prints, belong to it now."""
        self.containment.phase = phase
        self.capture.phase = phase
        self.cover_log_handlers()  # handlers the backend added in the phase before
        self.observer.phase_started(phase)

    def skip(self, name: str, phase: Phase, reason: str) -> None:
        self.add(CheckResult.skipped(name, phase, reason))

    def result(
        self, name: str, phase: Phase, findings: list[Finding], started: float, *, duration: float | None = None
    ) -> CheckResult:
        elapsed = self.clock() - started if duration is None else duration
        return self.add(CheckResult.judged(name, phase, findings, duration=elapsed))


async def run_async(
    settings: Settings,
    *,
    observer: Observer | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.monotonic,
    ssl_context: ssl.SSLContext | None = None,
) -> Report:
    """Run every phase against the configured target, in the running event loop.

    The report comes back scrubbed of every secret the run sent (`wiringcheck.secrets`).

    Raises:
        wiringcheck.errors.ImportRefError: the target's import path does not resolve (a usage error).
        wiringcheck.errors.UsageError: isolation users would share a token.
    """
    environ = os.environ if environ is None else environ
    if settings.isolation.enabled:
        from wiringcheck.isolation import users_of  # only with isolation: its import is not every run's cost

        users_of("ws://127.0.0.1/", settings, environ)  # a usage error (same token twice) before anything boots
    target = make_target(settings)
    secrets = Secrets(settings.credentials(environ))
    state = _Run(
        settings=settings,
        observer=observer or _Silent(),
        environ=environ,
        clock=clock,
        ssl_context=ssl_context,
        secrets=secrets,
        report=Report(
            kind="run", target=f"{target.kind} {mask_urls(settings.target)}", budget_ms=settings.probe.budget_ms
        ),
    )
    began = clock()
    threads_before = set(threading.enumerate())
    with ExitStack() as stack:
        # The backend's folders on sys.path for the whole run (its classes are imported after a failed
        # boot too), and off it after.
        stack.enter_context(on_path(settings.pythonpath))
        # [env]: set before anything imports the backend (its roles' classes too), restored after it stopped.
        stack.enter_context(lifecycle.backend_environment(settings))
        stack.enter_context(state.containment.installed(asyncio.get_running_loop()))
        # Log lines are output too (the backend's own handlers, pytest's captured logs).
        state.cover_log_handlers = stack.enter_context(scrubbed_logs(secrets))
        # What the backend prints is evidence, never wiringcheck's stdout (which may carry the JSON report).
        # Entered after the log scrubbing, so its last collection runs while handlers still scrub.
        stack.enter_context(state.capture.output())
        if target.in_process and settings.trace and any(role.class_ref for role in settings.roles.values()):
            from wiringcheck.tracer import Tracer

            # Traced from boot to shutdown: a wiring call made late, by a background task, is seen too.
            state.tracer = Tracer.for_settings(settings, clock=clock)
            stack.enter_context(state.tracer.installed())
        handle = await _boot(state, target)
        try:
            if handle is not None:
                state.report.extra["ws_url"] = mask_urls(handle.ws_url)
            _check_objects(state, target, handle)
            if handle is None:
                state.skip("probe", Phase.PROBE, "the backend did not boot")
                for event in settings.probe.events:
                    state.skip(f"event: {event}", Phase.PROBE, "the backend did not boot")
                if settings.isolation.enabled:
                    state.skip(ISOLATION_CHECK, Phase.PROBE, "the backend did not boot")
                for scenario in settings.scenarios:
                    for name in _scenario_checks(scenario):
                        state.skip(name, Phase.PROBE, "the backend did not boot")
            else:
                await _probe(state, handle)
                for scenario in settings.scenarios:
                    await _probe(state, handle, scenario)
                _recheck_late_wiring(state)
        finally:
            await _shutdown(state, target, booted=handle is not None, threads_before=threads_before)
    _logs(state)
    state.report.duration = clock() - began
    state.report.sort_by_cause()
    return state.secrets.scrub(state.report)


# -- boot ------------------------------------------------------------------------------------------


async def _boot(state: _Run, target: Target) -> Handle | None:
    settings = state.settings
    state.enter(Phase.BOOT)
    if not target.in_process:
        state.skip("boot", Phase.BOOT, f"{mask_urls(settings.target)} is already running: nothing to boot")
        return await target.start()
    started = state.clock()
    async with AsyncExitStack() as stack:
        stack.enter_context(state.capture.logs(Phase.BOOT))
        stack.enter_context(state.capture.python_warnings())
        stack.enter_context(state.capture.logging_watch(_own_packages(settings)))
        outcome = await lifecycle.start(target, settings)
    state.result("boot", Phase.BOOT, [outcome.finding] if outcome.finding else [], started)
    if outcome.handle is not None:
        state.ready_at = outcome.handle.ready_at if outcome.handle.ready_at is not None else state.clock()
    return outcome.handle


def _own_packages(settings: Settings) -> tuple[str, ...]:
    """The top-level packages the configuration names (the target, the roles' classes and globals): the backend's."""
    refs = [settings.app, settings.boot, *(role.class_ref for role in settings.roles.values())]
    refs += [role.path for role in settings.roles.values() if ":" in role.path]
    return tuple(dict.fromkeys(ref.split(":")[0].split(".")[0] for ref in refs if ref and ":" in ref))


# -- roles, contract, wires, startup calls --------------------------------------------------------


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


def _users_of(ws_url: str, settings: Settings, environ: Mapping[str, str]) -> list[SimulatedUser]:
    from wiringcheck.isolation import users_of

    return users_of(ws_url, settings, environ)


def _check_objects(state: _Run, target: Target, handle: Handle | None) -> None:
    settings = state.settings
    if handle is None or not target.in_process:
        reason = "the backend did not boot" if target.in_process else "a running URL exposes no in-process objects"
        state.enter(Phase.ROLES)
        for role in settings.roles.values():
            state.skip(f"role: {role.name}", Phase.ROLES, reason)
        if target.in_process:
            _check_contracts(state, unavailable=reason)
        else:
            for role in settings.roles.values():
                for member in role.members:
                    state.skip(_contract_name(role.name, member), Phase.CONTRACT, reason)
        for wire in settings.wires:
            state.skip(f"wire: {wire}", Phase.WIRES, reason)
        for call in settings.must_call:
            state.skip(f"startup call: {call}", Phase.STARTUP, reason)
        return

    state.enter(Phase.ROLES)
    found, missing = lifecycle.resolve_roles(settings, handle, target)
    state.roles.update(found)
    state.missing_roles.update(missing)
    for role in settings.roles.values():
        findings = []
        if role.name in missing:
            findings.append(
                Finding(
                    code="WC201",
                    message=f"role {role.name!r} {missing[role.name]}",
                    hint="Check where startup stores this object, and that the phase building it ran.",
                    subject=role.name,
                )
            )
        state.result(f"role: {role.name}", Phase.ROLES, findings, state.clock())

    _check_contracts(state)
    _check_wires_and_calls(state)


def _check_contracts(state: _Run, *, unavailable: str = "") -> None:
    state.enter(Phase.CONTRACT)
    for role in state.settings.roles.values():
        subject, on_class = _contract_subject(state, role)
        for text in role.members:
            spec = parse_member(text)
            name = f"contract: {role.name}.{spec.name}"
            if subject is None:
                state.skip(
                    name, Phase.CONTRACT, unavailable or f"role {role.name!r} was not found and names no `class`"
                )
                continue
            started = state.clock()
            try:
                findings = compare_member(role.name, subject, spec, on_class=on_class)
            except Undecidable as exc:
                state.skip(name, Phase.CONTRACT, f"role {role.name!r} was not built; {exc}")
                continue
            check = CheckResult.judged(name, Phase.CONTRACT, findings, duration=state.clock() - started)
            if on_class:
                check = replace(check, reason="checked on the class: startup did not build the role")
            state.add(check)


def _check_wires_and_calls(state: _Run) -> None:
    settings = state.settings
    state.enter(Phase.WIRES)
    for text in settings.wires:
        wire = parse_wire(text)
        missing = sorted({path[0] for path in wire.paths} & state.missing_roles)
        if missing:
            state.skip(f"wire: {text}", Phase.WIRES, f"role {missing[0]!r} was not found")
            continue
        started = state.clock()
        findings = [_located(state, wire, f) if f.code == "WC213" else f for f in check_wire(wire, state.roles)]
        state.result(f"wire: {text}", Phase.WIRES, findings, started)

    state.enter(Phase.STARTUP)
    # Boot completed, so an unawaited setter is a wiring failure, not a boot failure.
    unawaited = [f for f in state.capture.findings() if f.code == "WC104"]
    state.result("startup: coroutines awaited", Phase.STARTUP, unawaited, state.clock())
    for call in settings.must_call:
        name = f"startup call: {call}"
        if state.tracer is None:
            state.skip(name, Phase.STARTUP, "tracing is off, or the role names no `class` to trace")
            continue
        started = state.clock()
        state.result(name, Phase.STARTUP, state.tracer.check_must_call(call, state.ready_at), started)
    if state.tracer is not None:
        guard_findings = state.tracer.guard_findings(_failed_by_role(state.report.checks))
        if guard_findings:
            state.result("startup guards", Phase.STARTUP, guard_findings, state.clock())


def _located(state: _Run, wire: Wire, finding: Finding) -> Finding:
    """A stored startup failure (WC213) with where it was raised, or where startup logged it as it caught it."""
    path = next(path for path in wire.paths)
    try:
        value = lifecycle.resolve_path(state.roles[path[0]], ".".join(path[1:])) if len(path) > 1 else None
    except LookupError:
        return finding
    location, evidence = where_recorded(value, state.capture.log_records())
    if location is None:
        return finding
    return replace(finding, location=location, evidence=(*finding.evidence, *evidence))


def _failed_by_role(checks: list[CheckResult]) -> dict[str, list[str]]:
    """The failed wire and startup-call checks, by the roles they involve: what a skipping guard explains."""
    failed: dict[str, list[str]] = {}
    for check in checks:
        if check.status is not Status.FAILED:
            continue
        if check.phase == Phase.WIRES:
            roles = {path[0] for path in parse_wire(check.name.removeprefix("wire: ")).paths}
        elif check.phase == Phase.STARTUP and check.name.startswith("startup call: "):
            roles = {check.name.removeprefix("startup call: ").partition(".")[0]}
        else:
            continue
        for role in sorted(roles):
            failed.setdefault(role, []).append(check.name)
    return failed


# -- probe -----------------------------------------------------------------------------------------


_CONNECT_HINT = (
    "Check ws_path, the auth settings (how the token is sent, and its variable), "
    "and that the server accepts WebSocket upgrades there."
)


def _scenario_checks(scenario: Scenario) -> list[str]:
    prefix = f"scenario {scenario.name}: "
    return [f"{prefix}probe", *(f"{prefix}event: {event}" for event in scenario.probe.events)]


async def _record(
    state: _Run, handle: Handle, probe: ProbeSettings, users: list[SimulatedUser]
) -> tuple[list[Recording], list[Finding]]:
    """Record the probe's run (with `[isolation]`, every user's at once) the one in-process way (`run.inprocess`)."""
    from wiringcheck.run.inprocess import record

    recorded = await record(
        handle,
        state.roles,
        [user.probe for user in users] or [probe],
        state.environ,
        clock=state.clock,
        ssl_context=state.ssl_context,
        take_overruns=lambda: state.containment.take_overruns(Phase.PROBE),
    )
    blocked = [_blocked_run(recorded.bound, overrun) for overrun in recorded.overruns]
    if not blocked:
        blocked = [_blocked_run(probe.deadline, overrun) for overrun in state.containment.take_overruns(Phase.PROBE)]
    return recorded.recordings, blocked


async def _probe(state: _Run, handle: Handle, scenario: Scenario | None = None) -> None:
    """One probed run and its checks: the probe's own (with `[isolation]`, K users at once), or a scenario's."""
    probe = scenario.probe if scenario is not None else state.settings.probe
    prefix = f"scenario {scenario.name}: " if scenario is not None else ""
    users = (
        _users_of(handle.ws_url, state.settings, state.environ)
        if scenario is None and state.settings.isolation.enabled
        else []
    )
    if scenario is None:
        state.enter(Phase.PROBE)
    started = state.clock()
    with state.capture.logs(Phase.PROBE), state.capture.runtime(Phase.PROBE):
        recordings, blocked = await _record(state, handle, probe, users)
    recording = recordings[0]
    for each in recordings:
        if each.secrets:  # a credential a setup step received is a secret of this run too
            state.secrets = state.secrets.with_values(*each.secrets)
            learned = getattr(state.observer, "secrets_learned", None)
            if learned is not None:  # a supervising process scrubs what the backend wrote with them too
                learned(each.secrets)
    if scenario is None:
        state.report.extra["run_id"] = recording.id
        state.report.extra["users"] = len(recordings)
    exits = [lifecycle.exit_finding(Phase.PROBE, item) for item in state.containment.take(Phase.PROBE)]
    runtime = state.capture.runtime_findings()
    if runtime:
        state.result(f"{prefix}probe: runtime errors", Phase.PROBE, runtime, started)
    latency = Latency.SEND if handle.latency == Latency.SEND else Latency.TIMESTAMP
    target_in_process = state.settings.target_kind != "url"
    if scenario is None and probe.emit and not target_in_process:
        state.skip(EMISSION_CHECK, Phase.PROBE, EMIT_ELSEWHERE)
    unreached = unreached_finding(recording, mask_urls(recording.url or handle.ws_url), probe.auth, hint=_CONNECT_HINT)
    if unreached is not None:
        state.result(f"{prefix}probe", Phase.PROBE, [*exits, unreached], started)
        for event in probe.events:
            state.skip(f"{prefix}event: {event}", Phase.PROBE, "the probe could not start a run")
        if users:
            state.skip(ISOLATION_CHECK, Phase.PROBE, "the probe could not start a run")
        return

    swapped = _swapped_ids(state, recording.ids, recording)
    expectation = expectation_for(probe, latency=latency)
    if target_in_process:
        # The backend runs in this process: its timestamps come from the probe's own clock.
        expectation = replace(expectation, assume_synced_clocks=True)
    verdict = judge(recording, expectation)
    isolation: list[Finding] = []
    if users:
        labelled = [(user.label, each) for user, each in zip(users, recordings, strict=True)]
        isolation, went = judge_isolation(labelled, expectation)
        for findings in verdict.per_event.values():
            findings[:] = [
                replace(f, evidence=(*f.evidence, *went.get(users[0].label, []))) if f.code == "WC402" else f
                for f in findings
            ]
    if scenario is None:
        state.report.clock = _clock(probe, latency, verdict, synced=probe.assume_synced_clocks or target_in_process)
        state.report.events = verdict.timeline
        state.report.timings = verdict.timings
        state.report.extra["other_runs"] = verdict.other_runs
        if verdict.ignored or verdict.unexpected:
            state.report.extra.update(ignored_frames=verdict.ignored, unexpected_frames=verdict.unexpected)
        if verdict.run_id and verdict.run_id != recording.id:
            state.report.extra["run_id"] = verdict.run_id
    else:
        state.report.extra.setdefault("scenarios", []).append(
            {
                "name": scenario.name,
                "run_id": verdict.run_id or recording.id,
                "events": [dataclasses.asdict(record) for record in verdict.timeline],
                "timings": verdict.timings,
            }
        )
    state.result(f"{prefix}probe", Phase.PROBE, [*exits, *blocked, *swapped, *verdict.general], started)
    # An event's check takes as long as its delivery did: that is what JUnit shows as its time.
    latencies: dict[str | None, float] = {
        e.type: e.latency_ms for e in reversed(verdict.timeline) if e.ours and e.latency_ms is not None
    }
    untimed = (
        "not timed: the hand-off was not seen"
        if latency == Latency.SEND
        else f"not timed: the event has no usable {probe.timestamp_field!r} field"
    )
    for event, findings in verdict.per_event.items():
        delivered = latencies.get(event)
        duration = delivered / 1000 if delivered is not None else 0.0
        check = CheckResult.judged(f"{prefix}event: {event}", Phase.PROBE, findings, duration=duration)
        arrived = any(record.ours and record.type == event for record in verdict.timeline)
        state.add(replace(check, reason=untimed) if arrived and delivered is None else check)
    if users:
        state.result(ISOLATION_CHECK, Phase.PROBE, isolation, started)


def _clock(probe: ProbeSettings, latency: Latency, verdict: Verdict, *, synced: bool) -> str:
    """How latency was measured, as it was: the emitting call is named only when one was seen for the run."""
    if latency != Latency.SEND:
        timed = any(record.ours and record.latency_ms is not None for record in verdict.timeline)
        return timestamp_clock(probe.timestamp_field, synced=synced, timed=timed)
    handed = "ASGI http.response.body" if probe.over_http else "ASGI websocket.send"
    handoff = f"monotonic: backend hand-off ({handed}) to probe receive, in one process"
    if not probe.emit:
        return handoff
    if any(record.emitted_at_ms is not None for record in verdict.timeline):
        return f"monotonic: backend emitting call (probe.emit) → hand-off ({handed}) → probe receive, in one process"
    return f"{handoff}; probe.emit: no call of its methods was seen for this run's events"


# -- late wiring -----------------------------------------------------------------------------------


def _recheck_late_wiring(state: _Run) -> None:
    """Wires and required calls that failed at boot, checked again after the run: made late is its own cause.

    A setter that startup hands to a background task runs after the app accepts
    connections; the first users (and the probe) meet the unwired backend. Both
    halves of that story ("never called", "not made") are half true; WC115 says it whole.
    """
    if state.tracer is None or state.ready_at is None:
        return
    ready_at = state.ready_at
    for index, check in enumerate(state.report.checks):
        if check.status is not Status.FAILED:
            continue
        if check.phase == Phase.STARTUP and check.name.startswith("startup call: "):
            call = check.name.removeprefix("startup call: ")
            made = state.tracer.late_call(call, ready_at)
            if made is not None:
                finding = _late_finding(
                    f"startup did not call {call} before it completed; {made.role}.{made.method}"
                    f" was called {_after(made, ready_at)}",
                    made,
                    call,
                )
                state.report.checks[index] = replace(check, findings=(finding,))
        elif check.phase == Phase.WIRES:
            text = check.name.removeprefix("wire: ")
            wire = parse_wire(text)
            if check_wire(wire, state.roles):
                continue  # still not made after the run: the boot finding stands
            names = {name for path in wire.paths for name in path[1:]}
            calls = state.tracer.calls_after(set(state.tracer.classes), ready_at)
            # The call that made the wire names what it sets (set_websocket_manager for .websocket_manager);
            # the others are ordinary traffic on the same objects.
            made = next((c for c in calls if any(name in c.method for name in names)), calls[0] if calls else None)
            how = f"; {made} made it {_after(made, ready_at)}" if made else ""
            finding = _late_finding(
                f"wire {text!r} did not hold when startup completed, but held after the run{how}", made, text
            )
            state.report.checks[index] = replace(check, findings=(finding,))


def _after(call: Any, ready_at: float) -> str:
    origin = call.task_origin
    where = f", from a task created at {shown_path(origin.path)}:{origin.line}" if origin else ""
    return f"{max(call.at - ready_at, 0) * 1000:.0f} ms after startup completed{where}"


def _late_finding(message: str, call: Any, subject: str) -> Finding:
    return Finding(
        code="WC115",
        message=message,
        location=call.location if call is not None else None,
        hint="Await the wiring in startup itself (not in a task it starts), so the app accepts no connection "
        "before it is wired.",
        subject=subject,
        evidence=(f"called {call}",) if call is not None else (),
    )


# -- shutdown and logs -----------------------------------------------------------------------------


async def _shutdown(state: _Run, target: Target, *, booted: bool, threads_before: set[threading.Thread]) -> None:
    state.enter(Phase.SHUTDOWN)
    if not booted or not target.in_process:
        reason = "nothing was booted" if not target.in_process else "the backend did not boot (aborted)"
        state.skip("shutdown", Phase.SHUTDOWN, reason)
        return
    started = state.clock()
    with state.capture.logs(Phase.SHUTDOWN):
        outcome = await lifecycle.stop(target, state.settings)
    exits = [lifecycle.exit_finding(Phase.SHUTDOWN, item) for item in state.containment.take(Phase.SHUTDOWN)]
    # An exit in the lifespan's shutdown also fails the shutdown itself: say it once, as the exit.
    findings = exits or ([outcome.finding] if outcome.finding else [])
    findings += _left_threads(threads_before)
    state.result("shutdown", Phase.SHUTDOWN, findings, started)


def _left_threads(before: set[threading.Thread]) -> list[Finding]:
    """WC109 for threads the backend started and did not stop, after a short grace to let them end."""
    deadline = time.monotonic() + 0.2
    left = new_threads(before)
    while left and time.monotonic() < deadline:
        left[0].join(timeout=max(deadline - time.monotonic(), 0))
        left = new_threads(before)
    if not left:
        return []
    names = ", ".join(f"{thread.name!r}{'' if thread.daemon else ' (non-daemon)'}" for thread in left)
    return [
        Finding(
            code="WC109",
            message=f"{len(left)} thread(s) the backend started were still running after shutdown: {names}",
            hint="Stop and join them in shutdown (or make them daemon threads); "
            "wiringcheck exits anyway once its report is written.",
            subject="shutdown",
            severity=Severity.WARNING,
        )
    ]


def _swapped_ids(state: _Run, ids: tuple[tuple[str, str], ...], recording: Recording) -> list[Finding]:
    """WC440 when the run's log lines or frames show one of the probe's ids used as another kind of id."""
    texts = [
        Text(record.message, f"log {record.level} from {record.logger}", _location(record.location))
        for record in state.capture.log_records()
        if record.phase == Phase.PROBE
    ]
    texts += [
        Text(frame.data, f"frame #{index}")
        for index, frame in enumerate(recording.frames[:1000])
        if isinstance(frame.data, str)
    ]
    return swapped_ids(dict(ids), texts)


def _location(text: str) -> Location | None:
    path, _, line = text.rpartition(":")
    return Location(path, int(line)) if path and line.isascii() and line.isdigit() else None


def _blocked_run(bound: float, overrun: Overrun) -> Finding:
    innermost = overrun.stack[-1] if overrun.stack else None
    where = f" in `{innermost.code}`" if innermost and innermost.code else ""
    return Finding(
        code="WC409",
        message=f"the backend blocked the event loop{where}; the run was interrupted after {bound:g} s",
        location=innermost.location if innermost else None,
        hint="Never block the event loop during a run: await async clients, or use asyncio.to_thread.",
        subject="probe",
        evidence=tuple(f"  {frame}" for frame in overrun.stack),
    )


def _logs(state: _Run) -> None:
    state.report.logs = state.capture.log_records()
    state.report.output = state.capture.output_records()
    if state.settings.target_kind == "url":
        # The backend runs elsewhere: what this process logged is the client's, or another thread's (the
        # pytest plugin's host suite), never the backend's. Kept as evidence, never judged as the backend's.
        return
    logged = state.capture.logs_check()
    if logged is not None:
        state.add(logged)
