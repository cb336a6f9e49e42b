"""wiringcheck: boot an agent backend, check its startup wiring, and probe its WebSocket events.

The public API is small: `run` a check from `Settings`, read the `Report`, its
`CheckResult`s and their `Finding`s.  Everything else is internal and may change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["CheckResult", "Finding", "Report", "Settings", "Status", "load_settings", "run", "run_async"]

if TYPE_CHECKING:
    from wiringcheck.config import Settings, load_settings
    from wiringcheck.findings import CheckResult, Finding, Status
    from wiringcheck.report import Report
    from wiringcheck.runner import run, run_async

_LAZY = {
    "Settings": "wiringcheck.config",
    "load_settings": "wiringcheck.config",
    "CheckResult": "wiringcheck.findings",
    "Finding": "wiringcheck.findings",
    "Status": "wiringcheck.findings",
    "Report": "wiringcheck.report",
    "run": "wiringcheck.runner",
    "run_async": "wiringcheck.runner",
}


def __getattr__(name: str) -> Any:
    # Lazy, so that the pytest plugin and `wiringcheck --help` import nothing they do not use.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'wiringcheck' has no attribute {name!r}")
