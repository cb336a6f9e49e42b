"""Contracts: member specs parse as callers use them, and live objects are compared without being called."""

from __future__ import annotations

from typing import Any

import pytest

from wiringcheck.contract import ContractSyntaxError, MemberSpec, Param, Undecidable, compare_member, parse_member
from wiringcheck.findings import Location

# -- parse_member ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "websocket_manager",
            MemberSpec(name="websocket_manager", text="websocket_manager"),
        ),
        (
            "set_websocket_manager(manager)",
            MemberSpec(
                name="set_websocket_manager",
                is_call=True,
                params=(Param("manager"),),
                text="set_websocket_manager(manager)",
            ),
        ),
        (
            "async notify_agent_started(run_id, agent_name, context=None)",
            MemberSpec(
                name="notify_agent_started",
                is_async=True,
                is_call=True,
                params=(Param("run_id"), Param("agent_name"), Param("context", optional=True)),
                text="async notify_agent_started(run_id, agent_name, context=None)",
            ),
        ),
        ("ping()", MemberSpec(name="ping", is_call=True, text="ping()")),
        ("async close()", MemberSpec(name="close", is_async=True, is_call=True, text="async close()")),
        (
            "f(a, b=(1, 2), c={'x': 1, 'y': [2, 3]}, d=[4, 5])",
            MemberSpec(
                name="f",
                is_call=True,
                params=(
                    Param("a"),
                    Param("b", optional=True),
                    Param("c", optional=True),
                    Param("d", optional=True),
                ),
                text="f(a, b=(1, 2), c={'x': 1, 'y': [2, 3]}, d=[4, 5])",
            ),
        ),
        (
            "f(*args, **kwargs)",
            MemberSpec(
                name="f",
                is_call=True,
                params=(Param("args", kind="var_positional"), Param("kwargs", kind="var_keyword")),
                text="f(*args, **kwargs)",
            ),
        ),
        (
            "f(a, /, b, *, c=None)",
            MemberSpec(
                name="f",
                is_call=True,
                params=(Param("a"), Param("b"), Param("c", optional=True)),
                text="f(a, /, b, *, c=None)",
            ),
        ),
        (
            "f(a: int, b: str = 'x')",
            MemberSpec(
                name="f", is_call=True, params=(Param("a"), Param("b", optional=True)), text="f(a: int, b: str = 'x')"
            ),
        ),
        (
            "  spaced ( a ,  b )  ",
            MemberSpec(name="spaced", is_call=True, params=(Param("a"), Param("b")), text="spaced ( a ,  b )"),
        ),
    ],
)
def test_parse_member(text, expected):
    """Required parameters are passed by position, defaulted ones by keyword; defaults are never evaluated."""

    assert expected == parse_member(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "cannot read member ''"),
        ("123abc", "cannot read member '123abc'"),
        ("foo(", "cannot read member 'foo('"),
        ("foo bar", "cannot read member 'foo bar'"),
        ("foo.bar()", "cannot read member 'foo.bar()'"),
        ("async foo", "member 'async foo' is async but has no parameter list: write 'async foo()'"),
        ("foo(a, a)", "parameter 'a' appears twice in member 'foo(a, a)'"),
        ("foo(a, *a)", "parameter 'a' appears twice in member 'foo(a, *a)'"),
        ("foo(a=None, b)", "in member 'foo(a=None, b)', required parameter 'b' follows an optional one"),
        ("foo(1)", "cannot read parameter '1' of member 'foo(1)'"),
        ("foo(a b)", "cannot read parameter 'a b' of member 'foo(a b)'"),
        ("foo(=1)", "cannot read parameter '=1' of member 'foo(=1)'"),
        ("foo(**)", "cannot read parameter '**' of member 'foo(**)'"),
    ],
)
def test_parse_member_rejects(text, message):
    """A spec that does not read as a member is a ContractSyntaxError that says what is wrong."""
    with pytest.raises(ContractSyntaxError) as caught:
        parse_member(text)

    assert str(caught.value).startswith(message)


def test_member_spec_positional_and_keywords():
    """Positional parameters are the required ones, keywords the defaulted ones; *args/**kwargs are neither."""
    spec = parse_member("f(a, b, c=None, *rest, **extra)")

    assert (("a", "b"), ("c",)) == (
        tuple(p.name for p in spec.positional),
        tuple(p.name for p in spec.keywords),
    )


def test_member_spec_str_is_its_text():
    """A spec prints as it was written in the configuration."""

    assert "async notify_agent_thinking(run_id, agent_name, thought)" == str(
        parse_member("async notify_agent_thinking(run_id, agent_name, thought)")
    )


# -- compare_member: the live objects --------------------------------------------------------------


class BaseRegistry:
    """What every registry inherits: members found through the MRO count as present."""

    def register(self, agent: Any) -> None:
        raise AssertionError("compare_member must never call a member")

    def attach_websocket_manager(self, manager: Any) -> None:
        raise AssertionError("compare_member must never call a member")


