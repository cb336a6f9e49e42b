"""WC301: an attribute (or a hasattr/getattr guard) that the receiver's class defines nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scan.tools import check_finds, check_silent

SILENT = {
    "method defined on the class": """
        class Registry:
            def set_manager(self, m): ...
        def f():
            r = Registry()
            r.set_manager(1)
    """,
    "method defined on a base": """
        class Base:
            def set_manager(self, m): ...
        class Registry(Base):
            pass
        def f():
            Registry().set_manager(1)
    """,
    "class attribute": """
        class Registry:
            manager = None
        def f():
            return Registry().manager
    """,
    "annotated class attribute": """
        class Registry:
            manager: int
        def f(r: Registry):
            return r.manager
    """,
    "property": """
        class Registry:
            @property
            def manager(self): return 1
        def f(r: Registry):
            return r.manager
    """,
    "attribute assigned in another method": """
        class Registry:
            def start(self):
                self.manager = 1
        def f(r: Registry):
            return r.manager
    """,
    "attribute assigned by tuple unpacking": """
        class Registry:
            def __init__(self):
                self.a, self.b = 1, 2
        def f(r: Registry):
            return r.b
    """,
    "dataclass field": """
        from dataclasses import dataclass
        @dataclass
        class Settings:
            delay: float = 0.0
        def f(s: Settings):
            return s.delay
    """,
    "__slots__ field": """
        class Point:
            __slots__ = ("x", "y")
        def f(p: Point):
            return p.y
    """,
    "guard on a name that exists": """
        class Registry:
            def set_manager(self, m): ...
        def f(r: Registry):
            if hasattr(r, "set_manager"):
                r.set_manager(1)
    """,
    "class with __getattr__": """
        class Proxy:
            def __getattr__(self, name): return 1
        def f(p: Proxy):
            return p.anything
    """,
    "base with __getattribute__": """
        class Base:
            def __getattribute__(self, name): return 1
        class Proxy(Base): ...
        def f(p: Proxy):
            return p.anything
    """,
    "base not in the tree": """
        from somewhere_else import Base
        class Registry(Base): ...
        def f(r: Registry):
            return r.anything
    """,
    "base from the standard library": """
        import threading
        class Worker(threading.Thread): ...
        def f(w: Worker):
            return w.daemon_thing
    """,
    "Protocol": """
        from typing import Protocol
        class Agent(Protocol):
            name: str
        def f(a: Agent):
            return a.other
    """,
    "Mock subclass": """
        from unittest.mock import Mock
        class FakeRegistry(Mock): ...
        def f():
            return FakeRegistry().set_manager
    """,
    "mock-named class": """
        class RegistryMock:
            pass
        def f():
            return RegistryMock().set_manager
    """,
    "setattr on self": """
        class Config:
            def __init__(self, **kw):
                for k, v in kw.items():
                    setattr(self, k, v)
        def f(c: Config):
            return c.anything
    """,
    "__dict__ update": """
        class Config:
            def __init__(self, **kw):
                self.__dict__.update(kw)
        def f(c: Config):
            return c.anything
    """,
    "unknown class decorator": """
        import attr
        @attr.s
        class Config:
            x = attr.ib()
        def f(c: Config):
            return c.anything
    """,
    "unknown metaclass": """
        class Meta(type): ...
        class Model(metaclass=Meta): ...
        def f(m: Model):
            return m.anything
    """,
    "Optional annotation": """
        class Registry: ...
        def f(r: Registry | None):
            return r.anything
    """,
    "Union annotation": """
        from typing import Union
        class A: ...
        class B:
            def go(self): ...
        def f(r: Union[A, B]):
            return r.go()
    """,
    "narrowed with isinstance": """
        class A: ...
        class B:
            def go(self): ...
        def f(x: A):
            if isinstance(x, B):
                x.go()
    """,
    "bound in two incompatible ways": """
        class A: ...
        class B:
            def go(self): ...
        def f(flag):
            x = A()
            if flag:
                x = B()
            x.go()
    """,
    "loop variable": """
        class A: ...
        def f(items):
            x = A()
            for x in items:
                x.go()
    """,
    "global declaration": """
        class A: ...
        x = A()
        def f():
            global x
            x.go()
    """,
    "name stored onto an object elsewhere": """
        class Config: ...
        def plugin(config: Config):
            config.workerinput = {}
        def f(c: Config):
            return c.workerinput
    """,
    "name defined by a known subclass": """
        class Base:
            def run(self):
                return self.handle()
        class Impl(Base):
            def handle(self): ...
    """,
    "self in a mixin (no constructor, no base) may be a subclass instance": """
        class AssertsMixin:
            def check(self, a, b):
                self.assertEqual(a, b)
    """,
    "self in a metaclass is a class": """
        class Meta(type):
            def __init__(cls, name, bases, ns):
                cls.registry_key
    """,
    "class defined twice with different members": """
        import sys
        if sys.platform == "win32":
            class Worker:
                def __init__(self): self.handle = 1
        else:
            class Worker:
                def __init__(self): self.fd = 1
        def f(w: Worker):
            return w.handle, w.fd
    """,
    "reflective getattr on self": """
        class Handler:
            def dispatch(self, verb):
                return getattr(self, "do_" + verb, None) or getattr(self, "get", None)
    """,
    "guard on a name defined nowhere in the project (set by a plugin)": """
        class Config: ...
        def f(config: Config):
            if hasattr(config, "workerinput"):
                return 1
    """,
    "access inside try/except AttributeError": """
        class Config: ...
        def f(c: Config):
            try:
                return c.legacy
            except AttributeError:
                return None
    """,
    "dunder attribute": """
        class A: ...
        def f(a: A):
            return a.__name__, a.__wrapped__
    """,
    "attribute store": """
        class A: ...
        def f(a: A):
            a.new_thing = 1
    """,
    "class attribute of the type object": """
        class A: ...
        def f():
            return A.__mro__, A.mro()
    """,
    "exception base members": """
        class Boom(Exception): ...
        def f(e: Boom):
            return e.args, e.with_traceback(None)
    """,
    "enum members": """
        import enum
        class Color(enum.Enum):
            RED = 1
        def f(c: Color):
            return c.value, c.name, Color.RED
    """,
    "NamedTuple fields": """
        from typing import NamedTuple
        class P(NamedTuple):
            x: int
        def f(p: P):
            return p.x, p._asdict()
    """,
    "module-level __getattr__ is not a class concern": """
        import pkg
        def f():
            return pkg.anything
    """,
    "decorator names are not resolved against the function's parameters": """
        class State: ...
        class Box:
            @property
            def state(self): return 1
            @state.setter
            def state(self, state: State) -> None: ...
    """,
    "ignore comment on the line": """
        class A: ...
        def f(a: A):
            return a.missing  # wiringcheck: ignore[WC301]
    """,
    "bare ignore comment": """
        class A: ...
        def f(a: A):
            return a.missing  # wiringcheck: ignore
    """,
}


@pytest.mark.parametrize("code", SILENT.values(), ids=SILENT.keys())
def test_silent(tmp_path: Path, code: str) -> None:
    """No WC301 where the member exists or cannot be known statically."""
    check_silent(tmp_path, code, ["WC301"])


def test_missing_method_call(tmp_path: Path) -> None:
    """Calling a method the class lacks is reported, with the receiver's origin and a did-you-mean."""
    code = """
        class Registry:
            def set_websocket_manager(self, m): ...
        def f():
            registry = Registry()
            registry.set_ws_manager(1)
    """
    (found,) = check_finds(tmp_path, code, ["WC301"])

    assert "pkg/mod.py:6:5" == str(found.location)
    assert "registry.set_ws_manager" == found.subject
    assert "registry is Registry (registry assigned at pkg/mod.py:5)" in found.message
    assert "did you mean 'set_websocket_manager'?" in found.message


