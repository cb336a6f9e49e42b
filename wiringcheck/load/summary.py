"""From many runs' verdicts to one load report: pure aggregation, no I/O.

Each run is judged by the one judge (`wiringcheck.run.judge.judge`), and `outcome_of`
keeps only what the aggregate needs (first-arrival latency per event, what was missing,
out of order, duplicated, slow, or another user's), so a client process can send
thousands of outcomes home cheaply.  `outcome_of` is also how the Locust user reads a
run: the same recording fails the same way in `wiringcheck load` and in Locust.
`summarize` turns outcomes into per-event counts and percentiles (`statistics.quantiles`,
never hand-written rank math) and the test's metrics; `build_report` turns a summary and the thresholds into a `Report`
(kind ``load``), so every renderer and exit code works unchanged.

Runs cut off by the end of the test are counted apart (``cut_off``) and never as
missing events: a run stopped mid-way says nothing about the backend.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wiringcheck.findings import CheckResult, Finding, Severity, Status
from wiringcheck.report import Report
from wiringcheck.run.judge import Verdict
from wiringcheck.run.recording import NOT_STARTED, Expectation, Recording, RecordingEnd
from wiringcheck.run.rules.unreached import CODE_OF as UNREACHED_CODE
from wiringcheck.thresholds import EVENT_STATS, Threshold, ThresholdResult, evaluate

__all__ = [
    "ClientStats",
    "EventStats",
    "LoadSummary",
    "RunOutcome",
    "build_report",
    "latency_stats",
    "outcome_of",
    "summarize",
]

_PER_EVENT = {"WC402": "missing", "WC403": "out_of_order", "WC421": "duplicates"}
"""Per-run codes the load report counts per event, and fail the run."""

_SLOW = {"WC405", "WC420", "WC423"}
"""Per-run timing codes (latency, gap, emission): counted per event as slow and judged by the thresholds
over every run's percentiles, never as one run's failure."""

FOREIGN_SHOWN = 3
"""Foreign runs an outcome names (a broadcast puts every other user's run on the socket)."""


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What one run of one user contributes to the load report.

    Attributes:
        user: the user's number (1-based).
        run_id: the run's id.
        duration: seconds from the trigger to the end of recording.
        completed: the terminal event arrived.
        latencies: first-arrival delivery latency (ms) of each expected event that arrived
            and could be measured.
        arrived: the expected events that arrived.
        missing: expected events that never arrived.
        out_of_order: expected events whose first arrival broke the protocol order.
        over_budget: expected events whose delivery took longer than the budget.
        duplicates: (event, extra copies) for events sent once per run that came more than once (WC421).
        cross_talk: frames of another user's run on this user's socket (its own earlier runs excluded).
        foreign: (run id, frames) of the first runs not its own that reached this user's socket.
        errors: (code, message) of the run's other error findings (connect failed, closed early...).
        secrets: the credentials the run's setup steps received (a session token, a private run id): the
            load report is scrubbed of them with the configured ones, never shown.
    """

    user: int
    run_id: str
    duration: float
    completed: bool
    latencies: tuple[tuple[str, float], ...] = ()
    arrived: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    out_of_order: tuple[str, ...] = ()
    over_budget: tuple[str, ...] = ()
    duplicates: tuple[tuple[str, int], ...] = ()
    cross_talk: int = 0
    foreign: tuple[tuple[str, int], ...] = ()
    errors: tuple[tuple[str, str], ...] = ()
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def failed(self) -> bool:
        """Whether the run had an error finding (slow events alone are judged by thresholds)."""
        return bool(self.errors or self.missing or self.out_of_order or self.duplicates)

    def failures(self) -> list[tuple[str, str, str]]:
        """(event or "run", code, message) of each reason this run failed, in a stable order."""
        reasons = [(event, "WC402", f"{event} never arrived") for event in self.missing]
        reasons += [(event, "WC403", f"{event} arrived out of order") for event in self.out_of_order]
        reasons += [(event, "WC421", f"{event} arrived {extra + 1} times") for event, extra in self.duplicates]
        reasons += [("run", code, message) for code, message in self.errors]
        return reasons


def outcome_of(recording: Recording, verdict: Verdict, expectation: Expectation, *, user: int) -> RunOutcome:
    """Keep what the aggregate needs of one judged run: the one reading of a run under load."""
    first: dict[str, float | None] = {}
    for record in verdict.timeline:
        if record.ours and record.type in expectation.events:
            first.setdefault(record.type, record.latency_ms)
    kinds: dict[str, set[str]] = {event: set() for event in expectation.events}
    errors: list[tuple[str, str]] = []
    duplicates: dict[str, int] = {}
    # A run that never started (no connection, refused credentials, a failed setup step) says nothing of its events.
    judged = {} if recording.end in NOT_STARTED else verdict.per_event
    for event, findings in judged.items():
        for finding in findings:
            if finding.severity is not Severity.ERROR:
                continue
            if finding.code in _PER_EVENT:
                kinds[event].add(_PER_EVENT[finding.code])
                if finding.code == "WC421":
                    duplicates[event] = int(finding.data.get("count", 2)) - 1
            elif finding.code in _SLOW:
                kinds[event].add("over_budget")
            else:
                errors.append((finding.code, finding.message))
    errors += [
        (finding.code, finding.message)
        for finding in (verdict.general if recording.end not in NOT_STARTED else ())
        if finding.severity is Severity.ERROR and finding.code not in _SLOW
    ]
    if recording.end in NOT_STARTED:
        said = f"cannot connect: {recording.error}" if recording.end == RecordingEnd.CONNECT_FAILED else recording.error
        errors.insert(0, (UNREACHED_CODE[recording.end], said))
    foreign = sorted(verdict.foreign.items(), key=lambda pair: -pair[1])
    return RunOutcome(
        user=user,
        run_id=recording.id,
        duration=max(recording.ended_at - recording.trigger_at, 0.0),
        completed=expectation.terminal in first,
        latencies=tuple((event, value) for event, value in first.items() if value is not None),
        arrived=tuple(first),
        missing=tuple(e for e in expectation.events if "missing" in kinds[e]),
        out_of_order=tuple(e for e in expectation.events if "out_of_order" in kinds[e]),
        over_budget=tuple(e for e in expectation.events if "over_budget" in kinds[e]),
        duplicates=tuple(duplicates.items()),
        cross_talk=sum(verdict.foreign.values()),
        foreign=tuple(foreign[:FOREIGN_SHOWN]),
        errors=tuple(errors),
        secrets=recording.secrets,
    )


# -- aggregation -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventStats:
    """One event over the whole test: how often it arrived, how fast, and what went wrong."""

    count: int
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None
    mean: float | None = None
    missing: int = 0
    out_of_order: int = 0
    duplicates: int = 0
    over_budget: int = 0
    samples: int = 0


def latency_stats(samples: Sequence[float]) -> dict[str, float | None]:
    """p50/p90/p95/p99/max/mean of latency samples (ms), None for each when there is none.

    Percentiles use `statistics.quantiles` with the inclusive method (the sample's own
    range, as Locust and k6 report it); one sample is its own every percentile.
    """
    if not samples:
        return dict.fromkeys(("p50", "p90", "p95", "p99", "max", "mean"))
    if len(samples) == 1:
        only = float(samples[0])
        return {"p50": only, "p90": only, "p95": only, "p99": only, "max": only, "mean": only}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], 3),
        "p90": round(cuts[89], 3),
        "p95": round(cuts[94], 3),
        "p99": round(cuts[98], 3),
        "max": round(max(samples), 3),
        "mean": round(statistics.fmean(samples), 3),
    }


@dataclass(frozen=True, slots=True)
class ClientStats:
    """How busy the client processes were: their loop lag and CPU time.

    Attributes:
        lag_ms: samples of each client loop's lag (how late a periodic timer fired), in ms.
        cpu_seconds: CPU time the client processes spent (user + system).
        workers: number of client processes.
    """

    lag_ms: tuple[float, ...] = ()
    cpu_seconds: float = 0.0
    workers: int = 1


@dataclass(slots=True)
class LoadSummary:
    """The whole test, aggregated."""

    users: int
    events: tuple[str, ...]
    budget_ms: float
    duration: float
    runs: int
    completed: int
    failed: int
    cut_off: int
    cross_talk: int
    cross_talk_skipped: str
    """Why cross-talk could not be checked ("" when it was)."""
    per_event: dict[str, EventStats]
    errors: dict[str, tuple[int, str]] = field(default_factory=dict)
    client: ClientStats = field(default_factory=ClientStats)
    examples: dict[str, str] = field(default_factory=dict)

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.runs if self.runs else None

    @property
    def client_lag(self) -> dict[str, float | None]:
        stats = latency_stats(self.client.lag_ms)
        return {"p99": stats["p99"], "max": stats["max"]}

    def metrics(self) -> dict[str, float | None]:
        """Every metric a threshold can name, with its value (None when nothing was measured)."""
        lag = self.client_lag
        values: dict[str, float | None] = {
            "runs": self.runs,
            "completed": self.completed,
            "completion_rate": self.completion_rate,
            "errors": self.failed,
            "error_rate": self.failed / self.runs if self.runs else None,
            "cross_talk": None if self.cross_talk_skipped else self.cross_talk,
            "cut_off": self.cut_off,
            "runs_per_second": round(self.runs / self.duration, 3) if self.duration > 0 else None,
            "client_lag_p99": lag["p99"],
            "client_lag_max": lag["max"],
        }
        for event, stats in self.per_event.items():
            for name in ("count", "p50", "p90", "p95", "p99", "max", "mean", "missing", "out_of_order"):
                values[f"{event}.{name}"] = getattr(stats, name)
            values[f"{event}.duplicates"] = stats.duplicates
            values[f"{event}.over_budget"] = stats.over_budget
        return values

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data (``report.extra["load"]``)."""
        return {
            "users": self.users,
            "duration_s": round(self.duration, 3),
            "runs": self.runs,
            "completed": self.completed,
            "completion_rate": self.completion_rate,
            "errors": self.failed,
            "cut_off": self.cut_off,
            "cross_talk": None if self.cross_talk_skipped else self.cross_talk,
            "cross_talk_skipped": self.cross_talk_skipped or None,
            "runs_per_second": self.metrics()["runs_per_second"],
            "events": {
                event: {key: getattr(stats, key) for key in EVENT_STATS} for event, stats in self.per_event.items()
            },
            "client": {
                "workers": self.client.workers,
                "cpu_seconds": round(self.client.cpu_seconds, 3),
                "cpu_ms_per_run": round(1000 * self.client.cpu_seconds / self.runs, 3) if self.runs else None,
                "cpu_ms_per_user": round(1000 * self.client.cpu_seconds / self.users, 3) if self.users else None,
                "loop_lag_ms": self.client_lag,
            },
        }


def summarize(
    outcomes: Iterable[RunOutcome],
    expectation: Expectation,
    *,
    users: int,
    duration: float,
    cut_off: int = 0,
    cross_talk_skipped: str = "",
    client: ClientStats | None = None,
) -> LoadSummary:
    """Aggregate the outcomes of every finished run (cut-off runs are only counted in `cut_off`).

    `cross_talk_skipped` says why another user's frame cannot be told apart here (every
    user sends the same token; every frame on a connection is its run's): the cross-talk
    check is then reported as skipped with that reason, never as passed.
    """
    samples: dict[str, list[float]] = {event: [] for event in expectation.events}
    counters: dict[str, Counter[str]] = {event: Counter() for event in expectation.events}
    errors: dict[str, list[Any]] = {}
    examples: dict[str, str] = {}
    runs = completed = failed = cross_talk = 0
    outcomes = list(outcomes)
    owners = {outcome.run_id: outcome.user for outcome in outcomes}
    for outcome in outcomes:
        runs += 1
        completed += outcome.completed
        failed += outcome.failed
        cross_talk += outcome.cross_talk
        if outcome.cross_talk and "cross_talk" not in examples:
            examples["cross_talk"] = _foreign_example(outcome, owners)
        for event, value in outcome.latencies:
            samples[event].append(value)
        for event in outcome.arrived:
            counters[event]["count"] += 1
        for kind in ("missing", "out_of_order", "over_budget"):
            for event in getattr(outcome, kind):
                counters[event][kind] += 1
                examples.setdefault(f"{event}.{kind}", f"user {outcome.user}, run {outcome.run_id}")
        for event, extra in outcome.duplicates:
            if event in counters:
                counters[event]["duplicates"] += extra
                examples.setdefault(f"{event}.duplicates", f"user {outcome.user}, run {outcome.run_id}")
        counted: set[str] = set()
        for code, message in outcome.errors:
            entry = errors.setdefault(code, [0, f"user {outcome.user}, run {outcome.run_id}: {message}"])
            if code not in counted:  # runs that failed with the code, never findings: "16 of 8 runs" cannot be
                counted.add(code)
                entry[0] += 1
    per_event = {}
    for event in expectation.events:
        stats = latency_stats(samples[event])
        counts = counters[event]
        per_event[event] = EventStats(
            count=counts["count"],
            missing=counts["missing"],
            out_of_order=counts["out_of_order"],
            duplicates=counts["duplicates"],
            over_budget=counts["over_budget"],
            samples=len(samples[event]),
            **stats,
        )
    return LoadSummary(
        users=users,
        events=expectation.events,
        budget_ms=expectation.budget_ms,
        duration=duration,
        runs=runs,
        completed=completed,
        failed=failed,
        cut_off=cut_off,
        cross_talk=cross_talk,
        cross_talk_skipped=cross_talk_skipped,
        per_event=per_event,
        errors={code: (count, example) for code, (count, example) in errors.items()},
        client=client or ClientStats(),
        examples=examples,
    )


def _foreign_example(outcome: RunOutcome, owners: Mapping[str, int]) -> str:
    """Whose runs reached this user: each foreign run named with the user who started it, when one of ours did."""
    named = [
        f"{count} frame(s) of user {owners[run]}'s run {run}" if run in owners else f"{count} frame(s) of run {run}"
        for run, count in outcome.foreign
    ]
    return f"user {outcome.user} (run {outcome.run_id}) received {', '.join(named) or 'frames of another run'}"


# -- the report ------------------------------------------------------------------------------------

SATURATED_LAG_FRACTION = 0.25
"""The client is saturated when its loop's p99 lag exceeds this fraction of the event budget."""


def default_thresholds(expectation: Expectation) -> tuple[str, ...]:
    """The thresholds of a test that configures none: every event's p99 within the budget."""
    return tuple(f"{event}.p99 < {expectation.budget_ms:g}" for event in expectation.events)


def _of(count: int, runs: int) -> str:
    return f"{count} of {runs} run{'s' if runs != 1 else ''}"


def _threshold_finding(result: ThresholdResult, subject: str) -> Finding:
    threshold = result.threshold
    actual = "no value (nothing was measured)" if result.actual is None else f"{result.actual:g}"
    return Finding(
        code="WC501",
        message=f"threshold {threshold.text!r} failed: {threshold.metric} is {actual}",
        hint=(
            "Find what slows or fails under concurrency (a shared lock, a blocking call, a small pool), "
            "or relax the threshold in [load] thresholds if the target was wrong."
        ),
        subject=subject,
        evidence=(f"{threshold.metric} = {actual}", f"required: {threshold.metric} {threshold.op} {threshold.value:g}"),
        data={"actual": result.actual, "threshold": threshold.text},
    )


def build_report(
    summary: LoadSummary,
    thresholds: Sequence[Threshold],
    *,
    target: str,
    clock: str = "",
    extra: Mapping[str, Any] | None = None,
) -> Report:
    """The load test's `Report`: one check per event, one for the runs, one for cross-talk, one for the client."""
    report = Report(kind="load", target=target, budget_ms=summary.budget_ms, duration=summary.duration)
    report.clock = clock
    report.extra["load"] = summary.as_dict()
    report.extra["thresholds"] = [t.text for t in thresholds]
    report.extra.update(extra or {})
    judged = evaluate(thresholds, summary.metrics())
    unmeasured = [(r.threshold.text, reason) for r in judged if (reason := _not_measurable(summary, r)) is not None]
    results = [r for r in judged if _not_measurable(summary, r) is None]
    runs = summary.runs

    run_findings: list[Finding] = []
    if runs == 0:
        run_findings.append(
            Finding(
                code="WC507",
                message="no run finished during the test"
                + (f" ({summary.cut_off} cut off when it ended)" if summary.cut_off else ""),
                hint="Give the test more time (--duration, --grace) or check that the backend answers at all.",
                subject="load: runs",
            )
        )
    for code, (count, example) in sorted(summary.errors.items()):
        run_findings.append(
            Finding(
                code="WC507",
                message=f"{_of(count, runs)} failed with {code}",
                hint=f"Run `wiringcheck explain {code}`; the example run below shows the first occurrence.",
                subject="load: runs",
                evidence=(f"first: {example}",),
                data={"code": code, "count": count},
            )
        )
    run_findings += [
        _threshold_finding(r, "load: runs") for r in results if "." not in r.threshold.metric and not r.passed
    ]
    report.add(_check("load: runs", run_findings, summary.duration))

    for event, stats in summary.per_event.items():
        findings: list[Finding] = []
        for kind, code, what, hint in (
            (
                "missing",
                "WC502",
                "never arrived",
                "An event lost only under concurrency points at shared state: a bounded queue that drops, a "
                "per-process 'current run' variable, load shedding, or a connection map keyed by the wrong id.",
            ),
            (
                "out_of_order",
                "WC503",
                "arrived out of protocol order",
                "Events of one run must be sent from one task in order; under load, concurrent senders "
                "(a task per event, a thread pool) overtake each other.",
            ),
            (
                "duplicates",
                "WC504",
                "arrived more than once",
                "A run's event was delivered twice: a retry without an idempotency check, or a user "
                "registered twice in the connection map.",
            ),
        ):
            count = getattr(stats, kind)
            if count:
                example = summary.examples.get(f"{event}.{kind}", "")
                message = (
                    f"{event} {what} in {_of(count, runs)}"
                    if kind != "duplicates"
                    else f"{event} {what}: {count} extra cop{'ies' if count != 1 else 'y'} over {_of(runs, runs)}"
                )
                findings.append(
                    Finding(
                        code=code,
                        message=message,
                        hint=hint,
                        subject=f"event: {event}",
                        evidence=(f"first: {example}",) if example else (),
                        data={"count": count},
                    )
                )
        findings += [
            _threshold_finding(r, f"event: {event}")
            for r in results
            if r.threshold.metric.partition(".")[0] == event and not r.passed
        ]
        report.add(_check(f"event: {event}", findings, (stats.p99 or 0) / 1000))

    talk: list[Finding] = []
    if summary.cross_talk and not summary.cross_talk_skipped:
        talk.append(
            Finding(
                code="WC505",
                message=f"{summary.cross_talk} frame(s) of another user's run arrived on a user's socket",
                hint="Events must be routed by the run's owner: look for a broadcast, a connection map keyed by "
                "something users share, or a 'current user' kept in a global.",
                subject="load: cross-talk",
                evidence=(f"first: {summary.examples.get('cross_talk', '')}",),
                data={"count": summary.cross_talk},
            )
        )
    if summary.cross_talk_skipped:
        report.add(
            CheckResult(name="load: cross-talk", phase="load", status=Status.SKIPPED, reason=summary.cross_talk_skipped)
        )
    else:
        report.add(_check("load: cross-talk", talk, 0.0))
    for text, reason in unmeasured:
        report.add(CheckResult(name=f"threshold: {text}", phase="load", status=Status.SKIPPED, reason=reason))

    lag = summary.client_lag
    client: list[Finding] = []
    limit = SATURATED_LAG_FRACTION * summary.budget_ms
    if lag["p99"] is not None and lag["p99"] > limit:
        client.append(
            Finding(
                code="WC506",
                message=(
                    f"the client processes were saturated: their loop lag p99 was {lag['p99']:g} ms "
                    f"(max {lag['max']:g} ms), over {limit:g} ms; latencies include the client's own delay"
                ),
                hint="Use more --workers, fewer --users per machine, or spread the users over machines with "
                "the Locust user (wiringcheck.locust).",
                subject="load: client",
                severity=Severity.WARNING,
                data={"lag_p99_ms": lag["p99"]},
            )
        )
    report.add(_check("load: client", client, 0.0))
    return report


def _not_measurable(summary: LoadSummary, result: ThresholdResult) -> str | None:
    """Why a threshold has no value although nothing failed (None: it has one, or its absence is a failure).

    An event that arrived in runs but was never timed (its frames carry no usable
    timestamp) cannot be judged on latency; an event that never arrived fails its
    threshold, as it should.
    """
    if result.actual is not None:
        return None
    event, _, stat = result.threshold.metric.partition(".")
    stats = summary.per_event.get(event)
    if stats is not None and stat in ("p50", "p90", "p95", "p99", "max", "mean") and stats.count and not stats.samples:
        return (
            f"{event} arrived in {stats.count} run(s) but none could be timed: its frames carry no usable "
            "timestamp field (probe.timestamp_field), so its latency is not measured here"
        )
    if result.threshold.metric == "cross_talk" and summary.cross_talk_skipped:
        return summary.cross_talk_skipped
    return None


def _check(name: str, findings: list[Finding], duration: float) -> CheckResult:
    failed = any(f.severity is Severity.ERROR for f in findings)
    return CheckResult(
        name=name,
        phase="load",
        status=Status.FAILED if failed else Status.PASSED,
        findings=tuple(findings),
        duration=duration,
    )
