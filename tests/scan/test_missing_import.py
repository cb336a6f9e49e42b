"""WC305: ``from mod import name`` where mod is in the tree and has no such name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scan.tools import check_finds, check_silent

SILENT = {
    "name defined": {"pkg/a.py": "def f(): ...\n", "pkg/b.py": "from pkg.a import f\n"},
    "relative import": {"pkg/a.py": "X = 1\n", "pkg/b.py": "from .a import X\n"},
    "submodule": {"pkg/sub/x.py": "", "pkg/b.py": "from pkg.sub import x\n"},
    "conditional binding": {
        "pkg/a.py": "import sys\nif sys.version_info >= (3, 12):\n    def f(): ...\n",
        "pkg/b.py": "from pkg.a import f\n",
    },
    "try/except binding": {
        "pkg/a.py": "try:\n    from ujson import loads\nexcept ImportError:\n    from json import loads\n",
        "pkg/b.py": "from pkg.a import loads\n",
    },
    "module __getattr__": {
        "pkg/a.py": "def __getattr__(name):\n    return 1\n",
        "pkg/b.py": "from pkg.a import anything\n",
    },
    "star import from an external module": {
        "pkg/a.py": "from os.path import *\n",
        "pkg/b.py": "from pkg.a import join\n",
    },
    "star import from the tree": {
        "pkg/impl.py": "def helper(): ...\n",
        "pkg/a.py": "from pkg.impl import *\n",
        "pkg/b.py": "from pkg.a import helper\n",
    },
    "globals() written": {
        "pkg/a.py": "for n in ('x', 'y'):\n    globals()[n] = 1\n",
        "pkg/b.py": "from pkg.a import x\n",
    },
    "module outside the tree": {"pkg/b.py": "from json import nothing_here\n"},
    "inside try/except ImportError": {
        "pkg/a.py": "",
        "pkg/b.py": "try:\n    from pkg.a import fast\nexcept ImportError:\n    fast = None\n",
    },
    "module attributes every module has": {"pkg/a.py": "", "pkg/b.py": "from pkg.a import __doc__, __file__\n"},
    "ignore comment": {"pkg/a.py": "", "pkg/b.py": "from pkg.a import f  # wiringcheck: ignore[WC305]\n"},
}


@pytest.mark.parametrize("files", SILENT.values(), ids=SILENT.keys())
def test_silent(tmp_path: Path, files: dict[str, str]) -> None:
    """No WC305 when the name exists or may exist."""
    check_silent(tmp_path, files, ["WC305"])


def test_silent_on_a_module_with_a_syntax_error(tmp_path: Path) -> None:
    """Importing from a file that does not parse reports only that file, as skipped."""
    check_finds(tmp_path, {"pkg/a.py": "def (:\n", "pkg/b.py": "from pkg.a import f\n"}, ["WC300"])


def test_renamed_function_in_lazy_import(tmp_path: Path) -> None:
    """A lazy import inside a function that still asks for the old name is reported, with a did-you-mean."""
    files = {
        "pkg/startup.py": "def install_registry_v2(app): ...\n",
        "pkg/app.py": """
            def create_app():
                from pkg.startup import install_registry
                return install_registry
        """,
    }
    (found,) = check_finds(tmp_path, files, ["WC305"])

    assert "pkg/app.py:3:29" == str(found.location)
    assert "did you mean 'install_registry_v2'?" in found.message


def test_star_import_without_the_name(tmp_path: Path) -> None:
    """A star import whose source (in the tree) lacks the name does not hide the error."""
    files = {
        "pkg/impl.py": "__all__ = ['helper']\ndef helper(): ...\ndef hidden(): ...\n",
        "pkg/a.py": "from pkg.impl import *\n",
        "pkg/b.py": "from pkg.a import hidden\n",
    }
    check_finds(tmp_path, files, ["WC305"])


def test_missing_name_under_type_checking(tmp_path: Path) -> None:
    """A TYPE_CHECKING import of a name the package does not export is reported, with its consequence."""
    files = {
        "pkg/agents/__init__.py": "",
        "pkg/agents/supervisor.py": "class Supervisor: ...\n",
        "pkg/b.py": """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from pkg.agents import Supervisor
            def wire(s: "Supervisor"): ...
        """,
    }
    (found,) = check_finds(tmp_path, files, ["WC305"])

    assert "under TYPE_CHECKING never runs, but every annotation naming 'Supervisor' names nothing" in found.message


def test_a_handler_that_reraises_does_not_make_the_import_optional(tmp_path: Path) -> None:
    """`except ImportError: raise StartupError(...)` still fails at start-up: the import is reported."""
    files = {
        "pkg/a.py": "",
        "pkg/b.py": """
            class StartupError(Exception): ...
            try:
                from pkg.a import fast
            except ImportError as error:
                raise StartupError("install the extra") from error
        """,
    }
    check_finds(tmp_path, files, ["WC305"])


@pytest.mark.parametrize(
    "init",
    [
        "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n",
        "import pkgutil\n__path__ = pkgutil.extend_path(__path__, __name__)\n",
        "__path__ += ['elsewhere']\n",
    ],
)
def test_package_extending_its_path_may_have_any_submodule(tmp_path: Path, init: str) -> None:
    """A package that extends `__path__` gets submodules from other distributions (openhands.tools): silent."""
    files = {"ns/__init__.py": init, "ns/app.py": "from ns import tools\n"}
    check_silent(tmp_path, files, ["WC305"])


def test_package_without_path_extension_lacks_the_submodule(tmp_path: Path) -> None:
    """The same import from an ordinary package is reported."""
    files = {"ns/__init__.py": "VERSION = 1\n", "ns/app.py": "from ns import tools\n"}
    check_finds(tmp_path, files, ["WC305"])


def test_module_getattr_assigned_rather_than_defined(tmp_path: Path) -> None:
    """`__getattr__ = getattr_migration(__name__)` (pydantic's moved names) answers any name: silent."""
    files = {
        "pkg/json.py": "from pkg._migration import getattr_migration\n\n__getattr__ = getattr_migration(__name__)\n",
        "pkg/_migration.py": "def getattr_migration(module):\n    return lambda name: None\n",
        "pkg/app.py": "from pkg.json import pydantic_encoder\n",
    }
    check_silent(tmp_path, files, ["WC305"])