def test_hasattr_guard_names_the_dead_branch(tmp_path: Path) -> None:
    """A hasattr guard on a renamed method says the if branch never runs."""
    code = """
        class Registry:
            def attach_websocket_manager(self, m): ...
        def wire(registry: Registry):
            if hasattr(registry, "set_websocket_manager"):
                registry.set_websocket_manager(1)
    """
    (found,) = check_finds(tmp_path, code, ["WC301"])

    assert "the if branch at line 5 never runs" in found.message
    assert "did you mean 'attach_websocket_manager'?" in found.message


def test_broad_except_does_not_hide_the_bug(tmp_path: Path) -> None:
    """``except Exception`` (log and carry on) is where wiring bugs hide: still reported."""
    code = """
        import logging
        class Registry:
            def attach_manager(self, m): ...
        def wire(r: Registry):
            try:
                r.set_manager(1)
            except Exception:
                logging.exception("wiring failed")
    """
    check_finds(tmp_path, code, ["WC301"])


def test_guarded_access_is_reported_once(tmp_path: Path) -> None:
    """The guard is reported; the access it protects is not reported a second time."""
    code = """
        class Registry:
            def set_websocket_manager(self, m): ...
        class Other:
            def attach(self, m): ...
        def f(r: Other):
            if hasattr(r, "set_websocket_manager"):
                r.set_websocket_manager(1)
    """
    (found,) = check_finds(tmp_path, code, ["WC301"])

    assert 7 == found.location.line


