"""WC302: a call whose arguments do not fit the resolved callee's signature."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scan.tools import check_finds, check_silent, scan

SILENT = {
    "positional and keyword arguments that fit": """
        def f(a, b, c=1, *, d, e=2): ...
        def g():
            f(1, 2, d=4)
            f(1, b=2, c=3, d=4, e=5)
    """,
    "bound method skips self": """
        class A:
            def m(self, x): ...
        def g(a: A):
            a.m(1)
    """,
    "method called through the class passes self": """
        class A:
            def m(self, x): ...
        def g(a: A):
            A.m(a, 1)
    """,
    "classmethod through class and instance": """
        class A:
            @classmethod
            def make(cls, x): ...
        def g(a: A):
            A.make(1)
            a.make(2)
    """,
    "staticmethod": """
        class A:
            @staticmethod
            def util(x, y): ...
        def g(a: A):
            A.util(1, 2)
            a.util(1, 2)
    """,
    "*args and **kwargs accept anything": """
        def f(a, *args, **kwargs): ...
        def g():
            f(1, 2, 3, x=4)
    """,
    "call with *splat": """
        def f(a): ...
        def g(items):
            f(*items)
    """,
    "call with **splat": """
        def f(a): ...
        def g(options):
            f(**options)
    """,
    "unknown decorator": """
        import functools
        def deco(fn): return fn
        @deco
        def f(a): ...
        def g():
            f(1, 2, 3)
    """,
    "functools.wraps-style decorator on a method": """
        def retry(fn): return fn
        class A:
            @retry
            def m(self, x): ...
        def g(a: A):
            a.m()
    """,
    "overloads": """
        from typing import overload
        class A:
            @overload
            def m(self, x: int) -> int: ...
            @overload
            def m(self, x: str) -> str: ...
            def m(self, x): return x
        def g(a: A):
            a.m(1, 2)
    """,
    "constructor of a dataclass": """
        from dataclasses import dataclass
        @dataclass
        class P:
            x: int
        def g():
            P(1, 2, 3)
    """,
    "constructor with __new__": """
        class P:
            def __new__(cls, *a): return object.__new__(cls)
            def __init__(self, x): ...
        def g():
            P(1, 2)
    """,
    "constructor of a class with an external base": """
        class E(Exception):
            pass
        def g():
            E("a", "b", "c")
    """,
    "override in a known subclass accepts the call": """
        class Base:
            def run(self, x): ...
        class Impl(Base):
            def run(self, x, y=None): ...
        def g(b: Base):
            b.run(1, 2)
    """,
    "positional-only parameters": """
        def f(a, b, /, c): ...
        def g():
            f(1, 2, c=3)
    """,
    "inside with pytest.raises(TypeError)": """
        import pytest
        def f(a): ...
        def test():
            with pytest.raises(TypeError):
                f()
    """,
    "inside try/except TypeError": """
        def f(a): ...
        def g():
            try:
                f()
            except TypeError:
                pass
    """,
    "callee bound in two ways": """
        def f(a): ...
        def h(a, b): ...
        def g(flag):
            fn = f
            if flag:
                fn = h
            fn(1, 2)
    """,
    "function defined twice": """
        import sys
        if sys.version_info >= (3, 12):
            def f(a, b): ...
        else:
            def f(a): ...
        def g():
            f(1, 2)
    """,
    "branch for another version of a dependency": """
        import sys
        def f(a, b): ...
        def g():
            if sys.version_info >= (3, 12):
                f(1, 2)
            else:
                f(1)
    """,
    "super() calls": """
        class A:
            def __init__(self, x): ...
        class B(A):
            def __init__(self):
                super().__init__(1)
    """,
}


@pytest.mark.parametrize("code", SILENT.values(), ids=SILENT.keys())
def test_silent(tmp_path: Path, code: str) -> None:
    """No WC302 where the call fits, or the callee's signature is not certain."""
    check_silent(tmp_path, code, ["WC302"])


