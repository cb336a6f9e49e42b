"""Latency over several runs: p50, p95 and max per event, and the chosen percentile against the budget (WC405)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from wiringcheck.findings import Finding
from wiringcheck.run.recording import Expectation

CODES = ("WC405",)

PERCENTILES = ("p50", "p95", "max")
"""The latency percentiles over several runs; `probe.percentile` names the one that must fit the budget."""


def percentile(values: Sequence[float], name: str) -> float:
    """The nearest-rank percentile (``p50``, ``p95``: a value that was measured) or ``max`` of non-empty `values`."""
    ordered = sorted(values)
    if name == "max":
        return ordered[-1]
    rank = math.ceil(float(name[1:]) / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


def summarize_latencies(samples: Sequence[float]) -> dict[str, float | int]:
    """p50, p95 and max of one event's latencies over several runs, and how many runs measured it."""
    return {**{key: round(percentile(samples, key), 3) for key in PERCENTILES}, "samples": len(samples)}


def check_latency_summary(
    event: str, samples: Sequence[float], expectation: Expectation, chosen: str
) -> tuple[dict[str, float | int], list[Finding]]:
    """The latency summary of `event` over several runs, and WC405 when its `chosen` percentile is over budget."""
    summary = summarize_latencies(samples)
    value = float(summary[chosen])
    if value <= expectation.budget_ms:
        return summary, []
    return summary, [
        Finding(
            code="WC405",
            message=(
                f"{event} {chosen} latency {value:g} ms is over the {expectation.budget_ms:g} ms budget "
                f"(p50 {summary['p50']:g}, p95 {summary['p95']:g}, max {summary['max']:g} ms "
                f"over {summary['samples']} runs)"
            ),
            hint="Something holds the event loop or the connection between emission and delivery "
            "on some runs: look for blocking calls near the emitter, or a slow per-connection queue.",
            subject=f"event: {event}",
            evidence=tuple(f"run latency {sample:g} ms" for sample in samples),
            data={"latency_ms": value},
        )
    ]