def test_negated_guard_names_the_else_branch(tmp_path: Path) -> None:
    """``if not hasattr(...)`` with an else: the else branch never runs."""
    code = """
        class Registry:
            def attach_manager(self, m): ...
        def wire(registry: Registry):
            if not hasattr(registry, "attach_managr"):
                pass
            else:
                registry.attach_managr(1)
    """
    (found,) = check_finds(tmp_path, code, ["WC301"])

    assert "the else branch of the if at line 5 never runs" in found.message


def test_getattr_with_default(tmp_path: Path) -> None:
    """getattr with a default on a missing name always returns the default."""
    code = """
        class Registry:
            def set_manager(self, m): ...
        def wire(r: Registry):
            setter = getattr(r, "set_managr", None)
    """
    (found,) = check_finds(tmp_path, code, ["WC301"])

    assert "always returns the default" in found.message


@pytest.mark.parametrize(
    "code",
    [
        # self.x = Cls() in another method
        """
        class Bridge:
            def notify(self): ...
        class Registry:
            def __init__(self):
                self.bridge = Bridge()
            def run(self):
                self.bridge.notfy()
        """,
        # parameter annotation, as a string
        """
        class Bridge: ...
        def f(bridge: "Bridge"):
            bridge.notify()
        """,
        # module global
        """
        class Bridge: ...
        BRIDGE = Bridge()
        def f():
            BRIDGE.notify()
        """,
        # function return annotation
        """
        class Bridge: ...
        def make() -> Bridge:
            return Bridge()
        def f():
            make().notify()
        """,
        # self.x = param with an annotated parameter
        """
        class Bridge: ...
        class Registry:
            def __init__(self, bridge: Bridge):
                self.bridge = bridge
            def run(self):
                self.bridge.notify()
        """,
        # class-level annotation of an attribute
        """
        class Bridge: ...
        class Registry:
            bridge: Bridge
            def run(self):
                self.bridge.notify()
        """,
        # dataclass field type
        """
        from dataclasses import dataclass
        class Bridge: ...
        @dataclass
        class Registry:
            bridge: Bridge
        def f(r: Registry):
            r.bridge.notify()
        """,
        # variable annotation
        """
        class Bridge: ...
        def f(obj):
            bridge: Bridge = obj
            bridge.notify()
        """,
        # a method's own class
        """
        class Bridge:
            def __init__(self):
                self.manager = None
            def run(self):
                self.notfy()
        """,
    ],
    ids=[
        "self-attribute",
        "string-annotation",
        "module-global",
        "return-annotation",
        "injected",
        "class-annotation",
        "dataclass",
        "variable-annotation",
        "self",
    ],
)
def test_inference_sources(tmp_path: Path, code: str) -> None:
    """Each inference source makes the receiver's class known."""
    check_finds(tmp_path, code, ["WC301"])


def test_across_modules_through_reexport(tmp_path: Path) -> None:
    """A class re-exported by a package __init__ and imported under an alias is resolved."""
    files = {
        "pkg/__init__.py": "from pkg.registry import Registry as Registry\n",
        "pkg/registry.py": """
            class Registry:
                def set_websocket_manager(self, m): ...
        """,
        "app/startup.py": """
            from pkg import Registry as R
            def wire():
                R().set_websocket_manger(1)
        """,
    }
    (found,) = check_finds(tmp_path, files, ["WC301"])

    assert "app/startup.py" == found.location.path


