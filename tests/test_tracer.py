"""The boot tracer: calls and failed lookups on the roles' classes, and no residue afterwards."""

from __future__ import annotations

import pytest

from wiringcheck.findings import Severity
from wiringcheck.tracer import Tracer


class Base:
    def set_websocket_bridge(self, bridge):
        self.bridge = bridge


class Registry(Base):
    def __init__(self):
        self.manager = None

    def set_websocket_manager(self, manager):
        self.manager = manager

    async def start(self):
        return "started"


class Other:
    def set_websocket_manager(self, manager):
        pass


class Dynamic:
    def __getattr__(self, name):
        if name == "virtual":
            return 42
        raise AttributeError(name)


@pytest.fixture(name="tracer")
def _tracer():
    return Tracer(classes={"registry": Registry})


def snapshot(*classes):
    return [dict(vars(cls)) for cls in classes]


def test_installing_and_removing_leaves_classes_exactly_as_they_were(tracer):
    """Every patched class dict is restored exactly, including the added __getattr__."""
    before = snapshot(Registry, Base)

    with tracer.installed():
        assert snapshot(Registry, Base) != before

    assert before == snapshot(Registry, Base)


def test_classes_are_restored_when_boot_raises(tracer):
    """An exception inside the traced block still restores the classes."""
    before = snapshot(Registry, Base)

    with pytest.raises(RuntimeError), tracer.installed():
        raise RuntimeError("boot crashed")

    assert before == snapshot(Registry, Base)


def test_calls_are_recorded_with_their_call_site(tracer):
    """A call on a traced instance records the method, a summary of arguments and the caller's line."""
    registry = Registry()

    with tracer.installed():
        registry.set_websocket_manager("the-manager")

    (call,) = tracer.calls
    assert ("registry", "set_websocket_manager", "'the-manager'") == (call.role, call.method, call.args)
    assert call.location is not None
    assert call.location.path == __file__


def test_inherited_methods_are_traced(tracer):
    """A legacy setter that lives on a base class is still seen being called."""
    registry = Registry()

    with tracer.installed():
        registry.set_websocket_bridge("bridge")

    assert ["set_websocket_bridge"] == [c.method for c in tracer.calls]


def test_calls_on_other_classes_are_ignored(tracer):
    """Only instances of the roles' classes are recorded."""
    with tracer.installed():
        Other().set_websocket_manager("x")

    assert [] == tracer.calls


def test_guarded_call_is_marked(tracer):
    """A call right under `if hasattr(obj, "name")` is marked as guarded."""
    registry = Registry()

    with tracer.installed():
        if hasattr(registry, "set_websocket_bridge"):
            registry.set_websocket_bridge("bridge")

    assert [True] == [c.guarded for c in tracer.calls]


def test_failed_hasattr_is_recorded_as_a_guard_finding(tracer):
    """hasattr() of a missing member is recorded, and reported as WC107 with a did-you-mean."""
    registry = Registry()

    with tracer.installed():
        found = hasattr(registry, "set_websocket_managr")

    (finding,) = tracer.guard_findings()
    assert found is False
    assert ("WC107", Severity.WARNING) == (finding.code, finding.severity)
    assert "did you mean 'set_websocket_manager'?" in finding.message
    assert "the guarded block never runs" in finding.message


def test_attribute_error_keeps_its_name_and_object(tracer):
    """A missing attribute still raises AttributeError with name and obj, as Python's would."""
    registry = Registry()

    with tracer.installed(), pytest.raises(AttributeError) as caught:
        registry.missing_thing  # noqa: B018

    assert ("missing_thing", registry) == (caught.value.name, caught.value.obj)


def test_existing_getattr_keeps_working():
    """A class's own __getattr__ still answers while traced, and is restored afterwards."""
    tracer = Tracer(classes={"dynamic": Dynamic})
    original = Dynamic.__dict__["__getattr__"]

    with tracer.installed():
        value = Dynamic().virtual
        assert not hasattr(Dynamic(), "nothing")

    assert 42 == value
    assert original is Dynamic.__dict__["__getattr__"]
    assert ["nothing"] == [lookup.name for lookup in tracer.lookups]


