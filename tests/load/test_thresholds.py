"""Thresholds: parsed without eval, with errors that name the threshold and guess the metric."""

from __future__ import annotations

import pytest

from wiringcheck.config import DEFAULT_EVENTS
from wiringcheck.errors import ThresholdError
from wiringcheck.thresholds import MAX_THRESHOLDS, Threshold, evaluate, parse_threshold, parse_thresholds


@pytest.mark.parametrize(
    ("text", "metric", "op", "value"),
    [
        ("agent_thinking.p95 < 100", "agent_thinking.p95", "<", 100.0),
        ("errors == 0", "errors", "==", 0.0),
        ("completion_rate > 0.99", "completion_rate", ">", 0.99),
        ("  tool_completed.max<=250ms ", "tool_completed.max", "<=", 250.0),
        ("error_rate < 1%", "error_rate", "<", 0.01),
        ("agent_started.missing != 3", "agent_started.missing", "!=", 3.0),
        ("runs >= 1e2", "runs", ">=", 100.0),
    ],
)
def test_thresholds_parse(text, metric, op, value):
    """Each threshold reads as metric, comparison and number (rates given in % become fractions)."""
    threshold = parse_threshold(text, DEFAULT_EVENTS)

    assert (metric, op, value) == (threshold.metric, threshold.op, threshold.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agent_thinking.p95 100", "is not of the form 'metric op number'"),
        ("__import__('os').system('x') < 1", "is not of the form"),
        ("agent_thinkng.p95 < 100", "unknown event 'agent_thinkng'; did you mean 'agent_thinking'?"),
        ("agent_thinking.p59 < 100", "unknown statistic 'p59' of agent_thinking; did you mean 'p99'?"),
        ("agent_thinking.mising < 1", "did you mean 'missing'?"),
        ("eror_rate < 0.1", "unknown metric 'eror_rate'; did you mean 'error_rate'?"),
        ("agent_thinking < 100", "'agent_thinking' is an event: name a statistic of it, e.g. 'agent_thinking.p95'"),
        ("errors < 1ms", "errors is not a latency; drop the 'ms'"),
        ("runs > 5%", "only rates take '%'"),
    ],
)
def test_bad_thresholds_say_what_is_wrong(text, message):
    """A bad threshold is rejected with its text and what was expected, never evaluated."""
    with pytest.raises(ThresholdError) as raised:
        parse_threshold(text, DEFAULT_EVENTS)

    assert message in str(raised.value)
    assert repr(text) in str(raised.value) or "is an event" in str(raised.value)


def test_thresholds_are_judged_against_metrics():
    """A threshold holds or fails on its metric; a metric never measured fails it."""
    thresholds = [parse_threshold(t, DEFAULT_EVENTS) for t in ("errors == 0", "runs > 10", "agent_started.p95 < 5")]

    results = evaluate(thresholds, {"errors": 0, "runs": 3, "agent_started.p95": None})

    assert [True, False, False] == [r.passed for r in results]
    assert [0, 3, None] == [r.actual for r in results]


def test_every_operator_compares_as_written():
    """<, <=, >, >=, == and != compare the actual value with the threshold's number."""
    cases = {"<": (1, 2), "<=": (2, 3), ">": (3, 2), ">=": (2, 1), "==": (2, 1), "!=": (1, 2)}
    for op, (holds, fails) in cases.items():
        threshold = Threshold(text=f"runs {op} 2", metric="runs", op=op, value=2)

        assert threshold.holds(holds if op not in {">=", "=="} else 2)
        assert not threshold.holds(fails if op != "<" else 2)


@pytest.mark.parametrize("text", ["agent_thinking.p95 < 1e999", "errors < 1e10", "runs > -1e10"])
def test_a_number_that_bounds_nothing_is_refused(text):
    """1e999 parses as infinity; 1e10 ms is four months: neither is a threshold."""
    with pytest.raises(ThresholdError, match="is not a number from"):
        parse_threshold(text, DEFAULT_EVENTS)


def test_a_repeated_threshold_names_both_places():
    """The same metric, comparison and number twice: an error naming the repeat and the first."""
    with pytest.raises(ThresholdError) as raised:
        parse_thresholds(["errors == 0", "runs > 1", "errors == 0.0"], DEFAULT_EVENTS)

    assert 2 == raised.value.index
    assert "repeats thresholds[0]" in str(raised.value)


def test_more_thresholds_than_a_test_takes_are_refused():
    """A generated list of thousands of thresholds is a mistake: refused before any is parsed."""
    texts = [f"agent_thinking.p95 < {n}" for n in range(MAX_THRESHOLDS + 1)]

    with pytest.raises(ThresholdError) as raised:
        parse_thresholds(texts, DEFAULT_EVENTS)

    assert raised.value.index is None


def test_a_bad_threshold_in_a_list_says_which():
    """The index of the threshold that does not parse comes with the error (the config names its key path)."""
    with pytest.raises(ThresholdError) as raised:
        parse_thresholds(["errors == 0", "errors = 0"], DEFAULT_EVENTS)

    assert 1 == raised.value.index
