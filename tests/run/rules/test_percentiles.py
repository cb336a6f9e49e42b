"""WC405 over several runs: an event's chosen latency percentile (p50, p95 or max) against the budget."""

from __future__ import annotations

from dataclasses import replace

from tests.run.rules.tools import EXPECTATION
from wiringcheck.run.rules.percentiles import check_latency_summary, summarize_latencies

NINE_FAST_ONE_SLOW = [5.0, 6.0, 5.0, 7.0, 5.0, 6.0, 5.0, 8.0, 5.0, 300.0]
"""Ten runs' latencies of one event: one slow run (300 ms) among nine fast ones."""


def test_silent_when_the_chosen_percentile_fits():
    """One slow run in ten puts max over the budget, not p50: judged by p50, the event passes."""
    summary, findings = check_latency_summary("agent_thinking", NINE_FAST_ONE_SLOW, EXPECTATION, "p50")

    assert ([], 5.0, 300.0) == (findings, summary["p50"], summary["max"])


def test_silent_on_one_run_within_budget():
    """A single sample is every percentile; within budget, no finding."""
    summary, findings = check_latency_summary("agent_thinking", [40.0], EXPECTATION, "max")

    assert ([], {"p50": 40.0, "p95": 40.0, "max": 40.0, "samples": 1}) == (findings, summary)


def test_silent_under_a_larger_budget():
    """A 500 ms budget lets the same slow run pass under max."""
    _, findings = check_latency_summary(
        "agent_thinking", NINE_FAST_ONE_SLOW, replace(EXPECTATION, budget_ms=500.0), "max"
    )

    assert [] == findings


def test_the_summary_is_nearest_rank_over_the_runs():
    """p50, p95 and max are values that were measured (nearest rank), with the count of runs that measured them."""
    assert {"p50": 5.0, "p95": 300.0, "max": 300.0, "samples": 10} == summarize_latencies(NINE_FAST_ONE_SLOW)


def test_the_chosen_percentile_over_budget_is_wc405_with_the_summary():
    """Judged by max, the slow run fails the event: WC405 gives the percentile, the summary and every run."""
    _, findings = check_latency_summary("agent_thinking", NINE_FAST_ONE_SLOW, EXPECTATION, "max")

    (finding,) = findings
    assert (
        "WC405",
        "agent_thinking max latency 300 ms is over the 100 ms budget (p50 5, p95 300, max 300 ms over 10 runs)",
        "event: agent_thinking",
        10,
        {"latency_ms": 300.0},
    ) == (finding.code, finding.message, finding.subject, len(finding.evidence), finding.data)