def test_type_checking_import(tmp_path: Path) -> None:
    """An annotation whose class is imported under TYPE_CHECKING is resolved."""
    files = {
        "pkg/registry.py": "class Registry:\n    pass\n",
        "pkg/app.py": """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from pkg.registry import Registry
            def wire(registry: "Registry"):
                registry.set_manager(1)
        """,
    }
    check_finds(tmp_path, files, ["WC301"])


def test_role_path(tmp_path: Path) -> None:
    """A configured role's attribute path (app.state.x) resolves to the role's class."""
    from wiringcheck.config import RoleSpec

    files = {
        "pkg/bridge.py": "class Bridge:\n    def notify(self): ...\n",
        "pkg/app.py": """
            def handler(request):
                request.app.state.agent_websocket_bridge.notfy()
        """,
    }
    roles = {"bridge": RoleSpec("bridge", "state.agent_websocket_bridge", "pkg.bridge:Bridge")}
    (found,) = check_finds(tmp_path, files, ["WC301"], roles=roles)

    assert "configured role 'bridge'" in found.message


def test_only_requested_files_are_reported(tmp_path: Path) -> None:
    """Scanning one file resolves names in the whole project but reports that file only."""
    files = {
        "pkg/registry.py": "class Registry:\n    def go(self):\n        self.missing()\n",
        "pkg/app.py": "from pkg.registry import Registry\n\ndef f():\n    Registry().gone()\n",
    }
    (found,) = check_finds(tmp_path, files, ["WC301"], paths=["pkg/app.py"])

    assert "pkg/app.py" == found.location.path


@pytest.mark.parametrize(
    "use",
    [
        "if bridge is not None:\n        bridge.notfy()",
        "if bridge:\n        bridge.notfy()",
        "if bridge is None:\n        pass\n    else:\n        bridge.notfy()",
        "ok = bridge is not None and bridge.notfy()",
        "x = bridge.notfy() if bridge is not None else None",
    ],
)
def test_optional_checked_for_none(tmp_path: Path, use: str) -> None:
    """A name annotated ``X | None`` is ``X`` where a test proved it is not None."""
    code = f"class Bridge:\n    def notify(self): ...\n\ndef f(bridge: Bridge | None):\n    {use}\n"
    (found,) = check_finds(tmp_path, code, ["WC301"])

    assert "not None here" in found.message


@pytest.mark.parametrize(
    "use",
    [
        "bridge.notfy()",
        "if bridge is None:\n        bridge.notfy()",
        "if bridge is not None:\n        pass\n    else:\n        bridge.notfy()",
        "if other is not None:\n        bridge.notfy()",
    ],
)
def test_optional_not_checked_is_silent(tmp_path: Path, use: str) -> None:
    """Without a test proving it is not None, a name annotated ``X | None`` stays unknown."""
    code = f"class Bridge:\n    def notify(self): ...\n\ndef f(bridge: Bridge | None, other):\n    {use}\n"
    check_silent(tmp_path, code, ["WC301"])


def test_test_code_never_excuses_application_code(tmp_path: Path) -> None:
    """A store on a mock and a subclass that exists only in tests do not hide a missing method."""
    files = {
        "pkg/registry.py": """
            class Registry:
                def register(self, agent): ...

            def wire(registry: Registry):
                registry.configure(1)
                registry.send_message("hi")
        """,
        "tests/test_registry.py": """
            from pkg.registry import Registry

            class FakeRegistry(Registry):
                def send_message(self, text): ...

            def test_wire(mocker):
                registry = Registry()
                registry.configure = mocker.Mock()
        """,
    }
    found = check_finds(tmp_path, files, ["WC301", "WC301"])

    assert ["registry.configure", "registry.send_message"] == [f.subject for f in found]


def test_test_code_is_judged_too_but_excused_by_its_own(tmp_path: Path) -> None:
    """In a test file, the test's own subclass still counts; a store onto a mock never does."""
    files = {
        "pkg/registry.py": "class Registry:\n    def register(self, agent): ...\n",
        "tests/conftest.py": """
            from pkg.registry import Registry

            class Recording(Registry):
                def replay(self): ...

            def use(registry: Registry, mock_bridge):
                registry.replay()
                mock_bridge.connect = None
                registry.connect()
        """,
    }
    (found,) = check_finds(tmp_path, files, ["WC301"])

    assert "registry.connect" == found.subject


