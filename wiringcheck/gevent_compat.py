"""What a gevent process needs before wiringcheck's clients run in it (the Locust user).

gevent's monkey patching removes ``select.epoll``.  httpcore (under httpx, which runs the
setup steps) imports trio when trio is installed, and trio's import then fails with an
AttributeError that httpcore does not expect, so the first setup step of the first user
would end the whole Locust process.  httpcore works without trio: when trio cannot be
imported here, it is hidden, for this process only.
"""

from __future__ import annotations

import sys

__all__ = ["import_httpcore"]


def import_httpcore() -> None:
    """Import httpcore now, hiding trio from it when trio cannot be imported under gevent."""
    try:
        import httpcore
    except AttributeError:
        for name in [name for name in sys.modules if name == "trio" or name.startswith(("trio.", "httpcore"))]:
            del sys.modules[name]
        sys.modules["trio"] = None  # type: ignore[assignment]  # `import trio` now raises ImportError
        import httpcore  # noqa: F401
