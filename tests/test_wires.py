"""Wire expressions: parsed by a tiny grammar (never evaluated), then checked over live objects."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from wiringcheck.wires import Wire, WireSyntaxError, check_wire, parse_wire

# -- parsing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "registry.websocket_manager is bridge.websocket_manager",
            Wire(
                "registry.websocket_manager is bridge.websocket_manager",
                ("registry", "websocket_manager"),
                "is",
                ("bridge", "websocket_manager"),
            ),
        ),
        (
            "bridge.websocket_manager is not None",
            Wire("bridge.websocket_manager is not None", ("bridge", "websocket_manager"), "is not", None),
        ),
        ("a.b == c.d", Wire("a.b == c.d", ("a", "b"), "==", ("c", "d"))),
        ("a.b != None", Wire("a.b != None", ("a", "b"), "!=", None)),
        ("a.b.c", Wire("a.b.c", ("a", "b", "c"))),
        ("bridge", Wire("bridge", ("bridge",))),
        ("a.ready is True", Wire("a.ready is True", ("a", "ready"), "is", True)),
        ("a.closed == False", Wire("a.closed == False", ("a", "closed"), "==", False)),
        ("None is not a.b", Wire("None is not a.b", None, "is not", ("a", "b"))),
        ("  a.b   is\tc.d  ", Wire("  a.b   is\tc.d  ", ("a", "b"), "is", ("c", "d"))),
        ("a.b==c.d", Wire("a.b==c.d", ("a", "b"), "==", ("c", "d"))),
    ],
)
def test_parse_wire(text, expected):
    """Paths become tuples of names, None/True/False become constants, and the operator is kept."""

    assert expected == parse_wire(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "a.b is",
        "is a.b",
        "a.b is not",
        "a.b is is c",
        "a.b is c.d is e.f",
        "a.b and c.d",
        "not a.b",
        "a.b = c.d",
        "1 + 2",
        "a.b is 1",
        "a.b is None None",
        "None is None",
        "True == False",
        "None",
        "False",
        "a..b is None",
        "a.b is c.",
        "a[0] is None",
        "a.b() is None",
        "__import__('os').system('x')",
        "a.b is __import__('os').system('rm -rf /')",
        "lambda: 1",
        "a.b is not None; import os",
    ],
)
def test_parse_wire_rejects(text):
    """Anything outside the grammar is a WireSyntaxError; nothing is ever evaluated as Python."""
    with pytest.raises(WireSyntaxError):
        parse_wire(text)


def test_parse_wire_message_names_the_offending_character():
    """A character outside the grammar is quoted, with the forms that are allowed."""
    with pytest.raises(WireSyntaxError) as caught:
        parse_wire("__import__('os').system('x')")

    assert (
        "unexpected '(' in wire \"__import__('os').system('x')\": write 'role.attr is other.attr', "
        "'role.attr is not None' or 'role.attr == other.attr'"
    ) == str(caught.value)


def test_parse_wire_message_for_two_constants():
    """Comparing two constants is refused with a reason, not silently always true."""
    with pytest.raises(WireSyntaxError) as caught:
        parse_wire("None is None")

    assert "wire 'None is None' compares two constants: one side must be a role's attribute path" == str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a.b is c.d", (("a", "b"), ("c", "d"))),
        ("a.b is not None", (("a", "b"),)),
        ("None != a.b", (("a", "b"),)),
        ("a.b.c", (("a", "b", "c"),)),
    ],
)
def test_wire_paths(text, expected):
    """A wire's paths are its non-constant operands, which config validation checks against the roles."""

    assert expected == parse_wire(text).paths


# -- checking --------------------------------------------------------------------------------------


@pytest.fixture(name="manager")
def _manager():
    return SimpleNamespace(name="websocket manager")


@pytest.fixture(name="wired")
def _wired(manager):
    """Roles as healthy startup leaves them: registry and bridge share one manager."""
    return {
        "registry": SimpleNamespace(websocket_manager=manager, ready=True, count=2),
        "bridge": SimpleNamespace(websocket_manager=manager, closed=False, count=2),
    }


@pytest.fixture(name="unwired")
def _unwired():
    """Roles as the legacy_setter fault leaves them: nobody got the manager."""
    return {
        "registry": SimpleNamespace(websocket_manager=None, ready=False, count=0),
        "bridge": SimpleNamespace(websocket_manager=None, closed=True, count=2),
    }


