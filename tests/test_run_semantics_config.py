"""The configuration of a run's semantics: gap_ms, once/repeatable, tool pairs, clocks, emit, isolation.

Every new key validates like the others (a ConfigError naming the key); the emission
timing of the tracer and the `emit` suggestion of `inspect` are checked on plain objects.
"""

from __future__ import annotations

import asyncio
import enum
from pathlib import Path

import pytest

from wiringcheck.commands.inspect import suggest_emit
from wiringcheck.config import ConfigError, EmitCall, EmitKind, Isolation, parse_settings, user_identity
from wiringcheck.errors import UsageError
from wiringcheck.run.judge import expectation_for
from wiringcheck.run.recording import Emission
from wiringcheck.runner import ISOLATION_CHECK, plan
from wiringcheck.tracer import emissions_recorded

SOURCE = Path("x.toml")
ROLES = {"bridge": {"path": "state.agent_websocket_bridge"}}


def settings(probe: dict[str, object] | None = None, **top: object):
    return parse_settings({"app": "pkg.mod:app", "roles": ROLES, "probe": probe or {}, **top}, source=SOURCE)


def test_defaults_bound_gaps_by_the_budget_and_pair_tools():
    probe = settings().probe
    expectation = expectation_for(probe)

    assert (100.0, None, None, False, ()) == (
        expectation.gap_ms,
        expectation.once,
        expectation.tool_pairs,
        expectation.assume_synced_clocks,
        probe.emit,
    )


@pytest.mark.parametrize(
    ("gap", "budget", "expected"),
    [(True, 250, 250.0), (False, 100, None), (40, 100, 40.0), (1500.5, 100, 1500.5)],
)
def test_gap_follows_the_budget_unless_set(gap, budget, expected):
    assert expected == settings({"gap_ms": gap, "budget_ms": budget}).probe.gap_bound


def test_repeatable_removes_an_event_from_the_default_once():
    probe = settings({"repeatable": ["agent_started"]}).probe

    assert ("agent_completed",) == probe.once


def test_tool_pairs_and_emit_are_read():
    probe = settings(
        {
            "tool_pairs": [["tool_executing", "tool_completed"]],
            "tool_id_field": "payload.call",
            "emit": {"agent_thinking": "bridge.notify_agent_thinking"},
            "assume_synced_clocks": True,
        }
    ).probe

    assert (
        (("tool_executing", "tool_completed"),),
        "payload.call",
        (("agent_thinking", "bridge.notify_agent_thinking"),),
        True,
    ) == (probe.tool_pairs, probe.tool_id_field, probe.emit, probe.assume_synced_clocks)


def test_isolation_is_enabled_by_its_table_with_two_users():
    assert Isolation() == settings().isolation
    assert Isolation(enabled=True, users=2, token="t-{n}") == settings(isolation={"token": "t-{n}"}).isolation
    assert not settings(isolation={"enabled": False, "users": 3}).isolation.enabled


def test_each_user_gets_its_own_token():
    """A user's variable wins when it is set and not empty; the {n} template covers the others."""
    isolation = Isolation(enabled=True, users=3, tokens_env=("A", "B", "C"), token="dev-{n}")
    probe = settings({"auth": {"query": "token", "token": "probe"}}).probe

    tokens = [user_identity(isolation, n, probe, {"A": "secret-a", "C": ""}).token for n in (1, 2, 3)]

    assert ["secret-a", "dev-2", "dev-3"] == tokens


def test_plan_lists_the_isolation_check_when_enabled():
    assert ISOLATION_CHECK not in plan(settings())
    names = plan(settings(isolation={"users": 2}))
    assert names.index(ISOLATION_CHECK) == names.index("event: agent_completed") + 1


