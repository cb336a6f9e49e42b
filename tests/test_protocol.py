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


def test_a_non_ascii_digit_segment_is_a_key_not_a_list_position():
    """'²'.isdigit() is true but int('²') raises: such a segment reads as absent in a list, never crashes."""

    assert ABSENT is parse_path("items.²").read({"items": [1, 2, 3]})
    assert 7 == parse_path("items.²").read({"items": {"²": 7}})


def test_a_list_position_too_long_for_int_reads_as_absent():
    """A segment of 5000 digits is past the end of any list (int() refuses it past 4300 digits): absent, no error."""
    path = parse_path("items." + "9" * 5000)

    assert (ABSENT, []) == (path.read({"items": [1]}), list(path.values({"items": [1]})))


# -- every element of a list -----------------------------------------------------------------------

ADK_CALL = {
    "content": {
        "role": "model",
        "parts": [{"thought": True, "text": "hm"}, {"functionCall": {"id": "c1", "name": "lookup", "args": {}}}],
    }
}
"""Google ADK's shape: the kind of an event is in content.parts[*], whose positions shift."""


@pytest.mark.parametrize(
    ("path", "message", "values"),
    [
        ("content.parts.*.functionCall.id", ADK_CALL, ["c1"]),
        ("content.parts.*.thought", ADK_CALL, [True]),
        ("content.parts.*.text", ADK_CALL, ["hm"]),
        ("items.*", {"items": [1, None, "x"]}, [1, None, "x"]),
        ("items.*.k", {"items": [{"k": 1}, "text", {"j": 2}, {"k": 3}]}, [1, 3]),
        ("a.*.b.*", {"a": [{"b": [1, 2]}, {"b": [3]}]}, [1, 2, 3]),
        ("by_name.*.id", {"by_name": {"x": {"id": 1}, "y": {"id": 2}}}, [1, 2]),
        ("items.*", {"items": []}, []),
        ("items.*", {"items": "text"}, []),
        ("items.*.k", {}, []),
    ],
)
def test_a_star_segment_reads_every_element_in_document_order(path, message, values):
    """'*' is every element of a list (or value of an object); `read` gives the first found, `values` all."""
    parsed = parse_path(path)

    assert (values, values[0] if values else ABSENT) == (list(parsed.values(message)), parsed.read(message))


@settings(max_examples=150, deadline=None, database=None)
@given(items=st.lists(_JSON, max_size=5), key=_KEY.filter(lambda k: k != "*" and not (k.isascii() and k.isdigit())))
def test_a_star_reads_what_any_element_holds(items, key):
    """'items.*.k' yields, in order, the 'k' of every element that is an object having it (k a plain key)."""
    expected = [item[key] for item in items if isinstance(item, dict) and key in item]

    assert expected == list(parse_path(f"items.*.{key}").values({"items": items}))


@settings(max_examples=150, deadline=None, database=None)
@given(
    parts=st.lists(st.sampled_from(["*", "0", "1", "a", "b", "$exists"]), min_size=1, max_size=6),
    message=_JSON,
)
def test_a_wildcard_path_never_raises(parts, message):
    """Any path of stars, positions and keys reads any JSON without raising, in both read and values."""
    path = parse_path(".".join(parts))

    assert list(path.values(message))[:1] == ([] if path.read(message) is ABSENT else [path.read(message)])


def test_a_deep_message_and_a_long_star_path_do_not_exhaust_the_stack():
    """The walk keeps its own stack: 3000 levels of lists read through 3000 stars without a RecursionError."""
    message: object = "leaf"
    for _ in range(3000):
        message = [message]

    assert ["leaf"] == list(parse_path(".".join(["*"] * 3000)).values(message))


def test_brackets_around_a_star_suggest_the_dotted_spelling():
    """'parts[*].functionCall' is refused with 'parts.*.functionCall' as the did-you-mean."""
    with pytest.raises(PathSyntaxError) as caught:
        parse_path("content.parts[*].functionCall")

    assert "did you mean 'content.parts.*.functionCall'?" in str(caught.value)


# -- presence, and any of several tables -----------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message", "matches"),
    [
        # presence: any value, null included; absence
        ({"error": {"$exists": True}}, {"error": None}, True),
        ({"error": {"$exists": True}}, {"errors": 1}, False),
        ({"error": {"$exists": False}}, {"type": "x"}, True),
        ({"error": {"$exists": False}}, {"error": "boom"}, False),
        ({"data": {"error": {"$exists": True}}}, {"data": {"error": 1}}, True),  # nested TOML keys
        # every element: the condition holds for any of them
        ({"content.parts.*.functionCall": {"$exists": True}}, ADK_CALL, True),
        ({"content.parts.*.functionResponse": {"$exists": True}}, ADK_CALL, False),
        ({"content.parts.*.functionCall": {"$exists": False}}, ADK_CALL, False),
        ({"content.parts.*.thought": True}, ADK_CALL, True),
        ({"content.parts.*.functionCall.name": ["lookup", "search"]}, ADK_CALL, True),
        ({"content.parts.*.thought": 1}, ADK_CALL, False),  # true is not 1, in every element too
        # a list of tables: any of them
        ([{"finishReason": "STOP"}, {"turnComplete": True}], {"turnComplete": True}, True),
        ([{"finishReason": "STOP"}, {"turnComplete": True}], {"finishReason": "MAX_TOKENS"}, False),
        (["RUN_FINISHED", {"type": "done", "ok": True}], {"type": "RUN_FINISHED"}, True),
        (["RUN_FINISHED", {"type": "done", "ok": True}], {"type": "done", "ok": True}, True),
        (["RUN_FINISHED", {"type": "done", "ok": True}], {"type": "done", "ok": False}, False),
        # a field whose name starts with '$' is still a field ('$type', .NET's discriminator)
        ({"$type": "ToolCall"}, {"$type": "ToolCall"}, True),
    ],
)
def test_presence_wildcards_and_alternatives(spec, message, matches):
    """{'$exists' = bool} tests presence, '*' any element, a list of tables any table: none confused with a value."""

    assert matches == parse_matcher(spec, TYPE).matches(message)


