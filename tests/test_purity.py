"""The pure core imports no I/O library, so it stays fast to import and testable without a network."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CORE = (
    "findings",
    "codes",
    "config",
    "contract",
    "wires",
    "report",
    "suggest",
    "thresholds",
    "load.summary",
    "protocol",
    "learn",
    "run.recording",
    "run.identity",
    "run.request",
    "run.setup",
    "run.session",
    "run.judge",
    "run.rules",
    "boundedjson",
    "secrets",
)
"""The modules that never perform I/O (see the package layout in the style guide)."""

FORBIDDEN = ("asyncio", "websockets", "uvicorn", "rich", "typer", "starlette", "httpx")
"""Libraries the core must not import, even indirectly."""

# A fresh interpreter per module: in this process, other tests have already imported everything.
# The interpreter forks a child for each module, which starts from what it had imported before
# any of them; only what the import itself adds counts, in case site customization preloads something.
PROBE = """
import json, os, sys
forbidden = set(json.loads(sys.argv[1]))
modules = json.loads(sys.argv[2])
before = set(sys.modules)
def added_by(module):
    __import__("wiringcheck." + module)
    return sorted({name.partition(".")[0] for name in set(sys.modules) - before} & forbidden)
found = {}
for module in modules:
    if not hasattr(os, "fork"):  # then the fixture gives one module per interpreter
        found[module] = added_by(module)
        continue
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.write(write, json.dumps(added_by(module)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        found[module] = json.loads(pipe.read())
    os.waitpid(pid, 0)
print(json.dumps(found))
"""


@pytest.fixture(name="added", scope="module")
def _added() -> dict[str, list[str]]:
    """For each core module, the forbidden libraries its import added: one interpreter forking a child per module
    (an interpreter per module where there is no fork)."""
    found: dict[str, list[str]] = {}
    for modules in [CORE] if hasattr(os, "fork") else [[module] for module in CORE]:
        completed = subprocess.run(
            [sys.executable, "-c", PROBE, json.dumps(FORBIDDEN), json.dumps(modules)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        found.update(json.loads(completed.stdout))
    return found


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_io_library(module, added):
    """Importing a core module loads none of asyncio, websockets, uvicorn, rich, typer, starlette or httpx."""
    assert [] == added[module]


def test_only_the_locust_module_imports_locust_or_gevent():
    """gevent's monkey patching must never reach `run`: only wiringcheck/locust.py imports locust or gevent."""
    pattern = re.compile(r"^\s*(?:from|import)\s+(?:locust|gevent)\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "wiringcheck").rglob("*.py"))
        if path.name != "locust.py" and pattern.search(path.read_text(encoding="utf-8"))
    ]

    assert [] == offenders