@pytest.mark.parametrize(
    ("probe", "top", "key", "problem"),
    [
        ({"gap_ms": 0}, {}, "probe.gap_ms", "greater than 0"),
        ({"gap_ms": "soon"}, {}, "probe.gap_ms", "expected a number"),
        ({"once": ["nope"]}, {}, "probe.once", "'nope' is not one of the expected events"),
        (
            {"once": ["agent_started"], "repeatable": ["agent_started"]},
            {},
            "probe.repeatable",
            "listed under both",
        ),
        ({"tool_pairs": [["tool_executing"]]}, {}, "probe.tool_pairs[0]", "expected [start, end]"),
        ({"emit": {"agent_thinkin": "bridge.x"}}, {}, "probe.emit.agent_thinkin", "did you mean 'agent_thinking'"),
        ({"emit": {"agent_thinking": "notify"}}, {}, "probe.emit.agent_thinking", "expected 'role.method'"),
        ({"emit": {"agent_thinking": "brige.notify"}}, {}, "probe.emit.agent_thinking", "did you mean 'bridge'"),
        ({}, {"isolation": {"users": 1}}, "isolation.users", "from 2 to 16"),
        ({}, {"isolation": {"users": 3, "tokens_env": ["A"]}}, "isolation.tokens_env", "one per user"),
        ({}, {"isolation": {"token": "same-token"}}, "isolation.token", "must contain {n}"),
        ({}, {"isolation": {"user": 2}}, "isolation.user", "did you mean 'users'"),
    ],
)
def test_errors_name_the_key(probe, top, key, problem):
    with pytest.raises(ConfigError) as caught:
        settings(probe, **top)

    assert key in str(caught.value)
    assert problem in str(caught.value)


# -- emission timing and its suggestion ------------------------------------------------------------


class Bridge:
    async def notify_agent_thinking(self, run_id: str, agent_name: str, thought: str) -> str:
        return thought

    def notify_done(self, run_id: str) -> None:
        pass

    def helper(self) -> None:
        pass


def test_emissions_are_timestamped_with_their_run_and_the_instance_restored():
    bridge = Bridge()
    ticks = iter([1.0, 2.0])

    with emissions_recorded(
        {"bridge": bridge}, [("agent_thinking", "bridge.notify_agent_thinking")], lambda: next(ticks)
    ) as seen:
        answer = asyncio.run(bridge.notify_agent_thinking("run-1", "agent", thought="hm"))
        asyncio.run(bridge.notify_agent_thinking(agent_name="a", thought="x", run_id=7))

    assert "hm" == answer
    assert [Emission("agent_thinking", "run-1", 1.0), Emission("agent_thinking", "7", 2.0)] == seen
    assert "notify_agent_thinking" not in vars(bridge)


def test_a_missing_role_or_method_is_left_untimed():
    with emissions_recorded({}, [("agent_thinking", "bridge.notify")], lambda: 0.0) as seen:
        pass

    assert [] == seen


class Kind(enum.Enum):
    STARTED = "started"
    DONE = "done"


