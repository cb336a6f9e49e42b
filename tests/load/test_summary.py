"""Load aggregation over hand-built recordings: counts, percentiles, cut-offs and the report."""

from __future__ import annotations

import json

from wiringcheck.config import DEFAULT_EVENTS
from wiringcheck.findings import Severity, Status
from wiringcheck.load.summary import (
    ClientStats,
    RunOutcome,
    build_report,
    default_thresholds,
    latency_stats,
    outcome_of,
    summarize,
)
from wiringcheck.run.judge import judge as check_events
from wiringcheck.run.recording import Expectation, Frame, Recording
from wiringcheck.thresholds import parse_threshold

EXPECT = Expectation(events=DEFAULT_EVENTS, terminal=DEFAULT_EVENTS[-1], latency="send")


def recording(run_id: str, events: list[tuple[str, float]], *, other: str | None = None, end: str = "terminal"):
    """A run whose events arrive at 100 + i ms after a trigger at 100.0, each with the given latency (ms)."""
    frames = []
    for index, (name, latency_ms) in enumerate(events):
        at = 100.0 + (index + 1) / 1000
        frames.append(
            Frame(received_at=at, data=json.dumps({"type": name, "run_id": run_id}), sent_at=at - latency_ms / 1000)
        )
    if other is not None:
        frames.append(Frame(received_at=100.5, data=json.dumps({"type": "agent_started", "run_id": other})))
    return Recording(run_id=run_id, trigger_at=100.0, ended_at=100.6, frames=tuple(frames), end=end)


def outcome(run_id: str, events, *, user: int = 1, **kwargs) -> RunOutcome:
    rec = recording(run_id, events, **kwargs)
    return outcome_of(rec, check_events(rec, EXPECT), EXPECT, user=user)


HEALTHY = [(name, 5.0) for name in DEFAULT_EVENTS]


def test_a_healthy_run_keeps_each_events_latency():
    """A full run in order completes, with every event's first-arrival latency and nothing wrong."""
    result = outcome("r1", HEALTHY)

    assert result.completed
    assert not result.failed
    assert dict.fromkeys(DEFAULT_EVENTS, 5.0) == dict(result.latencies)


def test_missing_out_of_order_duplicated_and_foreign_frames_are_counted():
    """A run missing tool_completed, with a duplicate and another run's frame, says so event by event."""
    events = [(n, 5.0) for n in DEFAULT_EVENTS if n != "tool_completed"]
    events.insert(1, ("agent_started", 5.0))
    result = outcome("r1", events, other="r2")

    assert ("tool_completed",) == result.missing
    assert (("agent_started", 1),) == result.duplicates
    assert 1 == result.cross_talk
    assert result.failed


def test_out_of_order_events_are_counted():
    """An event that arrives before one the protocol puts first is out of order."""
    events = [HEALTHY[0], HEALTHY[2], HEALTHY[1], *HEALTHY[3:]]

    assert ("tool_executing",) == outcome("r1", events).out_of_order


def test_a_connection_failure_is_a_run_error():
    """A run that never connected is a WC401 error of the run."""
    rec = Recording(run_id="r1", trigger_at=1.0, ended_at=1.0, end="connect_failed", error="refused")
    result = outcome_of(rec, check_events(rec, EXPECT), EXPECT, user=3)

    assert "WC401" == result.errors[0][0]
    assert not result.completed


def test_percentiles_come_from_the_standard_library():
    """p50/p95/p99 over 1..100 ms are the inclusive quantiles; one sample is every percentile."""
    stats = latency_stats([float(v) for v in range(1, 101)])

    assert (50.5, 95.05, 99.01, 100.0) == (stats["p50"], stats["p95"], stats["p99"], stats["max"])
    assert {"p50": 7.0, "p90": 7.0, "p95": 7.0, "p99": 7.0, "max": 7.0, "mean": 7.0} == latency_stats([7.0])
    assert all(value is None for value in latency_stats([]).values())


def test_summary_counts_runs_and_keeps_cut_off_runs_apart():
    """Cut-off runs are only counted in cut_off: never as missing events or failures."""
    outcomes = [outcome(f"r{i}", HEALTHY, user=i) for i in range(1, 4)]
    outcomes.append(outcome("r9", [(n, 5.0) for n in DEFAULT_EVENTS if n != "tool_completed"], user=9))

    summary = summarize(outcomes, EXPECT, users=9, duration=2.0, cut_off=5)
    metrics = summary.metrics()

    assert (4, 4, 1, 5) == (summary.runs, summary.completed, summary.failed, summary.cut_off)
    assert 1 == summary.per_event["tool_completed"].missing
    assert 1.0 == metrics["completion_rate"]
    assert 0.25 == metrics["error_rate"]
    assert 2.0 == metrics["runs_per_second"]
    assert 3 == metrics["tool_completed.count"]


