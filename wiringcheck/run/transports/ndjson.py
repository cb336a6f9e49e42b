"""Newline-delimited JSON: each non-empty line of the response body is one frame."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

__all__ = ["ACCEPT", "CONTENT_TYPES", "events", "events_sync", "sent"]

ACCEPT = "application/x-ndjson, application/jsonl, application/json"
"""What the run's request asks for."""

CONTENT_TYPES = ("application/x-ndjson", "application/jsonl", "application/jsonlines", "application/json",
                 "application/json-seq", "text/plain")  # fmt: skip
"""What a response may declare: servers name the format many ways; an HTML page is never one."""


async def events(response: Any) -> AsyncIterator[tuple[str, str | None]]:
    """Each line of the stream as (data, None), as it arrives."""
    async for line in response.aiter_lines():
        if line.strip():
            yield line, None


def events_sync(response: Any) -> Iterator[tuple[str, str | None]]:
    """`events`, for a synchronous response."""
    for line in response.iter_lines():
        if line.strip():
            yield line, None


def sent(chunks: list[tuple[float, bytes]]) -> list[tuple[float, str]]:
    """(when it was handed to the server, data) of each line in the chunks of one response the backend sent."""
    found: list[tuple[float, str]] = []
    pending = b""
    for at, body in chunks:
        pending += body
        *complete, pending = pending.split(b"\n")
        found += [(at, line.decode("utf-8", "replace")) for line in complete if line.strip()]
    return found
