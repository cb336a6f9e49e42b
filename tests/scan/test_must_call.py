"""WC306: a method the configuration says startup must call is never called by the startup modules."""

from __future__ import annotations

from pathlib import Path

from tests.scan.tools import check_finds, check_silent
from wiringcheck.config import RoleSpec

REGISTRY = """
    class Registry:
        def set_websocket_manager(self, manager): ...
        def set_websocket_bridge(self, bridge): ...
"""
ROLES = {"registry": RoleSpec("registry", "state.registry", "app.registry:Registry")}
OPTIONS = {"roles": ROLES, "must_call": ["registry.set_websocket_manager"], "startup_modules": ["app.main:create_app"]}


def test_silent_when_called_in_the_target_module(tmp_path: Path) -> None:
    """A call in the app's own module satisfies must_call."""
    files = {
        "app/registry.py": REGISTRY,
        "app/main.py": """
            from app.registry import Registry
            def create_app(manager):
                registry = Registry()
                registry.set_websocket_manager(manager)
        """,
    }
    check_silent(tmp_path, files, ["WC306"], **OPTIONS)


def test_silent_when_called_in_an_imported_module(tmp_path: Path) -> None:
    """A call in a scanned module the app imports (lazily, too) satisfies must_call."""
    files = {
        "app/registry.py": REGISTRY,
        "app/wiring.py": """
            def wire(app):
                app.state.registry.set_websocket_manager(app.state.manager)
        """,
        "app/main.py": """
            def create_app():
                from app.wiring import wire
                return wire
        """,
    }
    check_silent(tmp_path, files, ["WC306"], **OPTIONS)


def test_silent_when_the_receiver_is_unknown(tmp_path: Path) -> None:
    """A receiver the scan cannot type counts: it is not known to be another class."""
    files = {
        "app/registry.py": REGISTRY,
        "app/main.py": "def create_app(thing):\n    thing.set_websocket_manager(1)\n",
    }
    check_silent(tmp_path, files, ["WC306"], **OPTIONS)


def test_silent_when_the_target_module_is_not_scanned(tmp_path: Path) -> None:
    """Scanning other files does not judge the startup code."""
    files = {"app/registry.py": REGISTRY, "app/main.py": "def create_app():\n    pass\n"}
    check_silent(tmp_path, files, ["WC306"], paths=["app/registry.py"], **OPTIONS)


def test_call_on_another_class_does_not_count(tmp_path: Path) -> None:
    """A same-named method called on an object known to be another class does not satisfy it."""
    files = {
        "app/registry.py": REGISTRY,
        "app/main.py": """
            class Cache:
                def set_websocket_manager(self, m): ...
            def create_app(manager):
                Cache().set_websocket_manager(manager)
        """,
    }
    check_finds(tmp_path, files, ["WC306"], **OPTIONS)


def test_legacy_setter_is_named(tmp_path: Path) -> None:
    """The legacy_setter shape: startup calls the old setter; the finding names it."""
    files = {
        "app/registry.py": REGISTRY,
        "app/main.py": """
            from app.registry import Registry
            def create_app(bridge):
                registry = Registry()
                if hasattr(registry, "set_websocket_bridge"):
                    registry.set_websocket_bridge(bridge)
        """,
    }
    (found,) = check_finds(tmp_path, files, ["WC306"], **OPTIONS)

    assert "app/main.py:3:1" == str(found.location)
    assert "it calls registry.set_websocket_bridge() at app/main.py:6 instead" in found.message