def test_a_subclass_with_getattr_does_not_stop_the_arity_check(tmp_path: Path) -> None:
    """An unrelated subclass defining __getattr__ (but not the method) leaves the base's signature certain."""
    code = """
        class Base:
            def run(self, task): ...

        class Lazy(Base):
            def __getattr__(self, name):
                return 1

        def go(base: Base):
            base.run()
    """
    check_finds(tmp_path, code, ["WC302"])


CONTAINERS = {
    "loop over a list attribute": "for agent in self.agents:\n                    agent.stat()",
    "values of a dict attribute": "for agent in self.by_name.values():\n                    agent.stat()",
    "items of a dict attribute": "for name, agent in self.by_name.items():\n                    agent.stat()",
    "enumerate a list": "for i, agent in enumerate(self.agents):\n                    agent.stat()",
    "comprehension": "return [agent.stat() for agent in self.by_name.values()]",
}


@pytest.mark.parametrize("loop", CONTAINERS.values(), ids=CONTAINERS.keys())
def test_container_elements(tmp_path: Path, loop: str) -> None:
    """The elements of an annotated container are instances of the element type."""
    code = f"""
        class Agent:
            def start(self): ...

        class Registry:
            by_name: dict[str, Agent]

            def __init__(self) -> None:
                self.agents: list[Agent] = []
                self.by_name = {{}}

            def run(self):
                {loop}
    """
    (found,) = check_finds(tmp_path, code, ["WC301"])

    assert "agent is an element of self." in found.message
    assert "did you mean 'start'?" in found.message


CONTAINERS_UNKNOWN = {
    "keys of a mapping": "for agent in self.by_name:\n                    agent.stat()",
    "a key of items()": "for agent, _ in self.by_name.items():\n                    agent.stat()",
    "a list of unions": "for agent in self.mixed:\n                    agent.stat()",
    "rebound in the loop": "for agent in self.agents:\n                    agent = 1\n                    agent.stat()",
}


@pytest.mark.parametrize("loop", CONTAINERS_UNKNOWN.values(), ids=CONTAINERS_UNKNOWN.keys())
def test_container_elements_silent(tmp_path: Path, loop: str) -> None:
    """Keys, unions and rebound loop variables stay unknown."""
    code = f"""
        class Agent:
            def start(self): ...

        class Registry:
            by_name: dict[str, Agent]
            mixed: list[Agent | int]

            def __init__(self) -> None:
                self.agents: list[Agent] = []

            def run(self):
                {loop}
    """
    check_silent(tmp_path, code, ["WC301"])


def test_app_state_attribute_types_from_the_projects_assignments(tmp_path: Path) -> None:
    """`request.app.state.x` is what the application assigned to `app.state.x`, through a local."""
    files = {
        "pkg/supervisor.py": "class Supervisor:\n    def dispatch(self, task): ...\n",
        "pkg/startup.py": """
            from pkg.supervisor import Supervisor

            def lifespan(app):
                supervisor = Supervisor()
                app.state.agent_supervisor = supervisor
        """,
        "pkg/routes.py": """
            async def route(request, websocket):
                request.app.state.agent_supervisor.dispach(1)
                websocket.app.state.agent_supervisor.dispatch(2)
        """,
        "tests/test_routes.py": """
            def test_route(app, mock_supervisor):
                app.state.agent_supervisor = mock_supervisor
        """,
    }
    (found,) = check_finds(tmp_path, files, ["WC301"])

    assert "app.state.agent_supervisor assigned at pkg/startup.py:6" in found.message
    assert "did you mean 'dispatch'?" in found.message


APP_STATE_UNKNOWN = {
    "two classes": "app.state.x = A()\n    app.state.x = B()",
    "a parameter": "app.state.x = param",
    "a loop variable": "for item in param:\n        app.state.x = item",
    "a local bound twice": "a = A()\n    a = B()\n    app.state.x = a",
}