def test_must_call_passes_when_called(tracer):
    """check_must_call finds nothing when startup made the call."""
    registry = Registry()
    with tracer.installed():
        registry.set_websocket_manager("m")

    assert [] == tracer.check_must_call("registry.set_websocket_manager")


def test_must_call_names_what_was_called_instead(tracer):
    """When the call is missing, WC106 names the guarded call startup made instead."""
    registry = Registry()
    with tracer.installed():
        registry.set_websocket_bridge("b")
        if hasattr(registry, "set_websocket_bridge"):
            registry.set_websocket_bridge("b")

    (finding,) = tracer.check_must_call("registry.set_websocket_manager")
    assert "WC106" == finding.code
    assert "it called registry.set_websocket_bridge('b')" in finding.message
    assert "behind a hasattr guard" in finding.message


@pytest.mark.asyncio
async def test_unawaited_async_method_call_is_still_recorded(tracer):
    """A call of an async method is recorded when made, even if its coroutine is then awaited later."""
    registry = Registry()
    with tracer.installed():
        coroutine = registry.start()

    assert "started" == await coroutine
    assert ["start"] == [c.method for c in tracer.calls]


def test_a_lookup_made_by_wiringcheck_itself_is_no_guard(tracer):
    """wiringcheck's own contract check reads members on the live object: no WC107 for that lookup."""
    from wiringcheck.contract import compare_member, parse_member

    registry = Registry()
    with tracer.installed():
        compare_member("registry", registry, parse_member("attach_websocket_manager(manager)"))

    assert ([], []) == (tracer.lookups, tracer.guard_findings())


def test_a_guard_that_explains_a_failure_on_its_role_is_an_error_naming_the_rename(tracer):
    """A did-you-mean guard on a role whose wire or call failed is the cause: an error, with what it explains."""
    registry = Registry()
    with tracer.installed():
        if hasattr(registry, "set_websocket_managr"):
            registry.set_websocket_managr("m")

    (finding,) = tracer.guard_findings({"registry": ["wire: registry.manager is not None"]})
    assert (Severity.ERROR, "so this failed: wire: registry.manager is not None") == (
        finding.severity,
        finding.evidence[-1],
    )
    assert "Call set_websocket_manager(...) directly" in finding.hint


def test_a_guard_on_a_role_with_no_failure_stays_a_warning(tracer):
    """Feature detection on a healthy role is legitimate: the guard is a warning."""
    registry = Registry()
    with tracer.installed():
        hasattr(registry, "set_websocket_managr")

    (finding,) = tracer.guard_findings({"bridge": ["wire: bridge.manager is not None"]})
    assert Severity.WARNING == finding.severity


class Renamed:
    manager = None

    def attach_manager(self, manager):
        self.manager = manager


def test_a_guarded_calls_did_you_mean_is_a_method():
    """`if hasattr(r, "set_manager"): r.set_manager(m)` suggests the method attach_manager, not the attribute."""
    tracer = Tracer(classes={"registry": Renamed})
    registry = Renamed()
    with tracer.installed():
        if hasattr(registry, "set_manager"):
            registry.set_manager("m")

    (finding,) = tracer.guard_findings()
    assert {"suggestion": "attach_manager"} == finding.data


def test_a_call_counts_for_every_role_at_the_same_path():
    """Two roles at one path are one object: a startup call on it satisfies `must_call` on either role."""
    from wiringcheck.config import parse_settings

    settings = parse_settings(
        {
            "app": "tests.test_tracer:Registry",
            "roles": {
                "registry": {"path": "state.registry", "class": "tests.test_tracer:Registry"},
                "wiring": {"path": "state.registry"},
            },
        }
    )
    tracer = Tracer.for_settings(settings)
    registry = Registry()
    with tracer.installed():
        registry.set_websocket_manager("m")

    assert ([], []) == (
        tracer.check_must_call("registry.set_websocket_manager"),
        tracer.check_must_call("wiring.set_websocket_manager"),
    )
