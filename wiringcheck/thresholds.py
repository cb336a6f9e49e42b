"""Load-test thresholds, in the form k6 and Locust users write them: ``"agent_thinking.p95 < 100"``.

Pure: a threshold is parsed by a regular expression (never evaluated as Python) into a
metric name, a comparison and a number, and judged against a mapping of metric values.
A metric with no value (no sample of that event arrived) fails its threshold: absence
is failure.

Metrics:

- per event, ``<event>.<stat>``: ``count`` (runs in which it arrived), ``p50``, ``p90``,
  ``p95``, ``p99``, ``max``, ``mean`` (delivery latency in ms), ``missing``,
  ``out_of_order``, ``duplicates``, ``over_budget``;
- per test: ``runs``, ``completed``, ``completion_rate`` (0..1), ``errors`` (runs with an
  error finding), ``error_rate``, ``cross_talk`` (frames of another user's run), ``cut_off``
  (runs still in flight when the test ended, never counted as failures), ``runs_per_second``,
  ``client_lag_p99`` and ``client_lag_max`` (ms; the client loop's own lag).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from wiringcheck.errors import ThresholdError
from wiringcheck.suggest import suggest

__all__ = [
    "EVENT_STATS",
    "MAX_THRESHOLDS",
    "MAX_VALUE",
    "TEST_METRICS",
    "Threshold",
    "ThresholdError",
    "ThresholdResult",
    "evaluate",
    "known_metrics",
    "parse_threshold",
    "parse_thresholds",
]

MAX_THRESHOLDS = 100
"""Thresholds one test may have: a few per event and a few for the test; thousands are a generated mistake."""

MAX_VALUE = 1e9
"""The largest number a threshold compares with: a billion milliseconds, runs or frames is a typo, not a bound."""

EVENT_STATS = (
    "count",
    "p50",
    "p90",
    "p95",
    "p99",
    "max",
    "mean",
    "missing",
    "out_of_order",
    "duplicates",
    "over_budget",
)
"""What can be asked of each event, as ``<event>.<stat>``."""

LATENCY_STATS = ("p50", "p90", "p95", "p99", "max", "mean")
"""The per-event stats that are latencies in milliseconds (they accept an ``ms`` suffix)."""

TEST_METRICS = (
    "runs",
    "completed",
    "completion_rate",
    "errors",
    "error_rate",
    "cross_talk",
    "cut_off",
    "runs_per_second",
    "client_lag_p99",
    "client_lag_max",
)
"""Metrics of the whole test."""

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}

_FORM = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)?)\s*"
    r"(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<value>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>ms|%)?\s*$"
)


@dataclass(frozen=True, slots=True)
class Threshold:
    """One parsed threshold: ``metric op value`` (``value`` in ms for latencies, 0..1 for rates)."""

    text: str
    metric: str
    op: str
    value: float

    def holds(self, actual: float) -> bool:
        """Whether `actual` satisfies the threshold."""
        return _OPERATORS[self.op](actual, self.value)


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    """A threshold judged: its actual value (None when nothing was measured) and whether it held."""

    threshold: Threshold
    actual: float | None

    @property
    def passed(self) -> bool:
        return self.actual is not None and self.threshold.holds(self.actual)


def known_metrics(events: Iterable[str]) -> list[str]:
    """Every metric name a threshold may use, for these events."""
    return [*TEST_METRICS, *(f"{event}.{stat}" for event in events for stat in EVENT_STATS)]


def parse_threshold(text: str, events: Iterable[str]) -> Threshold:
    """Read one threshold; `events` are the expected events (the names ``<event>.<stat>`` may use).

    Raises:
        ThresholdError: not of the form ``metric < number``, or an unknown metric or event
            (with a did-you-mean).
    """
    events = tuple(events)
    match = _FORM.match(text)
    if match is None:
        raise ThresholdError(
            f"threshold {text!r} is not of the form 'metric op number', "
            "e.g. 'agent_thinking.p95 < 100', 'errors == 0' or 'completion_rate > 0.99'"
        )
    metric, op, value, unit = match["metric"], match["op"], float(match["value"]), match["unit"]
    if not math.isfinite(value) or abs(value) > MAX_VALUE:  # 1e999 reads as infinity: a bound that bounds nothing
        raise ThresholdError(
            f"threshold {text!r}: {match['value']} is not a number from -{MAX_VALUE:g} to {MAX_VALUE:g}"
        )
    known = known_metrics(events)
    if metric not in known:
        raise ThresholdError(f"threshold {text!r}: {_unknown(metric, events)}")
    stat = metric.rpartition(".")[2]
    if unit == "ms" and stat not in LATENCY_STATS and not metric.startswith("client_lag"):
        raise ThresholdError(f"threshold {text!r}: {metric} is not a latency; drop the 'ms'")
    if unit == "%":
        if not metric.endswith("_rate"):
            raise ThresholdError(f"threshold {text!r}: only rates take '%'; {metric} is a count or a latency")
        value /= 100
    return Threshold(text=text.strip(), metric=metric, op=op, value=value)


def parse_thresholds(texts: Iterable[str], events: Iterable[str]) -> list[Threshold]:
    """Read a test's thresholds: each as `parse_threshold` reads it, at most `MAX_THRESHOLDS`, none twice.

    Raises:
        ThresholdError: one does not parse, or repeats another (the same metric, comparison and number): its
            ``index`` says which; or there are too many (``index`` is None).
    """
    texts, events = list(texts), tuple(events)
    if len(texts) > MAX_THRESHOLDS:
        raise ThresholdError(f"{len(texts)} thresholds; a test takes at most {MAX_THRESHOLDS}")
    parsed: list[Threshold] = []
    seen: dict[tuple[str, str, float], int] = {}
    for index, text in enumerate(texts):
        try:
            threshold = parse_threshold(text, events)
        except ThresholdError as exc:
            exc.index = index
            raise
        key = (threshold.metric, threshold.op, threshold.value)
        if key in seen:
            repeated = ThresholdError(f"threshold {text!r} repeats thresholds[{seen[key]}]; give each once")
            repeated.index = index
            raise repeated
        seen[key] = index
        parsed.append(threshold)
    return parsed


def _unknown(metric: str, events: tuple[str, ...]) -> str:
    name, dot, stat = metric.partition(".")
    if not dot:
        guess = suggest(metric, [*TEST_METRICS, *events])
        if guess in events:
            return f"{metric!r} is an event: name a statistic of it, e.g. '{guess}.p95'"
        hint = f"; did you mean {guess!r}?" if guess else f"; test metrics: {', '.join(TEST_METRICS)}"
        return f"unknown metric {metric!r}{hint}"
    if name not in events:
        guess = suggest(name, events)
        hint = f"; did you mean {guess!r}?" if guess else f"; expected events: {', '.join(events)}"
        return f"unknown event {name!r}{hint}"
    guess = suggest(stat, EVENT_STATS)
    hint = f"; did you mean {guess!r}?" if guess else f"; known: {', '.join(EVENT_STATS)}"
    return f"unknown statistic {stat!r} of {name}{hint}"


def evaluate(thresholds: Iterable[Threshold], metrics: Mapping[str, float | None]) -> list[ThresholdResult]:
    """Judge each threshold against the measured metrics."""
    return [ThresholdResult(threshold, metrics.get(threshold.metric)) for threshold in thresholds]
