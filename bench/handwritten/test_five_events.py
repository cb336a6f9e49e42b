"""The alternative a team would write by hand: one pytest test of the same five events.

It boots the reference backend with uvicorn on loopback, connects with `websockets`,
starts a run and asserts the five events in order within 100 ms of each other.  It
checks less than `wiringcheck run` (no contract, wires, startup calls or per-event
delivery latency) and is the baseline `bench/run_vs_pytest.py` times against it.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import uvicorn
from websockets.asyncio.client import connect

from fixtures.agentchat.app import create_app

EXPECTED = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]


@pytest.mark.asyncio
async def test_five_events_arrive_in_order():
    """The five agent events arrive in order, each within 100 ms of the previous one."""
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=0, log_config=None, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(5):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
                await asyncio.sleep(0.001)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with asyncio.timeout(5), connect(f"ws://127.0.0.1:{port}/ws?token=dev-token") as ws:
            message = {"type": "user_message", "run_id": "r1", "thread_id": "t1", "payload": {"text": "6 times 7"}}
            await ws.send(json.dumps(message))
            seen, last = [], time.monotonic()
            while not seen or seen[-1] != "agent_completed":
                event = json.loads(await ws.recv())
                now = time.monotonic()
                assert now - last < 0.1
                seen.append(event["type"])
                last = now
        assert EXPECTED == seen
    finally:
        server.should_exit = True
        await task
