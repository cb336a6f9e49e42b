"""`boundedjson.loads`: JSON from elsewhere parses like `json.loads`, but never deeper than the bound."""

from __future__ import annotations

import json
import sys

import pytest

from wiringcheck.boundedjson import MAX_DEPTH, TooDeep, loads, text_depth, value_depth


def nested(levels: int, open_: str = "[", close: str = "]") -> str:
    return open_ * levels + close * levels


def test_ordinary_json_parses_as_json_loads_parses_it():
    """A frame as backends send it comes back exactly as `json.loads` returns it."""
    text = '{"type": "agent_thinking", "run_id": "r-1", "payload": {"items": [1, 2.5, null, true, "x"]}}'

    assert json.loads(text) == loads(text)


def test_bytes_are_decoded_as_json_loads_decodes_them():
    """UTF-8 and UTF-16 bytes parse as `json.loads` parses them."""
    assert {"é": 1} == loads('{"é": 1}'.encode())
    assert {"é": 1} == loads('{"é": 1}'.encode("utf-16"))


def test_nesting_at_the_bound_parses():
    """Exactly `MAX_DEPTH` levels of arrays is accepted."""
    assert MAX_DEPTH == text_depth(nested(MAX_DEPTH))

    assert loads(nested(MAX_DEPTH)) is not None


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 2_000, 100_000])
def test_nesting_past_the_bound_is_too_deep_never_a_recursion_error(levels):
    """2,000 or 100,000 nested arrays: `TooDeep`, a `JSONDecodeError` (so a `ValueError`), not `RecursionError`."""
    with pytest.raises(TooDeep) as caught:
        loads(nested(levels))

    assert isinstance(caught.value, json.JSONDecodeError)
    assert f"deeper than {MAX_DEPTH}" in str(caught.value)


def test_objects_count_like_arrays():
    """Nested objects are bounded like nested arrays."""
    text = '{"a":' * 2_000 + "1" + "}" * 2_000

    with pytest.raises(TooDeep):
        loads(text)


def test_brackets_inside_strings_do_not_count():
    """A string full of brackets is one level, however many it holds."""
    text = json.dumps(["[" * 5_000, "{" * 5_000, '\\"[[[', "]]]"])

    assert ["[" * 5_000, "{" * 5_000, '\\"[[[', "]]]"] == loads(text)


def test_a_wide_document_with_many_brackets_parses():
    """Ten thousand small objects side by side are shallow: they parse."""
    items = [{"type": "tool_completed", "result": [i, {"ok": True}]} for i in range(10_000)]

    assert items == loads(json.dumps(items))


def test_malformed_json_still_says_where():
    """Invalid JSON is the parser's own error, with its position."""
    with pytest.raises(json.JSONDecodeError) as caught:
        loads('{"a": [1, 2}')

    assert not isinstance(caught.value, TooDeep)
    assert 11 == caught.value.pos


def test_too_deep_is_bounded_under_a_lower_recursion_limit():
    """An embedding program with a recursion limit below the bound still gets `TooDeep`, not `RecursionError`."""
    limit = sys.getrecursionlimit()
    frames, frame = 0, sys._getframe()
    while frame is not None:
        frames, frame = frames + 1, frame.f_back
    sys.setrecursionlimit(frames + 60)  # room for this test, not for 128 levels of JSON
    try:
        with pytest.raises(TooDeep):
            loads(nested(MAX_DEPTH), max_depth=MAX_DEPTH)
    finally:
        sys.setrecursionlimit(limit)


def test_too_deep_survives_pickling():
    """The error crosses a process boundary (load workers, the supervised check) intact."""
    import pickle

    error = pickle.loads(pickle.dumps(TooDeep(7)))

    assert 7 == error.limit


def test_value_depth_counts_parsed_nesting_without_recursing():
    """A parsed value 100,000 levels deep is measured (up to the bound) without a `RecursionError`."""
    value: object = 1
    for _ in range(100_000):
        value = {"a": [value]}

    assert MAX_DEPTH + 1 == value_depth(value)
    assert 3 == value_depth({"a": [1, {"b": 2}], "c": ()})
    assert 0 == value_depth("text")