class Registry(BaseRegistry):
    """A registry as startup builds it, with one of every kind of member."""

    label = "registry"

    def __init__(self) -> None:
        self.websocket_manager: Any = None

    def set_websocket_manager(self, manager: Any) -> None:
        raise AssertionError("compare_member must never call a member")

    async def notify_agent_started(self, run_id: str, agent_name: str, context: Any = None) -> None:
        raise AssertionError("compare_member must never call a member")

    def emit(self, event_type: str, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("compare_member must never call a member")

    def send(self, message: Any, *, timeout: float = 1.0) -> None:
        raise AssertionError("compare_member must never call a member")

    def lookup(self, name: str, /) -> None:
        raise AssertionError("compare_member must never call a member")

    def configure(self, *, retries: int) -> None:
        raise AssertionError("compare_member must never call a member")

    @property
    def agent_count(self) -> int:
        return 0

    @property
    def factory(self) -> Any:
        return lambda name: name

    @staticmethod
    def normalize(name: str) -> str:
        raise AssertionError("compare_member must never call a member")

    @classmethod
    def from_settings(cls, settings: Any) -> Registry:
        raise AssertionError("compare_member must never call a member")


class DriftedRegistry:
    """The signature_drift fault: the setter now requires the bridge as well."""

    def set_websocket_manager(self, manager: Any, bridge: Any) -> None:
        raise AssertionError("compare_member must never call a member")


class AsyncSetterRegistry:
    """The unawaited_setter fault: the setter became a coroutine function."""

    async def set_websocket_manager(self, manager: Any) -> None:
        raise AssertionError("compare_member must never call a member")


class Dynamic:
    """An object that provides some members only through __getattr__."""

    def __getattr__(self, name: str) -> Any:
        if name == "notify":
            return lambda run_id: None
        if name == "state":
            return "ready"
        raise AttributeError(name)


class Wrapper:
    """Members that are builtins: `iter` has no signature inspect can read, `len` has one."""

    opaque = iter
    measure = len


@pytest.fixture(name="registry")
def _registry():
    return Registry()


def codes(findings):
    return [f.code for f in findings]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # present, as an attribute, a property, a method, inherited or not
        ("websocket_manager", []),
        ("label", []),
        ("agent_count", []),
        ("set_websocket_manager(manager)", []),
        ("register(agent)", []),
        ("async notify_agent_started(run_id, agent_name)", []),
        ("async notify_agent_started(run_id, agent_name, context=None)", []),
        ("normalize(name)", []),
        ("from_settings(settings)", []),
        ("factory(name)", []),
        ("send(message, timeout=None)", []),
        ("lookup(name)", []),
        ("configure(retries=3)", []),
        # *args and **kwargs take what the contract passes
        ("emit(event_type, run_id, agent_name)", []),
        ("emit(event_type, run_id=None, anything=None)", []),
        ("emit(event_type, *args, **kwargs)", []),
        # missing
        ("set_websocket_managr(manager)", ["WC202"]),
        ("unknown_member", ["WC202"]),
        # sync/async
        ("notify_agent_started(run_id, agent_name)", ["WC203"]),
        ("async set_websocket_manager(manager)", ["WC203"]),
        # callable or not
        ("set_websocket_manager", ["WC204"]),
        ("normalize", ["WC204"]),
        ("from_settings", ["WC204"]),
        ("websocket_manager(manager)", ["WC204"]),
        ("agent_count()", ["WC204"]),
        # arguments the live signature rejects
        ("set_websocket_manager(manager, bridge)", ["WC205"]),
        ("set_websocket_manager(manager, bridge=None)", ["WC205"]),
        ("set_websocket_manager(manager, **options)", ["WC205"]),
        ("lookup(name=None)", ["WC205"]),
        ("send(message, timeout)", ["WC205"]),
        # required parameters the contract does not pass
        ("set_websocket_manager()", ["WC206"]),
        ("configure()", ["WC206"]),
        ("set_websocket_manager(*managers)", ["WC205", "WC206"]),
    ],
)
def test_compare_member(spec, expected, registry):
    """Each way a live member can differ from its contract gets its own code, and a match gets none."""

    assert expected == codes(compare_member("registry", registry, parse_member(spec)))


def test_missing_member_suggests_the_closest_inherited_name(registry):
    """A missing member's message suggests the closest name, inherited members included."""
    (finding,) = compare_member("registry", registry, parse_member("attach_websocket_managr(manager)"))

    assert (
        "Registry has no member 'attach_websocket_managr'; did you mean 'attach_websocket_manager'? "
        "the contract expects `attach_websocket_managr(manager)`",
        "registry.attach_websocket_managr",
        {"suggestion": "attach_websocket_manager"},
    ) == (finding.message, finding.subject, finding.data)


def test_missing_member_without_a_close_name(registry):
    """With nothing close, the message only says what the contract expected."""
    (finding,) = compare_member("registry", registry, parse_member("frobnicate(x)"))

    assert "Registry has no member 'frobnicate'; the contract expects `frobnicate(x)`" == finding.message


def test_method_read_as_attribute(registry):
    """WC204: the contract reads a method as an attribute."""
    (finding,) = compare_member("registry", registry, parse_member("set_websocket_manager"))

    assert "Registry.set_websocket_manager is a method, but the contract reads it as an attribute" == finding.message