class Emitter:
    """A backend that emits every event through one method, as many do: emit(kind, run_id, payload)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def emit(self, kind: object, run_id: str, payload: object = None) -> None:
        self.sent.append(str(kind))

    def emit_any(self, *args: object, **kwargs: object) -> None:
        self.sent.append(str(args or kwargs))


def kinds(event: str, argument: str | int, *values: object) -> EmitCall:
    return EmitCall(event, "emitter.emit", EmitKind(argument, values or (event,)))


def test_one_emit_method_stamps_each_call_as_the_event_its_kind_names():
    """emit(kind, ...) shared by three events: each call is the event its kind argument names, whatever the
    spelling (position or keyword, an enum member by value or name); other kinds are not events."""
    emitter = Emitter()
    ticks = iter(range(1, 10))
    calls = [
        kinds("agent_started", "kind", "started"),
        kinds("agent_thinking", "kind"),
        kinds("agent_completed", 0, "DONE"),
    ]

    with emissions_recorded({"emitter": emitter}, calls, lambda: float(next(ticks))) as seen:
        asyncio.run(emitter.emit(Kind.STARTED, "r1"))
        asyncio.run(emitter.emit("heartbeat", "r1"))
        asyncio.run(emitter.emit(run_id="r1", kind="agent_thinking"))
        asyncio.run(emitter.emit(Kind.DONE, run_id="r1", payload={}))

    assert [
        Emission("agent_started", "r1", 1.0),
        Emission("agent_thinking", "r1", 3.0),
        Emission("agent_completed", "r1", 4.0),
    ] == seen
    assert (["Kind.STARTED", "heartbeat", "agent_thinking", "Kind.DONE"], False) == (
        emitter.sent,
        "emit" in vars(emitter),
    )


def test_a_kind_argument_is_found_through_star_args_and_star_star_kwargs():
    """Position 0 of emit_any(*args) is its first argument; a name reaches into **kwargs."""
    emitter = Emitter()
    calls = [
        EmitCall("agent_started", "emitter.emit_any", EmitKind(0, ("start",))),
        EmitCall("agent_completed", "emitter.emit_any", EmitKind("type", ("end",))),
    ]

    with emissions_recorded({"emitter": emitter}, calls, lambda: 0.0) as seen:
        emitter.emit_any("start", "r1")
        emitter.emit_any(type="end", run_id="r1")

    assert [("agent_started", None), ("agent_completed", "r1")] == [(e.event, e.run_id) for e in seen]


@pytest.mark.parametrize(
    ("argument", "problem"),
    [
        ("knd", "probe.emit.agent_started.argument: emitter.emit(kind: 'object', run_id: 'str', payload: 'object' = "
                "None) -> 'None' has no parameter 'knd'; did you mean 'kind'?"),
        (3, "takes 3 positional argument(s): position 3 is past them (0 is the first after self)"),
    ],
)  # fmt: skip
def test_a_kind_argument_the_method_cannot_receive_is_a_usage_error(argument, problem):
    """Every call would go unrecorded: the run stops with the key and the method's real parameters."""
    emitter = Emitter()

    with (
        pytest.raises(UsageError) as caught,
        emissions_recorded({"emitter": emitter}, [kinds("agent_started", argument)], lambda: 0.0),
    ):
        pass

    assert (True, False) == (problem in str(caught.value), "emit" in vars(emitter))


def test_inspect_suggests_the_method_named_after_each_event():
    suggested = suggest_emit(("agent_thinking", "done", "tool_executing"), {"bridge": Bridge()})

    assert [("agent_thinking", "bridge.notify_agent_thinking"), ("done", "bridge.notify_done")] == suggested


# -- scenarios -------------------------------------------------------------------------------------

FAILING = {"text": "What is 6 divided by 0?"}


def test_a_scenario_lays_its_keys_over_the_probe_table():
    probe = {"budget_ms": 250, "emit": {"agent_thinking": "bridge.notify_agent_thinking"}}
    scenarios = [
        {"name": "failing tool", "trigger": {"type": "user_message", "payload": FAILING}, "deadline": 2},
        {"name": "error path", "events": ["agent_started", "agent_error", "agent_completed"]},
    ]

    first, second = settings(probe, scenarios=scenarios).scenarios

    assert ("failing tool", 250.0, 2.0, FAILING) == (
        first.name,
        first.probe.budget_ms,
        first.probe.deadline,
        first.probe.trigger["payload"],
    )
    assert (("agent_thinking", "bridge.notify_agent_thinking"),) == first.probe.emit
    # Its own events: the base's emit map names events it may not have, so it is not inherited.
    assert ((), "agent_completed") == (second.probe.emit, second.probe.terminal)


def test_plan_lists_each_scenarios_checks_as_items():
    names = plan(settings(scenarios=[{"name": "cancel", "events": ["agent_started", "agent_cancelled"]}]))

    assert [
        "scenario cancel: probe",
        "scenario cancel: event: agent_started",
        "scenario cancel: event: agent_cancelled",
    ] == [name for name in names if name.startswith("scenario")]


@pytest.mark.parametrize(
    ("scenarios", "key", "problem"),
    [
        ([{"trigger": {"type": "x"}}], "scenarios[0].name", "missing"),
        ([{"name": "a"}, {"name": "a"}], "scenarios[1].name", "must be unique"),
        ([{"name": "a", "budget": 1}], "scenarios[0].budget", "did you mean 'budget_ms'"),
        ([{"name": "a", "terminal": "nope"}], "scenarios[0].terminal", "not one of the expected events"),
        ({"name": "a"}, "scenarios", "an array of tables"),
    ],
)
def test_scenario_errors_name_the_key(scenarios, key, problem):
    with pytest.raises(ConfigError) as caught:
        settings(scenarios=scenarios)

    assert key in str(caught.value)
    assert problem in str(caught.value)
