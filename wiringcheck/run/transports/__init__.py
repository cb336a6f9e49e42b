"""Transports: the drivers of a run session, one module each, I/O only.

Each moves messages between one kind of connection and a `RunSession`, and knows its
wire format and nothing else: auth, setup steps, the trigger, identity, bounds and
judgement are the session's and the judge's.  `websocket` is the asyncio client;
`websocket_sync` is the synchronous one (threads, and gevent under Locust: it drives
websockets' sans-I/O protocol over one plain socket, with no thread of its own).
"""

from __future__ import annotations

from typing import Any

__all__ = ["CLOSE_TIMEOUT", "MAX_MESSAGE", "close_of", "http_instead", "port_of"]

CLOSE_TIMEOUT = 0.25
"""Seconds the closing handshake may take after the verdict is recorded: it decides nothing."""

MAX_MESSAGE = 16 * 1024 * 1024
"""The largest message a transport accepts (a bigger one is refused: WebSocket close 1009)."""


def close_of(closed: Any) -> tuple[int | None, str, bool]:
    """(code, reason, by_client) of a websockets `ConnectionClosed`: who closed it, with which code and reason."""
    sent, rcvd = getattr(closed, "sent", None), getattr(closed, "rcvd", None)
    probe_first = sent is not None and (rcvd is None or getattr(closed, "rcvd_then_sent", None) is False)
    if sent is not None and probe_first and sent.code not in (1000, 1001):
        # The client refused what the server sent (1009 too big, 1007 invalid UTF-8): not the server's close.
        return sent.code, sent.reason, True
    if rcvd is not None:
        return rcvd.code, rcvd.reason, False
    return 1006, "connection lost without a close frame", False


_STREAM_TYPES = ("text/event-stream", "application/x-ndjson", "application/jsonl")


def http_instead(status: int, content_type: str) -> str:
    """What to add when a WebSocket upgrade was answered as plain HTTP: the server may stream its runs over HTTP."""
    declared = content_type.partition(";")[0].strip().lower()
    if declared in _STREAM_TYPES or status in (200, 404, 405):
        kind = "sse" if declared != "application/x-ndjson" and declared != "application/jsonl" else "ndjson"
        shown = f", Content-Type {declared}" if declared else ""
        return (
            f"; the server answers plain HTTP there (HTTP {status}{shown}): if it streams its runs over HTTP, "
            f'set probe.transport = "{kind}" and probe.path to its route'
        )
    return ""


def port_of(sockname: Any) -> int | None:
    """The port of a socket's address (``getsockname()``, ``get_extra_info("sockname")``); None for anything else."""
    if isinstance(sockname, tuple) and len(sockname) >= 2 and isinstance(sockname[1], int):
        return sockname[1]
    return None