def test_a_literal_table_value_is_never_a_presence_test():
    """{ error = { present = true } } compares error.present with true: only '$exists' is the operator."""
    matcher = parse_matcher({"error": {"present": True}}, TYPE)

    assert (False, True) == (matcher.matches({"error": "boom"}), matcher.matches({"error": {"present": True}}))


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        ({"content.parts.*.functionCall": {"$exists": True}, "partial": False},
         "{content.parts.*.functionCall exists, partial=false}"),
        ({"error": {"$exists": False}}, "{error absent}"),
        ([{"finishReason": "STOP"}, "done"], '{finishReason="STOP"} or done'),
    ],
)  # fmt: skip
def test_a_matcher_shows_how_it_was_written(spec, text):
    """The text messages show: presence as 'exists'/'absent', alternatives joined by 'or'."""

    assert text == parse_matcher(spec, TYPE).text


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"$exists": True}, "'$exists' tests the field it is written under"),
        ({"error": {"$exists": "yes"}}, "'$exists' under 'error' takes true or false"),
        ({"error": {"$exists": True, "code": 1}}, "mixes '$exists' with 'code'"),
        ({"error": {"$exist": True}}, "'$exist' in 'error.$exist' is not an operator; did you mean '$exists'?"),
        ({"error": {}}, "an empty table, which tests nothing"),
        ([{"a": 1}, 3], "item 1 of the list is an integer"),
        ([{"a": 1}, ""], "item 1 of the list is an empty name"),
        ([{}], "at least one"),
    ],
)
def test_bad_presence_and_alternatives_are_refused(spec, problem):
    """Misused operators, empty tables and items that are neither names nor tables are one-line errors."""
    with pytest.raises(MatcherError) as caught:
        parse_matcher(spec, TYPE)

    assert problem in str(caught.value)


# -- tool call ids ---------------------------------------------------------------------------------


def adk_protocol(**probe: object) -> Protocol:
    table = {
        "match": {
            "tool_executing": {"content.parts.*.functionCall": {"$exists": True}},
            "tool_completed": {"content.parts.*.functionResponse": {"$exists": True}},
        },
        **probe,
    }
    return parse_settings({"probe": table}).probe.protocol()


def test_a_tool_call_id_is_read_at_its_events_path():
    """The call's id is functionCall.id on the request and functionResponse.id on the result (ADK)."""
    protocol = adk_protocol(
        tool_call_id_field={
            "tool_executing": "content.parts.*.functionCall.id",
            "tool_completed": "content.parts.*.functionResponse.id",
        }
    )
    result = {"content": {"parts": [{"functionResponse": {"id": "c1", "response": {}}}]}}

    ids = [protocol.tool_call_id(item_of(protocol, **frame)) for frame in (ADK_CALL, result, {"type": "agent_started"})]

    assert (True, ["c1", "c1", None]) == (protocol.pairs_tool_calls, ids)


def test_one_tool_call_id_path_serves_every_frame_and_the_end_frame_has_its_own():
    """A path reads every frame; in a table, 'tool_call_end' names the path of the frame closing a call."""
    one = parse_settings({"probe": {"preset": "ag-ui"}}).probe.protocol()
    table = parse_settings(
        {"probe": {"preset": "ag-ui", "tool_call_id_field": {"tool_executing": "toolCallId", "tool_call_end": "id"}}}
    ).probe.protocol()

    assert ["t1", "t1"] == [
        one.tool_call_id(item_of(one, type=t, toolCallId="t1")) for t in ("TOOL_CALL_START", "TOOL_CALL_END")
    ]
    assert ["t1", "e1"] == [
        table.tool_call_id(item_of(table, type="TOOL_CALL_START", toolCallId="t1")),
        table.tool_call_id(item_of(table, type="TOOL_CALL_END", id="e1", toolCallId="t1")),
    ]


@pytest.mark.parametrize(("value", "expected"), [("c1", "c1"), (7, "7"), (True, None), ({"id": 1}, None), (None, None)])
def test_a_tool_call_id_is_a_string_or_an_integer(value, expected):
    """Ids are compared as text; a boolean, an object or null is no id."""
    protocol = parse_settings({"probe": {"tool_call_id_field": "call"}}).probe.protocol()

    assert expected == protocol.tool_call_id(item_of(protocol, type="tool_executing", call=value))


def test_without_an_id_path_no_tool_call_id_is_read():
    """Nothing configured: the protocol does not pair tool calls by id."""
    protocol = parse_settings({}).probe.protocol()

    assert (False, None) == (protocol.pairs_tool_calls, protocol.tool_call_id(item_of(protocol, type="x", id="1")))
