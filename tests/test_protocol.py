"""The protocol model: field paths, matchers, batches, correlation and presets, over plain data."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wiringcheck.config import parse_settings
from wiringcheck.errors import MatcherError, PathSyntaxError
from wiringcheck.protocol import (
    ABSENT,
    PRESETS,
    Kind,
    Protocol,
    RunTracker,
    decode_frame,
    flatten_conditions,
    parse_matcher,
    parse_path,
)

TYPE = parse_path("type")

# -- field paths -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message", "expected"),
    [
        ("type", {"type": "x"}, "x"),
        ("data.type", {"data": {"type": "ToolCallRequestEvent"}}, "ToolCallRequestEvent"),
        ("payload.run.id", {"payload": {"run": {"id": 7}}}, 7),
        ("events.0.kind", {"events": [{"kind": "start"}, {"kind": "end"}]}, "start"),
        ("events.1.kind", {"events": [{"kind": "start"}, {"kind": "end"}]}, "end"),
        ("0", {"0": "a digit key in an object"}, "a digit key in an object"),
        ("data.type", {"data": None}, ABSENT),
        ("data.type", {"data": "text"}, ABSENT),
        ("events.5.kind", {"events": []}, ABSENT),
        ("events.x", {"events": [1]}, ABSENT),
        ("type", ["not", "an", "object"], ABSENT),
        ("type", {"type": None}, None),
    ],
)
def test_path_reads_nested_values_and_absent(path, message, expected):
    """A dotted path walks objects by key and lists by position; a missing step is ABSENT, never an error."""

    assert expected == parse_path(path).read(message)


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        ("/data/type", "did you mean 'data.type'?"),
        ("/events/0/kind", "did you mean 'events.0.kind'?"),
        ("events[0].kind", "did you mean 'events.0.kind'?"),
        ("a~1b", None),
    ],
)
def test_other_path_syntaxes_are_refused_with_the_dotted_spelling(text, fix):
    """JSON Pointer and bracket indexing are refused, naming the dotted path to write instead."""
    if fix is None:
        assert ("a~1b",) == parse_path(text).parts
        return
    with pytest.raises(PathSyntaxError) as caught:
        parse_path(text)

    assert fix in str(caught.value)


@pytest.mark.parametrize("text", ["", "a..b", ".a", "a.", "a b", "data. type"])
def test_malformed_paths_are_refused(text):
    """Empty segments and whitespace are syntax errors with a one-line message."""
    with pytest.raises(PathSyntaxError):
        parse_path(text)


_KEY = st.text(alphabet=st.characters(blacklist_characters=".[]/", blacklist_categories=("Cs",)), min_size=1).filter(
    lambda key: not any(char.isspace() for char in key)  # whitespace is not part of the documented syntax
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_KEY, children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None, database=None)
@given(keys=st.lists(_KEY, min_size=1, max_size=5), leaf=_JSON)
def test_a_path_reads_back_what_was_nested_under_it(keys, leaf):
    """Nesting a value under keys k1..kn and reading 'k1.….kn' gives the value back."""
    message = leaf
    for key in reversed(keys):
        message = {key: message}

    assert leaf == parse_path(".".join(keys)).read(message)


@settings(max_examples=150, deadline=None, database=None)
@given(path=st.text(max_size=20), message=_JSON)
def test_a_path_never_raises_but_a_syntax_error(path, message):
    """Any text is either a path that reads any JSON without raising, or a PathSyntaxError."""
    try:
        parsed = parse_path(path)
    except PathSyntaxError:
        return
    parsed.read(message)


@settings(max_examples=100, deadline=None, database=None)
@given(items=st.lists(_JSON, min_size=1, max_size=4), position=st.integers(min_value=0, max_value=5))
def test_a_digit_segment_indexes_a_list(items, position):
    """'events.N' is the Nth element of a list, or ABSENT past its end."""
    expected = items[position] if position < len(items) else ABSENT

    assert expected == parse_path(f"events.{position}").read({"events": items})


# -- matchers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message", "matches"),
    [
        ("agent_started", {"type": "agent_started"}, True),
        ("agent_started", {"type": "agent_thinking"}, False),
        (["A", "B"], {"type": "B"}, True),
        (["A", "B"], {"type": "C"}, False),
        ({"type": "message", "data.type": "Tool"}, {"type": "message", "data": {"type": "Tool"}}, True),
        ({"type": "message", "data": {"type": "Tool"}}, {"type": "message", "data": {"type": "Tool"}}, True),
        ({"type": "message", "data.type": "Tool"}, {"type": "message", "data": {"type": "Other"}}, False),
        ({"type": "message", "data.type": "Tool"}, {"type": "message"}, False),
        ({"status": ["error", "failed"]}, {"status": "failed"}, True),
        ({"ok": True}, {"ok": 1}, False),
        ({"count": 1}, {"count": True}, False),
        ({"count": 1}, {"count": 1.0}, True),
        ({"value": None}, {"value": None}, True),
        ({"value": None}, {}, False),
    ],
)
def test_matcher_forms(spec, message, matches):
    """A name, a list of names, or a table of path -> value(s): all conditions must hold, true is not 1."""

    assert matches == parse_matcher(spec, TYPE).matches(message)


def test_nested_and_quoted_tables_mean_the_same_paths():
    """TOML's `data.type = x` (nested) and `"data.type" = x` (quoted) flatten to one path."""

    assert {"data.type": "x", "a.b.c": 1} == flatten_conditions({"data": {"type": "x"}, "a.b": {"c": 1}})


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("", "must not be empty"),
        ([], "one or more"),
        ({}, "at least one"),
        ({"/data/type": "x"}, "did you mean 'data.type'?"),
        ({"a": [{"b": 1}]}, "must be a value or a list of values"),
        (3, "expected an event name"),
    ],
)
def test_bad_matchers_are_refused(spec, problem):
    """A matcher that cannot match anything sensible is a one-line error."""
    with pytest.raises(MatcherError) as caught:
        parse_matcher(spec, TYPE)

    assert problem in str(caught.value)