@pytest.mark.parametrize("stores", APP_STATE_UNKNOWN.values(), ids=APP_STATE_UNKNOWN.keys())
def test_app_state_unknown(tmp_path: Path, stores: str) -> None:
    """Disagreeing or unknown stores leave app.state.x unknown."""
    files = {
        "pkg/startup.py": f"""
class A: ...
class B: ...
def lifespan(app, param):
    {stores}
""",
        "pkg/routes.py": "def route(request):\n    request.app.state.x.anything()\n",
    }
    check_silent(tmp_path, files, ["WC301"])


def test_mixin_self_annotated_with_another_class(tmp_path: Path) -> None:
    """`def helper(self: "Registry")` in a mixin that Registry does not derive from: self is not judged."""
    code = """
        class Registry:
            def register(self): ...

        class LookupMixin:
            def find(self: "Registry", name):
                self.register()
                return self.index_by_name(name)

            def index_by_name(self, name): ...

        class FullRegistry(Registry, LookupMixin): ...
    """
    check_silent(tmp_path, code, ["WC301"])


def test_self_annotated_with_a_subclass_is_judged(tmp_path: Path) -> None:
    """`self: "Child"` in a method of Base (Child derives from Base) is a Child."""
    code = """
        class Base:
            def __init__(self) -> None: ...

            def run(self: "Child"):
                self.stat()

        class Child(Base):
            def start(self): ...
    """
    (found,) = check_finds(tmp_path, code, ["WC301"])

    assert "did you mean 'start'?" in found.message


def test_augmented_assignment_reads_first(tmp_path: Path) -> None:
    """`self.sent += 1` defines nothing: with `sent` renamed in __init__, it raises AttributeError."""
    code = """
        class Bridge:
            def __init__(self) -> None:
                self.sent_count = 0

            def notify(self) -> None:
                self.sent += 1
    """
    (found,) = check_finds(tmp_path, code, ["WC301"])

    assert "self.sent" == found.subject


APP_STATE_STORES_THAT_DO_NOT_COUNT = {
    "cleared on shutdown": "app.state.supervisor = None",
    "a setter passing a parameter through": (
        "def set_supervisor(app, supervisor):\n    app.state.supervisor = supervisor"
    ),
}


def _app_state_files(imported_where: str, other_store: str) -> dict[str, str]:
    imports = "from pkg.supervisor import Supervisor"
    return {
        "pkg/supervisor.py": "class Supervisor:\n    def dispatch(self, task): ...\n",
        "pkg/startup.py": f"""
{imports if imported_where == "module" else ""}

async def lifespan(app):
    {imports if imported_where == "function" else ""}
    supervisor = Supervisor()
    app.state.supervisor = supervisor
""",
        "pkg/shutdown.py": f"def stop(app):\n    {other_store}\n" if "def " not in other_store else other_store + "\n",
        "pkg/routes.py": "def route(request):\n    request.app.state.supervisor.dispach(1)\n",
    }


@pytest.mark.parametrize("other", APP_STATE_STORES_THAT_DO_NOT_COUNT.values(), ids=APP_STATE_STORES_THAT_DO_NOT_COUNT)
def test_app_state_other_stores_of_none_or_a_parameter_are_silent_on_a_correct_call(tmp_path: Path, other: str) -> None:
    """The negative side: a correct call through app.state stays silent whatever else is stored there."""
    files = _app_state_files("function", other)
    files["pkg/routes.py"] = "def route(request):\n    request.app.state.supervisor.dispatch(1)\n"
    check_silent(tmp_path, files, ["WC301"])


@pytest.mark.parametrize("other", APP_STATE_STORES_THAT_DO_NOT_COUNT.values(), ids=APP_STATE_STORES_THAT_DO_NOT_COUNT)
@pytest.mark.parametrize("imported_where", ["module", "function"])
def test_app_state_typed_by_a_class_imported_in_the_function_despite_none_or_parameter_stores(
    tmp_path: Path, other: str, imported_where: str
) -> None:
    """A store built from a class the lifespan imports itself types app.state.x; None and a passed-through
    parameter stored elsewhere do not make it unknown (issue 21, miss 1)."""
    (found,) = check_finds(tmp_path, _app_state_files(imported_where, other), ["WC301"])

    assert "app.state.supervisor assigned at pkg/startup.py:7" in found.message
    assert "did you mean 'dispatch'?" in found.message