@pytest.mark.parametrize(
    ("call", "problem", "column"),
    [
        ("r.set_manager(1, 2)", "takes 1 positional argument but 2 were given", 5),
        ("r.set_manager()", "missing 1 required positional argument: 'manager'", 5),
        ("r.set_manager(1, strct=True)", "unexpected keyword argument 'strct' (did you mean 'strict'?)", 22),
        ("r.set_manager(1, manager=2)", "got multiple values for argument 'manager'", 22),
        ("r.connect(1)", "missing 1 required keyword-only argument: 'timeout'", 5),
        ("r.only(x=1)", "positional-only argument 'x' passed as keyword", 12),
    ],
)
def test_finds(tmp_path: Path, call: str, problem: str, column: int) -> None:
    """Each kind of misfit is reported with the callee's signature, a wrong keyword at the keyword."""
    code = f"""
        class Registry:
            def set_manager(self, manager, *, strict=False): ...
            def connect(self, url, *, timeout): ...
            def only(self, x, /): ...
        def wire(r: Registry):
            {call}
    """
    (found,) = check_finds(tmp_path, code, ["WC302"])

    assert problem in found.message
    assert f"pkg/mod.py:7:{column}" == str(found.location)


def test_a_wrong_keyword_on_its_own_line(tmp_path: Path) -> None:
    """In a call written over several lines, the finding points at the wrong keyword's line."""
    code = """
        class Registry:
            def set_manager(self, manager, *, strict=False): ...
        def wire(r: Registry):
            r.set_manager(
                1,
                strict=True,
                stirct=False,
            )
    """
    (found,) = check_finds(tmp_path, code, ["WC302"])

    assert "pkg/mod.py:8:9" == str(found.location)


def test_constructor(tmp_path: Path) -> None:
    """A class call is checked against __init__, across modules."""
    files = {
        "pkg/registry.py": """
            class Registry:
                def __init__(self, bridge): ...
        """,
        "pkg/app.py": """
            from pkg.registry import Registry
            def build():
                return Registry()
        """,
    }
    (found,) = check_finds(tmp_path, files, ["WC302"])

    assert "Registry() missing 1 required positional argument: 'bridge'" in found.message


def test_signature_drift_across_modules(tmp_path: Path) -> None:
    """A setter that gained a parameter is reported at its old caller elsewhere."""
    files = {
        "pkg/registry.py": """
            class Registry:
                def set_websocket_manager(self, manager, bridge): ...
        """,
        "pkg/startup.py": """
            from pkg.registry import Registry
            async def phase_wire(app):
                registry: Registry = app.state.registry
                registry.set_websocket_manager(app.state.manager)
        """,
    }
    (found,) = check_finds(tmp_path, files, ["WC302"])

    assert "def set_websocket_manager(manager, bridge) at pkg/registry.py:3" in found.message


def _type_checking_files(imported: str, call: str) -> dict[str, str]:
    return {
        "app/agents/__init__.py": "from app.agents.registry import Registry\n\n__all__ = ['Registry']\n",
        "app/agents/registry.py": "class Registry:\n    def find(self, name): ...\n",
        "app/agents/supervisor.py": "class Supervisor:\n    def status(self, verbose=False): ...\n",
        "app/routes.py": f"""
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from {imported} import Supervisor

            def summarize(supervisor: "Supervisor") -> None:
                {call}
        """,
    }


@pytest.mark.parametrize(
    ("imported", "call"),
    [
        ("app.agents", "supervisor.status(True)"),
        ("app.agents.supervisor", "supervisor.status(True)"),
        ("app.agents.registry", "supervisor.status(True, 2)"),
    ],
    ids=["a correct call through the unexported name", "the right import", "no such class below the module"],
)
def test_type_checking_import_of_unexported_name_silent(tmp_path: Path, imported: str, call: str) -> None:
    """The negative side: a correct call stays silent, and an import the package cannot mean stays unknown."""
    found = scan(tmp_path, _type_checking_files(imported, call)).findings

    assert [] == [f.oneline() for f in found if f.code == "WC302"]


