"""WC304: a call of an async def whose coroutine is never awaited."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scan.tools import check_finds, check_silent

HEADER = """
import asyncio
class Registry:
    async def set_manager(self, m) -> bool: ...
    async def events(self):
        yield 1
"""

SILENT = {
    "awaited": "await r.set_manager(1)",
    "returned": "return r.set_manager(1)",
    "assigned, awaited later": "coro = r.set_manager(1)\n    await coro",
    "create_task": "asyncio.create_task(r.set_manager(1))",
    "gather": "await asyncio.gather(r.set_manager(1), r.set_manager(2))",
    "ensure_future": "asyncio.ensure_future(r.set_manager(1))",
    "wait_for": "await asyncio.wait_for(r.set_manager(1), 1)",
    "TaskGroup.create_task": "async with asyncio.TaskGroup() as tg:\n        tg.create_task(r.set_manager(1))",
    "asyncio.run": "asyncio.run(r.set_manager(1))",
    "run_until_complete": "asyncio.get_event_loop().run_until_complete(r.set_manager(1))",
    "passed to a user wrapper": "spawn(r.set_manager(1))",
    "yielded": "yield r.set_manager(1)",
    "lambda returns it": "fn = lambda: r.set_manager(1)",
    "async generator needs no await": "agen = r.events()\n    r.events()",
    "coroutine method .close()": "r.set_manager(1).close()",
    "__await__ on the coroutine": "return r.set_manager(1).__await__()",
    "unknown receiver": "other.set_manager(1)",
}


@pytest.mark.parametrize("body", SILENT.values(), ids=SILENT.keys())
def test_silent(tmp_path: Path, body: str) -> None:
    """No WC304 when the coroutine is awaited, kept, returned or handed to another call."""
    code = HEADER + f"\nasync def wire(r: Registry, other, spawn):\n    {body}\n"
    check_silent(tmp_path, code, ["WC304"])


def test_silent_when_decorated(tmp_path: Path) -> None:
    """A decorated async def may be wrapped into something that runs itself: silent."""
    code = """
        def background(fn): return fn
        class Registry:
            @background
            async def refresh(self): ...
        def wire(r: Registry):
            r.refresh()
    """
    check_silent(tmp_path, code, ["WC304"])


def test_silent_when_an_override_is_plain(tmp_path: Path) -> None:
    """When a known subclass overrides with a plain def, the receiver may be that: silent."""
    code = """
        class Base:
            async def close(self): ...
        class Sync(Base):
            def close(self): ...
        def wire(b: Base):
            b.close()
    """
    check_silent(tmp_path, code, ["WC304"])


@pytest.mark.parametrize(
    ("body", "how"),
    [
        ("r.set_manager(1)", "dropped on the floor"),
        ("if r.set_manager(1):\n        pass", "tested for truth"),
        ("ok = not r.set_manager(1)", "tested for truth"),
        ("ok = r.set_manager(1) and True", "tested for truth"),
        ("x = r.set_manager(1).value", "'.value' is read on the coroutine"),
        ("x = r.set_manager(1)[0]", "subscripted"),
        ("for x in r.set_manager(1):\n        pass", "iterated"),
        ("print(r.set_manager(1))", "passed to print()"),
        ("x = f'{r.set_manager(1)}'", "formatted into a string"),
        ("assert r.set_manager(1)", "tested for truth"),
    ],
)
def test_finds(tmp_path: Path, body: str, how: str) -> None:
    """Each misuse of the coroutine is reported and named."""
    code = HEADER + f"\nasync def wire(r: Registry):\n    {body}\n"
    (found,) = check_finds(tmp_path, code, ["WC304"])

    assert how in found.message
    assert "Registry.set_manager() is an async def" in found.message


def test_sync_setter_made_async_across_modules(tmp_path: Path) -> None:
    """The unawaited_setter shape: a setter made async, still called without await elsewhere."""
    files = {
        "pkg/registry.py": """
            class Registry:
                async def set_websocket_manager(self, manager) -> None: ...
        """,
        "pkg/startup.py": """
            from pkg.registry import Registry
            async def phase_wire(app):
                registry: Registry = app.state.registry
                registry.set_websocket_manager(app.state.manager)
        """,
    }
    (found,) = check_finds(tmp_path, files, ["WC304"])

    assert "pkg/startup.py:5:5" == str(found.location)