# -- frames, batches, correlation ------------------------------------------------------------------


def relay() -> Protocol:
    table = {
        "type_field": "kind",
        "run_id_field": "run",
        "batch_field": "events",
        "ignore": [{"op": "ping"}],
        "error_events": ["failed"],
        "match": {"agent_started": "start", "agent_thinking": "think", "tool_executing": "tool.call",
                  "tool_completed": "tool.result", "agent_completed": "done"},
    }  # fmt: skip
    return parse_settings({"probe": table}).probe.protocol()


def test_a_batch_is_several_events_sharing_the_envelope():
    """Each event of a batch is classified on its own; the run id comes from the envelope."""
    frame = json.dumps({"op": "batch", "run": "r1", "events": [{"kind": "start"}, {"kind": "think"}]})

    items = decode_frame(relay(), frame)

    assert [("agent_started", "r1"), ("agent_thinking", "r1")] == [(i.role, i.run_id) for i in items]


@pytest.mark.parametrize(
    ("frame", "kinds"),
    [
        ('{"op": "ping"}', [Kind.IGNORED]),
        ('{"kind": "failed", "reason": "boom"}', [Kind.ERROR]),
        ('{"kind": "usage"}', [Kind.UNEXPECTED]),
        ('{"op": "hello"}', [Kind.UNTYPED]),
        ('[{"kind": "start"}, {"kind": "done"}]', [Kind.EVENT, Kind.EVENT]),
        ('{"op": "batch", "events": []}', []),
        ("not json", [Kind.NOT_JSON]),
        (b"\x00", [Kind.BINARY]),
    ],
)
def test_frame_kinds(frame, kinds):
    """Ignored, error, unexpected, untyped, batched, empty, not JSON and binary frames are told apart."""

    assert kinds == [item.kind for item in decode_frame(relay(), frame)]