def test_type_checking_import_of_unexported_name_still_types_the_calls(tmp_path: Path) -> None:
    """`from app.agents import Supervisor` under TYPE_CHECKING, which app.agents does not export: WC305 on the
    import, and the arity error on the call it types (issue 21, miss 2)."""
    found = check_finds(tmp_path, _type_checking_files("app.agents", "supervisor.status(True, 2)"), ["WC305", "WC302"])

    assert "Supervisor.status() takes 1 positional argument but 2 were given" in found[1].message


def test_type_checking_import_of_a_name_two_submodules_define_stays_unknown(tmp_path: Path) -> None:
    """Two classes of that name below the package: which one was meant is unknown, so the call is not judged."""
    files = _type_checking_files("app.agents", "supervisor.status(True, 2)")
    files["app/agents/legacy.py"] = "class Supervisor:\n    def status(self, a, b): ...\n"
    found = scan(tmp_path, files).findings

    assert ["WC305"] == [f.code for f in found]


DATACLASS_SILENT = {
    "a field by keyword": "Config(host='h', timeout=1)",
    "a field of a dataclass base": "Config(host='h', retries=2)",
    "an InitVar and a field(init=False) name": "Config(host='h', secret='s', cache={})",
    "positional arguments (not judged)": "Config('h', 1, 2, 3)",
    "a splat": "Config(**options)",
}


def _dataclass_code(call: str, *, init: str = "") -> str:
    return f"""
        from dataclasses import InitVar, dataclass, field

        @dataclass
        class Base:
            retries: int = 0

        @dataclass{init}
        class Config(Base):
            host: str = ""
            timeout: float = 1.0
            secret: InitVar[str] = ""
            cache: dict = field(default_factory=dict, init=False)

        def build(options):
            return {call}
    """


@pytest.mark.parametrize("call", DATACLASS_SILENT.values(), ids=DATACLASS_SILENT.keys())
def test_dataclass_keywords_silent(tmp_path: Path, call: str) -> None:
    """The negative side: fields, a base's field, InitVar, positional arguments and splats stay silent."""
    check_silent(tmp_path, _dataclass_code(call), ["WC302"])


@pytest.mark.parametrize(
    "code",
    [
        _dataclass_code("Config(timeout_s=1)", init="(init=False)"),
        _dataclass_code("Config(timeout_s=1)").replace(
            "            cache: dict", "            def __init__(self, **kw): ...\n            cache: dict"
        ),
    ],
    ids=["init=False", "a hand-written __init__"],
)
def test_dataclass_without_generated_init_silent(tmp_path: Path, code: str) -> None:
    """A dataclass whose __init__ is not generated is not judged by its fields."""
    check_silent(tmp_path, code, ["WC302"])


def test_dataclass_renamed_field_passed_by_keyword(tmp_path: Path) -> None:
    """`Config(timeout_s=1)` after the field was renamed `timeout` (issue 21, miss 5)."""
    (found,) = check_finds(tmp_path, _dataclass_code("Config(host='h', timeout_s=1)"), ["WC302"])

    assert "Config() got an unexpected keyword argument 'timeout_s' (did you mean 'timeout'?)" in found.message
    assert "Config()" == found.subject


@pytest.mark.parametrize(
    ("comment", "codes"),
    [
        ("  # type: ignore[attr-defined]", ["WC302", "WC302"]),
        ("  # type: ignore[call-arg]", []),
        ("  # type: ignore", []),
    ],
    ids=["another error code", "call-arg", "bare"],
)
def test_type_ignore_for_call_arguments_silences(tmp_path: Path, comment: str, codes: list[str]) -> None:
    """A call whose first line tells the type checker to ignore a call-argument error (code written for
    another version of a dependency: anyio's CallSpec for pytest 7) is not reported; another code is."""
    code = f"""
        from dataclasses import dataclass

        @dataclass
        class CallSpec:
            params: dict

        def old(a): ...

        def build():
            CallSpec(funcargs={{}}){comment}
            old(1, 2){comment}
    """
    found = scan(tmp_path, code).findings

    assert codes == [f.code for f in found]