def test_app_state_two_built_classes_stay_unknown_even_with_a_function_import(tmp_path: Path) -> None:
    """Stores of two different classes still disagree (the import inside the function changes nothing)."""
    other = "from pkg.other import Other\n\ndef stop(app):\n    app.state.supervisor = Other()"
    files = _app_state_files("function", other)
    files["pkg/other.py"] = "class Other: ...\n"
    check_silent(tmp_path, files, ["WC301"])


GLOBAL_MANAGER = """
    from typing import Optional

    class Manager:
        def set_bridge(self, bridge): ...

    _manager{annotation} = None

    async def init_managers():
        global _manager
        _manager = Manager()
{extra}
    def wire(bridge):
        if hasattr(_manager, "{name}"):
            _manager.{name}(bridge)
"""


@pytest.mark.parametrize(
    "extra",
    [
        "",
        "\n    def replace(manager):\n        global _manager\n        _manager = manager\n",
        "\n    def bump():\n        global _manager\n        _manager += 1\n",
    ],
    ids=["correct guard", "also assigned a parameter", "also updated in place"],
)
def test_guard_on_module_global_silent(tmp_path: Path, extra: str) -> None:
    """The negative side: a guard on a name the global's class defines, or a global also bound to unknowns."""
    name = "set_bridge" if not extra else "set_bridg"
    code = GLOBAL_MANAGER.format(annotation=": Optional[Manager]", extra=extra, name=name)
    check_silent(tmp_path, code, ["WC301"])


@pytest.mark.parametrize("annotation", ["", ": Optional[Manager]", ": 'Manager | None'"])
def test_guard_on_module_global_assigned_under_global(tmp_path: Path, annotation: str) -> None:
    """`global _manager; _manager = Manager()` in a function types the module global: a hasattr guard
    on a name Manager lacks is reported as on a local (issue 21, miss 6)."""
    code = GLOBAL_MANAGER.format(annotation=annotation, extra="", name="set_bridge_v2")
    (found,) = check_finds(tmp_path, code, ["WC301"])

    assert "hasattr(_manager, 'set_bridge_v2') is always False" in found.message
    assert "(None before)" in found.message


MIXIN = """
    class Host:
        def __init__(self) -> None:
            self.logger = None

        def emit_error(self, text): ...

    class StateMixin:
        def fail(self, text):
            self.logger.info(text)
            self.emit_error(text)
            self.set_state("failed")

        def retry(self):
            self.emit_error("again")
{combined}
"""


@pytest.mark.parametrize(
    "combined",
    [
        "",
        "\n    class Agent(StateMixin, Host):\n        def set_state(self, state): ...\n",
        "\n    class Agent(StateMixin, Host):\n        def __getattr__(self, name): ...\n",
    ],
    ids=["never combined", "combined with hosts that provide everything", "combined with a dynamic host"],
)
def test_mixin_silent(tmp_path: Path, combined: str) -> None:
    """The negative side: a mixin used nowhere (its host is elsewhere), or whose combinations provide what it uses,
    is silent, although other classes of the project define 'logger' and 'emit_error'."""
    check_silent(tmp_path, MIXIN.format(combined=combined), ["WC301"])


def test_mixin_missing_members_reported_once_per_class(tmp_path: Path) -> None:
    """A mixin combined with a host that lacks what it uses: one finding at its class line, naming every member."""
    combined = "\n    class Agent(StateMixin, Host):\n        pass\n\n    class Other(StateMixin, Host): ...\n"
    (found,) = check_finds(tmp_path, MIXIN.format(combined=combined), ["WC301"])

    assert 8 == found.location.line
    assert "StateMixin has no constructor and no base defining 'set_state' (used on self at line 12)" in found.message
    assert "StateMixin (mixin)" == found.subject


def test_mixin_lists_every_missing_member_in_one_finding(tmp_path: Path) -> None:
    """Three members missing in four uses: still one finding, listing the three in order of first use."""
    combined = "\n    class Plain:\n        def __init__(self) -> None: ...\n\n    class Job(StateMixin, Plain): ...\n"
    (found,) = check_finds(tmp_path, MIXIN.format(combined=combined), ["WC301"])

    assert "no base defining 'logger', 'emit_error', 'set_state' (used on self at line 10, 11, 12)" in found.message