def test_an_error_terminal_wins_over_an_event_matcher():
    """A frame matching both the terminal and an error terminal is the error."""
    protocol = parse_settings(
        {
            "probe": {
                "match": {"agent_completed": "completion"},
                "error_events": [{"type": "completion", "status": "error"}],
            }
        }
    ).probe.protocol()

    (item,) = decode_frame(protocol, '{"type": "completion", "status": "error"}')

    assert Kind.ERROR == item.kind


def item_of(protocol: Protocol, **message: object):
    (item,) = decode_frame(protocol, json.dumps(message))
    return item


@pytest.mark.parametrize(
    ("correlation", "known", "frames", "owned"),
    [
        ("client", "mine", [("agent_started", "mine"), ("agent_started", "theirs"), ("agent_thinking", None)],
         [True, False, True]),
        ("server", None, [("agent_thinking", "theirs"), ("agent_started", "s-1"), ("agent_thinking", "s-1"),
                          ("agent_thinking", "s-2")], [False, True, True, False]),
        ("server", "s-9", [("agent_started", "s-1"), ("agent_started", "s-9")], [False, True]),
        ("connection", "mine", [("agent_started", "other"), ("agent_thinking", "x")], [True, True]),
    ],
)  # fmt: skip
def test_correlation_modes(correlation, known, frames, owned):
    """client: the probe's id; server: captured from the first start frame (or a setup step); connection: all."""
    protocol = parse_settings({"probe": {"run_id": correlation}}).probe.protocol()
    tracker = RunTracker(protocol, known)

    assert owned == [tracker.owns(item_of(protocol, type=t, run_id=r)) for t, r in frames]


def test_server_correlation_captures_from_a_configured_matcher():
    """run_id_from says which frame carries the server's run id."""
    protocol = parse_settings({"probe": {"run_id": "server", "run_id_from": {"type": "accepted"}}}).probe.protocol()
    tracker = RunTracker(protocol, None)

    owned = [tracker.owns(item_of(protocol, type=t, run_id="r-3")) for t in ("agent_started", "accepted")]

    assert ([False, True], "r-3") == (owned, tracker.run_id)


# -- presets ---------------------------------------------------------------------------------------


def test_a_preset_is_overridden_key_by_key():
    """The user's keys win over the preset's, and `match` merges role by role."""
    probe = parse_settings(
        {"probe": {"preset": "ag-ui", "budget_ms": 50, "match": {"agent_thinking": "TEXT_MESSAGE_START"}}}
    ).probe

    assert (50.0, "runId", "TEXT_MESSAGE_START", "RUN_STARTED", ("RUN_ERROR",)) == (
        probe.budget_ms,
        probe.run_id_field,
        dict(probe.match)["agent_thinking"],
        dict(probe.match)["agent_started"],
        probe.error_events,
    )


def test_every_preset_validates():
    """Each shipped preset is valid configuration on its own."""
    for name in PRESETS:
        assert name == parse_settings({"probe": {"preset": name}}).probe.preset


def test_agui_run_error_carries_no_run_id_and_still_ends_the_run():
    """RUN_ERROR has no runId in ag-ui-protocol 1.0: it belongs to the probe's run and is an error terminal."""
    protocol = parse_settings({"probe": {"preset": "ag-ui"}}).probe.protocol()
    tracker = RunTracker(protocol, "wc-1")

    item = item_of(protocol, type="RUN_ERROR", message="model overloaded")

    assert (Kind.ERROR, True) == (item.kind, tracker.owns(item))


def test_a_non_ascii_digit_segment_is_a_key_not_a_list_position():
    """'²'.isdigit() is true but int('²') raises: such a segment reads as absent in a list, never crashes."""

    assert ABSENT is parse_path("items.²").read({"items": [1, 2, 3]})
    assert 7 == parse_path("items.²").read({"items": {"²": 7}})
