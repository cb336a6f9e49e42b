"""WC308: a coroutine stored and then used as the result, or returned where a plain type is declared."""

from __future__ import annotations

from pathlib import Path

import pytest

from .tools import check_finds, check_silent

REGISTRY = """
    class Manager:
        def close(self): ...

    class Registry:
        async def connect(self) -> bool: ...
        async def build_manager(self) -> Manager: ...
"""

SILENT = {
    "stored then awaited": """
        async def wire(r: Registry):
            pending = r.connect()
            result = await pending
            if not result:
                return
    """,
    "stored and handed to a call": """
        import asyncio
        async def wire(r: Registry):
            pending = r.connect()
            task = asyncio.create_task(pending)
            if not task.done():
                return
    """,
    "bound twice": """
        async def wire(r: Registry, fast):
            result = r.connect()
            if fast:
                result = True
            if not result:
                return
    """,
    "returned from an async def without a declared type": """
        def get(r: Registry):
            return r.build_manager()
    """,
    "returned where an Awaitable is declared": """
        from collections.abc import Awaitable
        def get(r: Registry) -> Awaitable[Manager]:
            return r.build_manager()
    """,
    "returned awaited": """
        async def get(r: Registry) -> Manager:
            return await r.build_manager()
    """,
    "returned with a type: ignore": """
        def get(r: Registry) -> Manager:
            return r.build_manager()  # type: ignore[return-value]
    """,
    "plain def returned": """
        class Plain:
            def make(self) -> Manager: ...
        def get(p: Plain) -> Manager:
            return p.make()
    """,
}


@pytest.mark.parametrize("code", SILENT.values(), ids=SILENT.keys())
def test_silent(tmp_path: Path, code: str) -> None:
    """No WC308 while the coroutine may still be awaited, or nothing declares a plain type."""
    check_silent(tmp_path, REGISTRY + code, ["WC308"])


@pytest.mark.parametrize(
    ("use", "how"),
    [
        ("if not result:\n                return", "here the coroutine is tested for truth"),
        ("assert result", "here the coroutine is tested for truth"),
        ("return result.value", "'.value' is read on the coroutine"),
        ("ok = result and 1", "tested for truth"),
    ],
)
def test_stored_coroutine_used_as_the_result(tmp_path: Path, use: str, how: str) -> None:
    """`result = coro(); if not result:` is reported at the use, with the assignment's line."""
    code = f"""
        async def wire(r: Registry):
            result = r.connect()
            {use}
    """
    (found,) = check_finds(tmp_path, REGISTRY + code, ["WC308"])

    assert "result = Registry.connect(...) at line 10 stores a coroutine" in found.message
    assert how in found.message
    assert "result = await r.connect()" in found.hint


@pytest.mark.parametrize(
    "body",
    ["return r.build_manager()", "manager = r.build_manager()\n            return manager"],
    ids=["direct", "through a local"],
)
def test_coroutine_returned_where_a_plain_type_is_declared(tmp_path: Path, body: str) -> None:
    """A plain def declared `-> Manager` that returns an async call's coroutine is reported."""
    code = f"""
        def get_manager(r: Registry) -> Manager:
            {body}
    """
    (found,) = check_finds(tmp_path, REGISTRY + code, ["WC308"])

    assert "get_manager() is declared to return Manager but returns the coroutine of" in found.message
    assert "make get_manager an async def" in found.hint


PROTOCOL_SILENT = {
    "an async def returning the coroutine's result": """
        from typing import Protocol
        class Sender(Protocol):
            def send(self, data: bytes) -> None: ...
        async def connect() -> Sender: ...
        async def make() -> Sender:
            return await connect()
    """,
    "a Protocol that is awaitable": """
        from typing import Protocol
        class Pending(Protocol):
            def __await__(self): ...
        async def connect() -> Pending: ...
        def make() -> Pending:
            return connect()
    """,
    "a Protocol deriving from a class outside the project": """
        from typing import Protocol
        from somewhere import Base
        class Sender(Base, Protocol):
            def send(self, data: bytes) -> None: ...
        async def connect() -> Sender: ...
        def make() -> Sender:
            return connect()
    """,
}


@pytest.mark.parametrize("code", PROTOCOL_SILENT.values(), ids=PROTOCOL_SILENT.keys())
def test_protocol_return_silent(tmp_path: Path, code: str) -> None:
    """The negative side: the result awaited, an awaitable Protocol, a Protocol with an unknown base."""
    check_silent(tmp_path, code, ["WC308"])


def test_plain_def_declared_to_return_a_protocol_returns_a_coroutine(tmp_path: Path) -> None:
    """`def make() -> Sender` (a typing.Protocol) returning the coroutine of an async def (miss 3)."""
    code = """
        from typing import Protocol
        class Sender(Protocol):
            def send(self, data: bytes) -> None: ...
        async def connect() -> Sender: ...
        def make() -> Sender:
            return connect()
    """
    (found,) = check_finds(tmp_path, code, ["WC308"])

    assert "make() is declared to return Sender but returns the coroutine of connect()" in found.message
