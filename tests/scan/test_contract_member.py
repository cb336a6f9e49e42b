"""WC307: a contract member of a configured role is missing on the role's class."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scan.tools import check_finds, check_silent
from wiringcheck.config import RoleSpec

CLASS = """
    class Base:
        def __init__(self):
            self.websocket_manager = None
    class Bridge(Base):
        async def notify_agent_started(self, run_id, agent_name, context=None): ...
        def attach_manager(self, m): ...
"""


@pytest.mark.parametrize(
    "members",
    [
        ("async notify_agent_started(run_id, agent_name, context=None)",),
        ("websocket_manager",),
        ("attach_manager(m)",),
    ],
)
def test_silent(tmp_path: Path, members: tuple[str, ...]) -> None:
    """Members defined on the class, a base, or assigned in a method satisfy the contract."""
    roles = {"bridge": RoleSpec("bridge", "state.bridge", "pkg.mod:Bridge", members)}
    check_silent(tmp_path, CLASS, ["WC307"], roles=roles)


def test_silent_when_the_class_is_dynamic(tmp_path: Path) -> None:
    """A class with __getattr__ may provide any member: silent."""
    code = "class Bridge:\n    def __getattr__(self, name): ...\n"
    roles = {"bridge": RoleSpec("bridge", "state.bridge", "pkg.mod:Bridge", ("anything",))}
    check_silent(tmp_path, code, ["WC307"], roles=roles)


def test_silent_when_the_class_is_not_in_the_tree(tmp_path: Path) -> None:
    """A class reference the index cannot find is the run's business (WC201), not the scan's."""
    roles = {"bridge": RoleSpec("bridge", "state.bridge", "elsewhere.mod:Bridge", ("anything",))}
    check_silent(tmp_path, CLASS, ["WC307"], roles=roles)


def test_missing_member(tmp_path: Path) -> None:
    """A member the class lacks is reported at the class, with a did-you-mean."""
    roles = {"bridge": RoleSpec("bridge", "state.bridge", "pkg.mod:Bridge", ("attach_manger(m)",))}
    (found,) = check_finds(tmp_path, CLASS, ["WC307"], roles=roles)

    assert "pkg/mod.py:5:1" == str(found.location)
    assert "bridge.attach_manger" == found.subject
    assert "did you mean 'attach_manager'?" in found.message
