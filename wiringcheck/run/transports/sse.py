"""Server-Sent Events (``text/event-stream``): each event's ``data:`` lines, joined, are one frame.

The parsing is httpx-sse's, per the WHATWG rules: ``data:`` lines joined with newlines,
``event:`` names, ``id:`` and ``retry:`` fields, comment lines (``: keep-alive``) skipped,
CRLF, CR and LF line ends.  What httpx-sse leaves out is added here: a leading byte-order
mark is dropped (a stream that starts with one would otherwise lose its first event),
and an event's name travels with its frame, so matchers can test it (``"@event" = "end"``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

# Imported with this module, before a run starts, not when its first event arrives: httpx-sse imports httpx
# (100 ms here), which would otherwise be counted into the first event's delivery latency.
from httpx_sse import EventSource

__all__ = ["ACCEPT", "CONTENT_TYPES", "events", "events_sync", "sent"]

ACCEPT = "text/event-stream"
"""What the run's request asks for."""

CONTENT_TYPES = ("text/event-stream",)
"""What a response must declare to be read as a stream of events."""

_BOM = "\ufeff"


class _WithoutBom:
    """The response as httpx-sse reads it (headers and text), with a leading byte-order mark dropped."""

    def __init__(self, response: Any) -> None:
        self.headers = response.headers
        self._response = response

    async def aiter_text(self) -> AsyncIterator[str]:
        first = True
        async for text in self._response.aiter_text():
            if first and text:
                text, first = text.removeprefix(_BOM), False
            yield text

    def iter_text(self) -> Iterator[str]:
        first = True
        for text in self._response.iter_text():
            if first and text:
                text, first = text.removeprefix(_BOM), False
            yield text


def _named(name: str) -> str | None:
    return None if name == "message" else name  # "message" is the name of an event that gives none


async def events(response: Any) -> AsyncIterator[tuple[str, str | None]]:
    """Each event of the stream as (data, name), as it arrives."""
    async for event in EventSource(_WithoutBom(response)).aiter_sse():  # type: ignore[arg-type]
        yield event.data, _named(event.event)


def events_sync(response: Any) -> Iterator[tuple[str, str | None]]:
    """`events`, for a synchronous response."""
    for event in EventSource(_WithoutBom(response)).iter_sse():  # type: ignore[arg-type]
        yield event.data, _named(event.event)


class _Sent:
    """What the backend sent on one response, as httpx-sse reads a response: the time of the chunk being read
    is known when an event comes out of it (the chunk that completed the event)."""

    def __init__(self, chunks: list[tuple[float, bytes]]) -> None:
        self.headers = {"content-type": ACCEPT}
        self.at = 0.0
        self._chunks = chunks

    def iter_text(self) -> Iterator[str]:
        import codecs

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        for at, body in self._chunks:
            self.at = at
            yield decoder.decode(body)


def sent(chunks: list[tuple[float, bytes]]) -> list[tuple[float, str]]:
    """(when it was handed to the server, data) of each event in the chunks of one response the backend sent."""
    stream = _Sent(chunks)
    return [(stream.at, data) for data, _ in events_sync(stream)]
