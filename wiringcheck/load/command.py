"""`wiringcheck load`: boot the backend once, here, and run the users in client processes.

The backend (an in-process app or boot target) runs in this process's event loop,
exactly as `wiringcheck run` boots it (`session.booted`); the users run in
``--workers`` processes (forked from a fork server on Linux, spawned elsewhere), each
with its own asyncio loop, so the figures measure the backend and not a client sharing
its loop. A `url` target is only connected to.

Latency is the event's own timestamp field to the client's receive time: the
backend and the clients are separate processes on one machine, sharing its clock.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from wiringcheck.capture import Capture, scrubbed_logs
from wiringcheck.config import LoadSettings, ProbeSettings, Settings, split_tokens, user_identity
from wiringcheck.errors import LoadError, UsageError, WiringcheckError
from wiringcheck.findings import CheckResult, Phase
from wiringcheck.load.summary import ClientStats, build_report, default_thresholds, summarize
from wiringcheck.load.worker import UserPlan, WorkerPlan, WorkerResult
from wiringcheck.run.judge import expectation_for
from wiringcheck.run.recording import EMISSION_CHECK, EMIT_ELSEWHERE, Latency
from wiringcheck.thresholds import parse_thresholds

if TYPE_CHECKING:
    from collections.abc import Mapping

    from wiringcheck.render import Outputs
    from wiringcheck.report import Report
    from wiringcheck.secrets import Secrets
    from wiringcheck.supervisor import Relay

__all__ = [
    "LoadError",
    "LoadOptions",
    "cross_talk_unknowable",
    "drive_bound",
    "fit_machine",
    "load_command",
    "load_here",
    "plan_users",
    "plan_workers",
    "resolve_options",
    "run_load",
    "secrets_of",
    "time_bound",
    "usable_cpus",
]

SPAWN_TIMEOUT = 60.0
"""How long the client processes may take to start and import wiringcheck."""

LOAD_PHASE = "load"
"""The phase of a load test's own checks, between the backend's boot and its shutdown."""


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """The test's shape, after the flags have replaced the configuration's [load] keys."""

    users: int
    spawn_rate: float
    duration: float | None
    runs: int | None
    workers: int
    grace: float


def resolve_options(
    load: LoadSettings,
    *,
    users: int | None = None,
    spawn_rate: float | None = None,
    duration: float | None = None,
    runs: int | None = None,
    workers: int | None = None,
    grace: float | None = None,
    deadline: float = 5.0,
) -> LoadOptions:
    """Flags over the [load] table; a test with neither duration nor runs does one run per user."""
    if duration is not None and runs is not None:
        raise UsageError("give --duration or --runs, not both")
    users = users if users is not None else load.users
    if duration is None and runs is None:
        duration, runs = load.duration, load.runs
    if duration is None and runs is None:
        runs = 1
    chosen_workers = workers if workers is not None else load.workers or os.cpu_count() or 1
    return LoadOptions(
        users=users,
        spawn_rate=spawn_rate if spawn_rate is not None else load.spawn_rate or float(users),
        duration=duration,
        runs=runs,
        workers=max(1, min(chosen_workers, users)),
        grace=grace if grace is not None else deadline,
    )


DESCRIPTORS_RESERVED = 64
"""Descriptors a process needs besides one per connection: the interpreter, pipes to the workers, logs."""


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, where the system has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def fit_machine(
    options: LoadOptions,
    *,
    in_process: bool,
    workers_asked: int | None,
    cpus: int | None = None,
    descriptors: tuple[int, int] | None = None,
) -> tuple[LoadOptions, list[str]]:
    """The options bounded by what this machine can hold, and a note for each bound that changed them.

    Workers: at most one per usable CPU (more processes than CPUs measure their own
    contention, not the backend); a note says so when `workers_asked` (by flag or file)
    was more. Users: every user holds a connection, so a descriptor in its worker, and,
    for an in-process backend, one in this process; the soft limit is raised up to the
    hard one when that suffices (`descriptors`: (soft, hard), read from the system when
    not given).

    Raises:
        UsageError: the users need more descriptors than the hard limit allows (naming ``ulimit -n``).
    """
    notes: list[str] = []
    cpus = cpus if cpus is not None else usable_cpus()
    if options.workers > cpus:
        if workers_asked is not None:
            notes.append(
                f"{workers_asked} client processes capped at {cpus}, the CPUs available: more processes "
                "than CPUs measure their own contention, not the backend"
            )
        options = replace(options, workers=cpus)
    per_worker = -(-options.users // options.workers)
    needed = max(per_worker, options.users if in_process else 0) + DESCRIPTORS_RESERVED + 4 * options.workers
    soft, hard = descriptors if descriptors is not None else _descriptor_limits()
    if needed > soft:
        if 0 <= hard < needed:
            raise UsageError(
                f"{options.users} users need about {needed} open files in one process, but this process may "
                f"open at most {hard} (`ulimit -n` is {soft}, its hard limit {hard}); raise the limit in the shell "
                f"that runs wiringcheck (`ulimit -n {needed}`), or run fewer users"
            )
        if descriptors is None:
            _raise_descriptor_limit(needed, hard)
    return options, notes


def _descriptor_limits() -> tuple[int, int]:
    """(soft, hard) limit on open files; -1 for unlimited, and no limit where the system has none."""
    try:
        import resource
    except ImportError:  # not POSIX
        return (1 << 31, -1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinity = resource.RLIM_INFINITY
    return (1 << 31 if soft == infinity else soft, -1 if hard == infinity else hard)


def _raise_descriptor_limit(needed: int, hard: int) -> None:
    import resource

    resource.setrlimit(
        resource.RLIMIT_NOFILE,
        (needed if hard < 0 else min(needed, hard), resource.RLIM_INFINITY if hard < 0 else hard),
    )


def user_tokens(load: LoadSettings, environ: Mapping[str, str], users: int) -> list[str] | None:
    """The tokens of a `tokens_env` that is one variable holding them all, read once; else None.

    Raises:
        UsageError: the variable is unset or holds fewer tokens than users (`config.user_identity`'s message).
    """
    if not isinstance(load.tokens_env, str) or not load.tokens_env:
        return None
    user_identity(load, users, ProbeSettings(), environ, count=users)  # user `users` has one, so all before do
    return list(split_tokens(environ.get(load.tokens_env, "")))


def user_probe(settings: Settings, number: int, environ: Mapping[str, str], tokens: list[str] | None) -> ProbeSettings:
    """The probe settings of user `number` (from 1): its user id, and its own token when configured
    (`config.user_identity` decides both; `tokens` are those `user_tokens` read, or None)."""
    load, probe = settings.load, settings.probe
    identity = user_identity(load, number, probe, environ)
    changes: dict[str, Any] = {"user_id": identity.user_id}
    if probe.auth.enabled:
        token = tokens[number - 1] if tokens else identity.token
        # Only the token changes: it is sent the way probe.auth says (query, header, subprotocol, message, cookie).
        changes["auth"] = replace(probe.auth, token_env=None, token=token)
    return replace(probe, **changes)


def plan_users(settings: Settings, options: LoadOptions, environ: Mapping[str, str]) -> list[UserPlan]:
    """Each user's number, start offset (the ramp) and probe settings (its id and token).

    Raises:
        UsageError: `tokens_env` is unset or holds fewer tokens than users.
    """
    tokens = user_tokens(settings.load, environ, options.users)
    return [
        UserPlan(
            number=number,
            offset=(number - 1) / options.spawn_rate,
            probe=user_probe(settings, number, environ, tokens),
        )
        for number in range(1, options.users + 1)
    ]


def cross_talk_unknowable(settings: Settings) -> str:
    """Why another user's frame cannot be told apart from a user's own in this test ("" when it can)."""
    if settings.probe.run_id == "connection":
        return (
            "run_id = \"connection\": every frame on a user's connection counts as its own run's, so another "
            "user's frame cannot be told apart; correlate by a run id (client or server) to check cross-talk"
        )
    if settings.probe.auth.enabled and not settings.load.per_user_identity:
        return "every user has the same token: give each its own (load.tokens, load.token or load.tokens_env) to check"
    return ""


def secrets_of(users: list[UserPlan]) -> list[str]:
    """Every token the users send, to scrub from all output."""
    return sorted({u.probe.auth.token for u in users if u.probe.auth.token}, key=len, reverse=True)


def plan_workers(url: str, settings: Settings, options: LoadOptions, users: list[UserPlan]) -> list[WorkerPlan]:
    """Deal the users to the workers in turn, so each worker ramps up at the same pace."""
    expectation = expectation_for(settings.probe, latency=Latency.TIMESTAMP)
    return [
        WorkerPlan(
            index=index,
            url=url,
            users=tuple(users[index :: options.workers]),
            expectation=expectation,
            duration=options.duration,
            runs=options.runs,
            grace=options.grace,
        )
        for index in range(options.workers)
    ]


def _client_context(multiprocessing: Any) -> Any:
    """How the client processes start: forked from a fork server where there is one (not macOS), else spawned.

    Neither copies this process (its threads, its booted backend, gevent's patches in a
    Locust run): a spawned client is a new interpreter that imports the run's modules again,
    a fork server is one such interpreter that imports them once and forks every client
    from itself, so the second and later clients (and every later `load` in this process,
    the pytest plugin's or an API caller's) start without their imports. On macOS (which
    refuses some forks) and Windows (which cannot fork), each client is spawned.
    """
    if sys.platform != "darwin" and "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # The modules every client imports; a transport's own library (websockets' client is the default) too.
        context.set_forkserver_preload(
            ["wiringcheck.load.worker", "wiringcheck.run.drive", "websockets.asyncio.client"]
        )
        return context
    return multiprocessing.get_context("spawn")


async def _get(queue: Any, wait: float) -> Any:
    import queue as queues

    try:
        return await asyncio.to_thread(queue.get, True, wait)
    except queues.Empty:
        return None


def drive_bound(options: LoadOptions, probe: ProbeSettings) -> float:
    """Seconds the users may take, from the go to the last result: the ramp, then the duration or the runs."""
    ramp = (options.users - 1) / options.spawn_rate
    if options.duration is not None:
        return ramp + options.duration + options.grace + 10.0
    return ramp + (options.runs or 1) * (probe.deadline + probe.connect_timeout + 2.5) + 10.0


def time_bound(settings: Settings, options: LoadOptions) -> float:
    """Seconds the whole load test may take: boot, warm-up runs, starting the client processes, the users, shutdown."""
    from wiringcheck.run.drive import run_bound

    return (
        settings.startup_timeout
        + settings.probe.warmup * run_bound(settings.probe)
        + SPAWN_TIMEOUT
        + drive_bound(options, settings.probe)
        + 5.0  # the client processes' own stop
        + settings.shutdown_timeout
    )


async def _drive(plans: list[WorkerPlan], options: LoadOptions, progress: Any) -> tuple[list[WorkerResult], float]:
    """Start the client processes, give the go, collect their results; always stop them."""
    import multiprocessing

    from wiringcheck.load import worker

    context = _client_context(multiprocessing)
    queue = context.Queue()
    go = context.Event()
    start = context.Value("d", 0.0)
    processes = [
        context.Process(target=worker.main, args=(plan, queue, go, start), name=f"wiringcheck-load-{plan.index}")
        for plan in plans
    ]
    results: dict[int, WorkerResult] = {}
    counts: dict[int, tuple[int, int]] = {}
    try:
        for process in processes:
            process.daemon = True
            process.start()
        ready: set[int] = set()
        give_up = time.monotonic() + SPAWN_TIMEOUT
        while len(ready) < len(plans):
            if time.monotonic() > give_up:
                raise LoadError(f"the client processes did not start within {SPAWN_TIMEOUT:g} s")
            message = await _get(queue, 0.2)
            if message is None:
                continue
            if message[0] == "ready":
                ready.add(message[1])
            elif message[0] == "failed":
                raise LoadError(f"client process {message[1]} failed: {message[2]}")
        start.value = time.time() + 0.05
        go.set()
        began = time.monotonic()
        bound = drive_bound(options, plans[0].users[0].probe if plans and plans[0].users else ProbeSettings())
        while len(results) < len(plans):
            if time.monotonic() - began > bound:
                raise LoadError(f"the client processes did not finish within {bound:g} s")
            message = await _get(queue, 0.2)
            if progress is not None:
                progress.update(
                    elapsed=time.monotonic() - began,
                    runs=sum(r for r, _ in counts.values()),
                    failed=sum(f for _, f in counts.values()),
                )
            if message is None:
                continue
            kind, index = message[0], message[1]
            if kind == "progress":
                counts[index] = (message[2], message[3])
            elif kind == "done":
                results[index] = message[2]
            elif kind == "failed":
                raise LoadError(f"client process {index} failed: {message[2]}")
        elapsed = time.monotonic() - began
    finally:
        go.set()
        for process in processes:
            process.join(timeout=5.0)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5.0)
        queue.close()
    return [results[index] for index in sorted(results)], elapsed


async def run_load(
    settings: Settings,
    options: LoadOptions,
    *,
    environ: Mapping[str, str] | None = None,
    progress: Any = None,
    capture: Capture | None = None,
    observer: Any = None,
) -> Report:
    """Boot the target once, run the users in client processes, and report.

    What the backend logs and the exceptions its tasks leave unobserved are collected
    into `capture` (a fresh one when not given) and reported as `run` reports them: a
    ``logs`` check (WC105) and a ``load: runtime errors`` check (WC110, WC111).
    `observer`, when given, hears each phase start (``boot``, ``load``, ``shutdown``).

    Raises:
        UsageError: bad input (tokens, an import path).
        LoadError: client processes that failed.
        BackendError: the backend did not boot.
    """
    from wiringcheck.backend import booted

    env = os.environ if environ is None else environ
    capture = capture if capture is not None else Capture()
    users = plan_users(settings, options, env)
    parse_thresholds(settings.load.thresholds, settings.probe.events)  # a usage error before anything boots

    def enter(phase: str) -> None:
        capture.phase = phase
        if observer is not None:
            observer.phase_started(phase)

    enter(Phase.BOOT)
    with capture.logs(Phase.BOOT), capture.runtime(LOAD_PHASE):
        async with booted(settings, environ=env) as backend:
            if settings.probe.warmup and users:
                from wiringcheck.run.drive import WARMUP_PHASE, warm_up

                # Once, before any user starts, as `run` warms a booted backend up once: the first
                # runs after boot would otherwise make the first users' latencies the lazy imports'.
                await warm_up(backend.ws_url, users[0].probe, env, before_each=lambda: enter(WARMUP_PHASE))
            enter(LOAD_PHASE)
            plans = plan_workers(backend.ws_url, settings, options, users)
            results, elapsed = await _drive(plans, options, progress)
            enter(Phase.SHUTDOWN)
    report = load_report(settings, options, results, elapsed)
    runtime = capture.runtime_findings()
    if runtime:
        report.add(CheckResult.judged(f"{LOAD_PHASE}: runtime errors", LOAD_PHASE, runtime))
    logged = capture.logs_check()
    if logged is not None:
        report.add(logged)
    report.logs = capture.log_records()
    learned = tuple(
        dict.fromkeys(value for result in results for outcome in result.outcomes for value in outcome.secrets)
    )
    if not learned:
        return report
    # What the users' setup steps received (a session token) is as secret as what they sent.
    tell = getattr(observer, "secrets_learned", None)
    if tell is not None:  # a supervising process scrubs what the backend wrote with them too
        tell(learned)
    from wiringcheck.secrets import Secrets

    return Secrets(learned).scrub(report)


def load_report(settings: Settings, options: LoadOptions, results: list[WorkerResult], elapsed: float) -> Report:
    """The load test's report from what the workers sent home: the same judgement whoever ran the users."""
    thresholds = parse_thresholds(
        settings.load.thresholds or default_thresholds(expectation_for(settings.probe)), settings.probe.events
    )
    expectation = expectation_for(settings.probe, latency=Latency.TIMESTAMP)
    summary = summarize(
        (outcome for result in results for outcome in result.outcomes),
        expectation,
        users=options.users,
        duration=elapsed,
        cut_off=sum(r.cut_off for r in results),
        cross_talk_skipped=cross_talk_unknowable(settings),
        client=ClientStats(
            lag_ms=tuple(lag for r in results for lag in r.lag_ms),
            cpu_seconds=sum(r.cpu_seconds for r in results),
            workers=len(results),
        ),
    )
    mode = f"{options.duration:g} s" if options.duration is not None else f"{options.runs} run(s) per user"
    report = build_report(
        summary,
        thresholds,
        target=f"{settings.target_kind} {_shown(settings.target)}",
        clock=(
            f"the event's {settings.probe.timestamp_field!r} field to the client's receive time "
            "(one machine, one clock)"
        ),
        extra={
            "users": options.users,
            "workers": options.workers,
            "spawn_rate": options.spawn_rate,
            "mode": mode,
        },
    )
    if settings.probe.emit:
        report.add(CheckResult.skipped(EMISSION_CHECK, Phase.PROBE, EMIT_ELSEWHERE))
    return report


def _shown(target: str) -> str:
    from wiringcheck.secrets import mask_urls

    return mask_urls(target)


class _RelayedProgress:
    """The progress display of the supervising process, seen from the child."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    def update(self, **values: Any) -> None:
        self.relay.call("progress", "update", **values)


def load_here(
    relay: Relay | None,
    settings: Settings,
    options: LoadOptions,
    environ: Mapping[str, str],
    secrets: Secrets,
    progress: Any = None,
) -> Report:
    """The load test in this process, its report scrubbed; in a supervised child, progress goes through `relay`."""
    if relay is not None:
        progress = _RelayedProgress(relay) if progress is None else progress
    capture = Capture()
    # The backend's log lines and prints are evidence, scrubbed with the report; never raw on stderr.
    with scrubbed_logs(secrets), capture.output():
        report = asyncio.run(
            run_load(settings, options, environ=environ, progress=progress, capture=capture, observer=relay)
        )
    report.output = capture.output_records()
    return secrets.scrub(report)


def load_command(
    settings: Settings,
    *,
    users: int | None = None,
    spawn_rate: float | None = None,
    duration: float | None = None,
    runs: int | None = None,
    workers: int | None = None,
    grace: float | None = None,
    outputs: Outputs | None = None,
    environ: Mapping[str, str] | None = None,
    supervised: bool = False,
) -> int:
    """Run the load test and write the report; returns the exit code (0, 1 a check failed, 2, 3, 4).

    Every token the users send is scrubbed from the report, the progress and the errors.
    With `supervised`, an in-process backend runs in a child process (`wiringcheck.supervisor`):
    if it ends that process, the report says so (WC108) and the exit code is 3.
    """
    from wiringcheck.errors import print_error
    from wiringcheck.render import Format, Outputs, write_outputs
    from wiringcheck.secrets import Secrets

    env = os.environ if environ is None else environ
    outputs = outputs or Outputs()
    secrets = Secrets(settings.credentials(env))
    progress = None
    try:
        options = resolve_options(
            settings.load,
            users=users,
            spawn_rate=spawn_rate,
            duration=duration,
            runs=runs,
            workers=workers,
            grace=grace,
            deadline=settings.probe.deadline,
        )
        options, notes = fit_machine(
            options,
            in_process=settings.target_kind != "url",
            workers_asked=workers or settings.load.workers,
        )
        for note in notes if outputs.verbosity >= 0 else ():
            sys.stderr.write(f"wiringcheck: note: {note}\n")
        secrets = secrets.with_values(*secrets_of(plan_users(settings, options, env)))
        if outputs.format is Format.CONSOLE and outputs.output is None and outputs.verbosity >= 0:
            from wiringcheck.render.console import LoadProgress, make_console

            progress = LoadProgress(make_console(sys.stderr), users=options.users)
        try:
            if supervised and settings.target_kind != "url":
                from wiringcheck.supervisor import report_of, supervise

                args = (settings, options, dict(env), secrets)
                outcome = supervise(
                    load_here, args, timeout=time_bound(settings, options), targets={"progress": progress}
                )
                report = report_of(outcome, settings, kind="load", secrets=secrets)
            else:
                report = load_here(None, settings, options, env, secrets, progress)
        finally:
            if progress is not None:
                progress.close()
        write_outputs(report, outputs)
    except WiringcheckError as exc:
        scrubbed = WiringcheckError(secrets.scrub_text(str(exc)))
        scrubbed.exit_code = exc.exit_code
        return print_error(scrubbed)
    return int(report.exit_code)