@pytest.mark.parametrize(
    "text",
    [
        "registry.websocket_manager is bridge.websocket_manager",
        "bridge.websocket_manager is not None",
        "registry.websocket_manager != None",
        "registry.count == bridge.count",
        "registry.ready is True",
        "bridge.closed == False",
        "registry.websocket_manager",
        "registry.websocket_manager.name",
    ],
)
def test_wire_holds(text, wired):
    """A wire that holds on the live objects gives no finding."""

    assert [] == check_wire(parse_wire(text), wired)


@pytest.mark.parametrize(
    "text",
    [
        "registry.websocket_manager is bridge.websocket_manager",
        "bridge.websocket_manager is not None",
        "registry.websocket_manager != None",
        "registry.count == bridge.count",
        "registry.websocket_manager",
    ],
)
def test_wire_does_not_hold(text, unwired):
    """A wire that does not hold is one WC211 finding, about that wire."""
    findings = check_wire(parse_wire(text), unwired)

    assert [("WC211", f"wire: {text}", f"wire does not hold: {text}")] == [
        (f.code, f.subject, f.message) for f in findings
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("registry.ready is True", "registry.ready is False (expected is True)"),
        ("bridge.closed == False", "bridge.closed is True (expected == False)"),
    ],
)
def test_a_status_wire_that_does_not_hold_is_wc213_with_the_value(text, message):
    """A recorded state (a flag, an error slot) gets its own code and shows the value startup stored."""
    roles = {"registry": SimpleNamespace(ready=False), "bridge": SimpleNamespace(closed=True)}

    assert [("WC213", message)] == [(f.code, f.message) for f in check_wire(parse_wire(text), roles)]


def test_a_recorded_startup_error_is_shown():
    """`startup_error is None` failing shows the error startup caught and stored."""
    roles = {"registry": SimpleNamespace(startup_error=RuntimeError("redis down"))}

    (finding,) = check_wire(parse_wire("registry.startup_error is None"), roles)

    assert "registry.startup_error is RuntimeError('redis down') (expected is None)" == finding.message


def test_identity_of_two_nones_does_not_hold(unwired):
    """`a.x is b.y` with both None is vacuous: nothing was wired, so it is a WC211 with both values."""
    findings = check_wire(parse_wire("registry.websocket_manager is bridge.websocket_manager"), unwired)

    assert [("registry.websocket_manager = None", "bridge.websocket_manager = None")] == [f.evidence for f in findings]


def test_identity_with_a_none_constant_holds():
    """Against the constant None, identity is a real statement and holds when the value is None."""
    roles = {"bridge": SimpleNamespace(websocket_manager=None)}

    assert [] == check_wire(parse_wire("bridge.websocket_manager is None"), roles)


def test_wire_evidence_describes_objects_by_type(manager):
    """Objects in evidence show their type and identity, since their repr may be huge or hostile."""
    roles = {
        "registry": SimpleNamespace(websocket_manager=manager),
        "bridge": SimpleNamespace(websocket_manager=SimpleNamespace()),
    }

    (finding,) = check_wire(parse_wire("registry.websocket_manager is bridge.websocket_manager"), roles)

    assert [True, True] == [
        line.startswith(f"{path} = <types.SimpleNamespace at 0x")
        for line, path in zip(finding.evidence, ["registry.websocket_manager", "bridge.websocket_manager"], strict=True)
    ]


def test_missing_path_is_wc212_with_did_you_mean(wired):
    """A path that does not exist is WC212, naming the missing step and the closest attribute."""
    findings = check_wire(parse_wire("bridge.websocket_managr is not None"), wired)

    assert [("WC212", "bridge has no attribute 'websocket_managr'; did you mean 'websocket_manager'?")] == [
        (f.code, f.message) for f in findings
    ]


def test_missing_deep_path_names_the_owner(wired):
    """For a deeper path, the finding names the part of the path that did resolve."""
    findings = check_wire(parse_wire("registry.websocket_manager.connections is not None"), wired)

    assert ["registry.websocket_manager has no attribute 'connections'"] == [f.message for f in findings]


def test_missing_path_on_the_right_is_wc212(wired):
    """Both sides are resolved; a bad path on the right is reported too."""
    findings = check_wire(parse_wire("registry.websocket_manager is bridge.manager"), wired)

    assert ["WC212"] == [f.code for f in findings]
