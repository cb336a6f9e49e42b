"""In-process latency pairs each frame with what its own connection was sent, never with the same bytes sent to
another user.

The backend here sends every user the very same five frames (no run id, no user id: nothing in the bytes tells
two users apart), the second user to send a trigger only once the first user's five were sent. Paired by payload
alone, the second user's frames took the first user's hand-offs, and its latency was the other user's head start.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from wiringcheck.backend import booted
from wiringcheck.config import DEFAULT_EVENTS, parse_settings
from wiringcheck.run.inprocess import record

PATH = "/runs"


def create_app() -> Starlette:
    """A backend that sends each run the same five frames; the second trigger is answered once the first is."""
    triggers = 0
    first_sent = asyncio.Event()

    async def runs(websocket: WebSocket) -> None:
        nonlocal triggers
        await websocket.accept()
        await websocket.receive_text()
        triggers += 1
        first = triggers % 2 == 1
        if not first:
            await first_sent.wait()
        for name in DEFAULT_EVENTS:
            await websocket.send_text(json.dumps({"type": name}))
        if first:
            first_sent.set()
        await websocket.receive_text()  # until the client goes

    async def sse(request: Any) -> Any:
        from starlette.responses import StreamingResponse

        nonlocal triggers
        triggers += 1
        first = triggers % 2 == 1

        async def events() -> Any:
            if not first:
                await first_sent.wait()
            for name in DEFAULT_EVENTS:
                yield f"data: {json.dumps({'type': name})}\n\n"
            if first:  # resumed only once the last chunk was sent
                first_sent.set()

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[WebSocketRoute(PATH, runs), Route(PATH, sse, methods=["POST"])])


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", ["websocket", "sse"])
async def test_two_users_sent_the_same_bytes_are_each_timed_from_their_own_connection(transport):
    """The late user's frames are paired with the sends that came after the early user's, not with the same bytes
    the early user was sent first."""
    probe: dict[str, Any] = {"transport": transport, "trigger": {"text": "hi"}, "deadline": 5.0, "gap_ms": False}
    if transport == "sse":
        probe["path"] = PATH
    app = "tests.integration.test_handoff_pairing:create_app"
    settings = parse_settings({"app": app, "ws_path": PATH, "probe": probe})
    async with booted(settings) as backend:
        recorded = await record(backend.handle, {}, [settings.probe, settings.probe], {}, clock=time.monotonic)

    early, late = sorted(recorded.recordings, key=lambda each: min(frame.sent_at or 0.0 for frame in each.frames))
    sent = [[frame.sent_at for frame in each.frames] for each in (early, late)]
    assert [5, 5] == [sum(at is not None for at in times) for times in sent]
    assert min(sent[1]) > max(sent[0]), sent  # the late user's own hand-offs, all after the early user's
