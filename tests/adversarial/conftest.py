"""Fixtures of the adversarial suite: the hostile server, shared by every test that needs one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .servers import HostileServer, hostile_server


@pytest.fixture(name="server", scope="session")
def _server() -> Iterator[HostileServer]:
    """The hostile WebSocket server (`servers.ROUTES`), on 127.0.0.1, for the whole session."""
    with hostile_server() as server:
        yield server


@pytest.fixture(name="closed_url")
def _closed_url() -> str:
    """A ws:// URL on a loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"ws://127.0.0.1:{port}/ws"
