"""An ASGI app served by uvicorn on a free loopback port, on a thread of the test process."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

from .conftest import MS


@contextlib.contextmanager
def served(app: Any) -> Iterator[int]:
    """Serve `app` (started with its lifespan) until the block ends; yields the port it listens on."""
    import uvicorn

    # log_config=None: uvicorn's own logging config would stop its loggers' records reaching root for later tests.
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="served-app", daemon=True)
    thread.start()
    give_up = time.monotonic() + 10_000 * MS
    while not server.started and thread.is_alive() and time.monotonic() < give_up:
        time.sleep(5 * MS)
    assert server.started, "uvicorn did not start"
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10_000 * MS)