def test_report_of_a_healthy_test_passes():
    """Healthy runs under the default thresholds make a passing load report with a check per event."""
    outcomes = [outcome(f"r{i}", HEALTHY, user=i) for i in range(1, 21)]
    summary = summarize(outcomes, EXPECT, users=20, duration=1.0, client=ClientStats(lag_ms=(1.0, 2.0), workers=2))
    thresholds = [parse_threshold(t, DEFAULT_EVENTS) for t in default_thresholds(EXPECT)]

    report = build_report(summary, thresholds, target="app x:y")

    assert report.ok
    assert "load" == report.kind
    assert 1.0 == report.extra["load"]["completion_rate"]
    assert {"load: runs", "load: cross-talk", "load: client", *(f"event: {e}" for e in DEFAULT_EVENTS)} == {
        c.name for c in report.checks
    }


def test_report_fails_on_missing_events_and_thresholds():
    """Missing events are WC502 on their event; a failed threshold is WC501 where its metric belongs."""
    outcomes = [outcome(f"r{i}", HEALTHY, user=i) for i in range(1, 4)]
    outcomes.append(outcome("r9", [(n, 5.0) for n in DEFAULT_EVENTS if n != "tool_completed"], user=9))
    thresholds = [parse_threshold(t, DEFAULT_EVENTS) for t in ("errors == 0", "agent_started.p99 < 1")]

    report = build_report(summarize(outcomes, EXPECT, users=4, duration=1.0), thresholds, target="app x:y")
    by_name = {c.name: c for c in report.checks}

    assert not report.ok
    assert ["WC502"] == [f.code for f in by_name["event: tool_completed"].findings]
    assert "tool_completed never arrived in 1 of 4 runs" == by_name["event: tool_completed"].findings[0].message
    assert ["WC501"] == [f.code for f in by_name["event: agent_started"].findings]
    assert ["WC501"] == [f.code for f in by_name["load: runs"].findings]


def test_cross_talk_fails_only_when_users_have_their_own_identity():
    """Another run's frame is WC505 with per-user tokens; with one shared token the check is skipped."""
    outcomes = [outcome("r1", HEALTHY, other="r2")]

    own = build_report(summarize(outcomes, EXPECT, users=1, duration=1.0), [], target="t")
    skipped = "every user has the same token"
    shared = build_report(
        summarize(outcomes, EXPECT, users=1, duration=1.0, cross_talk_skipped=skipped), [], target="t"
    )

    assert ["WC505"] == [f.code for c in own.checks if c.name == "load: cross-talk" for f in c.findings]
    assert Status.SKIPPED == next(c.status for c in shared.checks if c.name == "load: cross-talk")


def test_no_finished_run_fails_the_test():
    """A test in which no run finished is a failure, not a pass with nothing measured."""
    report = build_report(summarize([], EXPECT, users=5, duration=1.0, cut_off=5), [], target="t")

    assert not report.ok
    assert "no run finished during the test (5 cut off when it ended)" == report.findings[0].message


def test_a_saturated_client_is_a_warning_not_a_failure():
    """Client loop lag over a quarter of the budget is a WC506 warning; the test still passes."""
    summary = summarize(
        [outcome("r1", HEALTHY)], EXPECT, users=1, duration=1.0, client=ClientStats(lag_ms=(80.0, 90.0))
    )

    report = build_report(summary, [], target="t")

    assert report.ok
    assert [("WC506", Severity.WARNING)] == [(f.code, f.severity) for f in report.findings]


def test_scrubbing_tokens_leaves_words_that_share_their_prefix():
    """A token's prefix is masked only right before a cut mark, so 'load' survives a 'load-token-1' secret."""
    from wiringcheck.secrets import Secrets

    secrets = Secrets(["load-token-1"])

    assert "kind load; cut ***…; whole ***" == secrets.scrub_text("kind load; cut load-tok…; whole load-token-1")


def test_a_run_with_two_findings_of_one_code_counts_once():
    """Two WC406 in one run are one failed run, never "2 of 1 runs failed with WC406"."""
    frames = ["not json", "still not json", *(json.dumps({"type": name, "run_id": "r1"}) for name in DEFAULT_EVENTS)]
    rec = Recording(
        run_id="r1",
        trigger_at=1.0,
        ended_at=2.0,
        frames=tuple(Frame(received_at=1.0 + 0.001 * n, data=data) for n, data in enumerate(frames)),
    )
    outcome = outcome_of(rec, check_events(rec, EXPECT), EXPECT, user=1)
    report = build_report(summarize([outcome], EXPECT, users=1, duration=1.0), [], target="t")

    (finding,) = [f for f in report.findings if f.code == "WC507"]
    assert finding.message.startswith("1 of 1 run failed with WC406")
