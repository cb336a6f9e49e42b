"""WC302: a call whose arguments do not fit the resolved callee's signature."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scan.tools import check_finds, check_silent

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