def test_attribute_called(registry):
    """WC204: the contract calls a plain attribute, and the message names the attribute's type."""
    (finding,) = compare_member("registry", registry, parse_member("websocket_manager(manager)"))

    assert "Registry.websocket_manager is not callable (it holds None); the contract calls it" == finding.message


def test_async_live_plain_contract():
    """WC203: the live setter is async def while the contract calls it without await."""
    (finding,) = compare_member("registry", AsyncSetterRegistry(), parse_member("set_websocket_manager(manager)"))

    assert (
        "AsyncSetterRegistry.set_websocket_manager is async def, but the contract calls it without await",
        {"live": "async def", "contract": "def"},
    ) == (finding.message, finding.data)


def test_plain_live_async_contract(registry):
    """WC203: the live member is a plain def while the contract awaits it."""
    (finding,) = compare_member("registry", registry, parse_member("async set_websocket_manager(manager)"))

    assert (
        "Registry.set_websocket_manager is a plain def, but the contract awaits it",
        {"live": "def", "contract": "async def"},
    ) == (finding.message, finding.data)


def test_too_many_positional(registry):
    """WC205: the contract passes more positional arguments than the live method takes."""
    (finding,) = compare_member("registry", registry, parse_member("set_websocket_manager(manager, bridge)"))

    assert (
        "Registry.set_websocket_manager(manager: 'Any') -> 'None' takes 1 positional argument(s), "
        "but the contract passes 2 (bridge too many)"
    ) == finding.message


def test_unknown_keyword_suggests_the_closest_parameter(registry):
    """WC205: a keyword the live method does not accept, with the closest parameter name."""
    (finding,) = compare_member(
        "registry", registry, parse_member("async notify_agent_started(run_id, agent_name, contxt=None)")
    )

    assert "does not accept the keyword 'contxt' (did you mean 'context'?)" in finding.message


def test_missing_var_positional(registry):
    """WC205: the contract passes *args to a method that takes none."""
    findings = compare_member("registry", registry, parse_member("send(message, *extra)"))

    assert ["takes no *extra, but the contract passes extra positional arguments"] == [
        f.message.partition(" -> 'None' ")[2] for f in findings
    ]


def test_new_required_parameter():
    """WC206: the signature_drift fault, a setter that now requires the bridge too."""
    (finding,) = compare_member("registry", DriftedRegistry(), parse_member("set_websocket_manager(manager)"))

    assert (
        "WC206",
        "DriftedRegistry.set_websocket_manager(manager: 'Any', bridge: 'Any') -> 'None' requires 'bridge', "
        "which the contract `set_websocket_manager(manager)` does not pass",
        {"missing": ["bridge"]},
    ) == (finding.code, finding.message, finding.data)


def test_new_required_parameter_on_the_class():
    """On the class (startup failed before building the role), `self` is dropped and WC206 still shows."""
    findings = compare_member(
        "registry", DriftedRegistry, parse_member("set_websocket_manager(manager)"), on_class=True
    )

    assert [("WC206", {"missing": ["bridge"]})] == [(f.code, f.data) for f in findings]


def test_matching_method_on_the_class():
    """On the class, a matching method gives no finding: `self` is not mistaken for a parameter."""

    assert [] == compare_member("registry", Registry, parse_member("set_websocket_manager(manager)"), on_class=True)


def test_instance_attribute_is_undecidable_on_the_class():
    """An attribute set in __init__ cannot be judged from the class alone."""
    with pytest.raises(Undecidable):
        compare_member("registry", Registry, parse_member("websocket_manager"), on_class=True)


def test_finding_points_at_the_live_definition():
    """A finding about a method is located at that method's `def` line."""
    (finding,) = compare_member("registry", DriftedRegistry(), parse_member("set_websocket_manager(manager)"))
    code = DriftedRegistry.set_websocket_manager.__code__

    assert Location(code.co_filename, code.co_firstlineno) == finding.location


def test_missing_member_points_at_the_class(registry):
    """A missing member is located at the class that lacks it."""
    (finding,) = compare_member("registry", registry, parse_member("frobnicate(x)"))

    assert (__file__, True) == (finding.location.path, finding.location.line is not None)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("notify(run_id)", []),
        ("state", []),
        ("async notify(run_id)", ["WC203"]),
        ("notify(run_id, agent_name)", ["WC205"]),
        ("state(x)", ["WC204"]),
        ("missing(x)", ["WC202"]),
    ],
)
def test_members_from_getattr(spec, expected):
    """Members provided by __getattr__ are found and compared; what it refuses is missing."""

    assert expected == codes(compare_member("dynamic", Dynamic(), parse_member(spec)))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("opaque(a, b, c, d)", []),
        ("async opaque(a)", ["WC203"]),
        ("measure(obj)", []),
        ("measure(a, b)", ["WC205"]),
    ],
)
def test_builtin_members(spec, expected):
    """A builtin without a readable signature is checked as far as possible, never a crash."""

    assert expected == codes(compare_member("wrapper", Wrapper(), parse_member(spec)))
