"""The pure core imports no I/O library, so it stays fast to import and testable without a network."""

from __future__ import annotations

import json
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
# Only what the import itself adds counts, in case site customization preloads something.
PROBE = """
import json, sys
before = set(sys.modules)
import wiringcheck.{module}
added = {{name.partition(".")[0] for name in set(sys.modules) - before}}
print(json.dumps(sorted(added & set({forbidden!r}))))
"""


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_io_library(module):
    """Importing a core module loads none of asyncio, websockets, uvicorn, rich, typer, starlette or httpx."""
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module, forbidden=FORBIDDEN)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr

    assert [] == json.loads(completed.stdout)


def test_only_the_locust_module_imports_locust_or_gevent():
    """gevent's monkey patching must never reach `run`: only wiringcheck/locust.py imports locust or gevent."""
    pattern = re.compile(r"^\s*(?:from|import)\s+(?:locust|gevent)\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "wiringcheck").rglob("*.py"))
        if path.name != "locust.py" and pattern.search(path.read_text(encoding="utf-8"))
    ]

    assert [] == offenders
