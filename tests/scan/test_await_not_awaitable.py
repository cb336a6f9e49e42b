"""WC303: ``await f(...)`` where f is a plain function that returns no awaitable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scan.tools import check_finds, check_silent

SILENT = {
    "awaiting an async def": """
        async def f(): ...
        async def g():
            await f()
    """,
    "plain def returning a call result (maybe a coroutine)": """
        import asyncio
        def f():
            return asyncio.sleep(0)
        async def g():
            await f()
    """,
    "plain def annotated to return an Awaitable": """
        from collections.abc import Awaitable
        def f() -> Awaitable[None]: ...
        async def g():
            await f()
    """,
    "plain def annotated with an unknown class": """
        from asyncio import Future
        def f() -> Future: ...
        async def g():
            await f()
    """,
    "plain def returning a class with __await__": """
        class Waiter:
            def __await__(self):
                yield
        def f() -> Waiter:
            return Waiter()
        async def g():
            await f()
    """,
    "decorated plain def": """
        import types
        @types.coroutine
        def f():
            yield
        async def g():
            await f()
    """,
    "generator function": """
        def f():
            yield 1
        async def g():
            await f()
    """,
    "override in a subclass is async": """
        class Base:
            def run(self) -> None: ...
        class Impl(Base):
            async def run(self) -> None: ...
        async def g(b: Base):
            await b.run()
    """,
    "unknown callee": """
        async def g(x):
            await x.run()
    """,
    "returns a class with __await__, unannotated": """
        class Waiter:
            def __await__(self):
                yield
        def f():
            return Waiter()
        async def g():
            await f()
    """,
    "returns a new object or something else": """
        import asyncio
        class Manager: ...
        def f(fast):
            if fast:
                return Manager()
            return asyncio.sleep(0)
        async def g():
            await f(True)
    """,
    "returns the call of a local": """
        class Manager: ...
        def f(factory):
            return factory()
        async def g():
            await f(Manager)
    """,
    "inside pytest.raises(TypeError)": """
        import pytest
        def f() -> None: ...
        async def test():
            with pytest.raises(TypeError):
                await f()
    """,
}


@pytest.mark.parametrize("code", SILENT.values(), ids=SILENT.keys())
def test_silent(tmp_path: Path, code: str) -> None:
    """No WC303 unless the callee surely returns something that is not awaitable."""
    check_silent(tmp_path, code, ["WC303"])


@pytest.mark.parametrize(
    "definition",
    [
        "def set_manager(self, m) -> None: ...",
        "def set_manager(self, m):\n                self.m = m",
        "def set_manager(self, m) -> int:\n                return 1",
        "def set_manager(self, m):\n                return 'done'",
        "def set_manager(self, m):\n                if m:\n                    return Registry()\n"
        "                return Registry()",
    ],
    ids=["annotated-None", "no-return", "annotated-int", "returns-literal", "returns-new-objects"],
)
def test_finds(tmp_path: Path, definition: str) -> None:
    """Awaiting a plain method that returns nothing awaitable is reported."""
    code = f"""
        class Registry:
            {definition}
        async def wire(r: Registry):
            await r.set_manager(1)
    """
    (found,) = check_finds(tmp_path, code, ["WC303"])

    assert "Registry.set_manager is a plain def" in found.message


OPTIONAL_SILENT = {
    "an Optional of an awaitable class": """
        from typing import Optional
        class Waiter:
            def __await__(self):
                yield
        def f() -> Optional[Waiter]: ...
        async def g():
            await f()
    """,
    "an Optional of an unknown class": """
        from asyncio import Future
        def f() -> Future | None: ...
        async def g():
            await f()
    """,
    "a union of two classes": """
        class A: ...
        class B: ...
        def f() -> A | B: ...
        async def g():
            await f()
    """,
}


@pytest.mark.parametrize("code", OPTIONAL_SILENT.values(), ids=OPTIONAL_SILENT.keys())
def test_optional_return_that_may_be_awaitable_is_silent(tmp_path: Path, code: str) -> None:
    """The negative side: `X | None` where X may be awaitable, or a union of two classes, stays silent."""
    check_silent(tmp_path, code, ["WC303"])


@pytest.mark.parametrize(
    "annotation", ["Optional[Manager]", "Manager | None", "'Manager | None'", "Union[None, Manager]"]
)
def test_optional_return_of_a_plain_class_is_not_awaitable(tmp_path: Path, annotation: str) -> None:
    """`await get_manager()` where the plain def returns `Manager | None`: neither can be awaited (miss 4)."""
    code = f"""
        from typing import Optional, Union
        class Manager:
            def send(self): ...
        def get_manager() -> {annotation}:
            return None
        async def g():
            await get_manager()
    """
    (found,) = check_finds(tmp_path, code, ["WC303"])

    assert "returns a Manager or None, so the await raises TypeError" in found.message
