"""The client's CPU per run over each transport, for the same five events from the same backend, interleaved.

One Starlette app serves the reference run three ways: a WebSocket route (``/ws``), an
SSE route (``POST /sse``) and, in front of it, a python-socketio server (``/socket.io``,
the trigger emitted as ``message``), each sending the five events 1 ms apart.  It is
served by uvicorn on loopback in a child process, so this process measures the client
alone: `run.drive.perform` over each transport in turn, ``--runs`` times, reading this
process's CPU time around each run; then the synchronous clients the Locust user runs
(`run.drive.perform_sync`: WebSocket and socket.io).  Prints the median CPU per run of
each and the ratios.

    python bench/transports.py [--runs 200]     # socket.io needs pip install 'wiringcheck[socketio]'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")


def _app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import StreamingResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket

    def frame(kind: str, run_id: str) -> str:
        return json.dumps({"type": kind, "run_id": run_id, "timestamp": time.time()})

    async def ws(socket_: WebSocket) -> None:
        await socket_.accept()
        run_id = json.loads(await socket_.receive_text())["run_id"]
        for kind in EVENTS:
            await asyncio.sleep(0.001)
            await socket_.send_text(frame(kind, run_id))
        await asyncio.sleep(0.1)  # the client hangs up first

    async def sse(request: Request) -> StreamingResponse:
        run_id = (await request.json())["run_id"]

        async def events() -> AsyncIterator[str]:
            for kind in EVENTS:
                await asyncio.sleep(0.001)
                yield f"data: {frame(kind, run_id)}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    web = Starlette(routes=[WebSocketRoute("/ws", ws), Route("/sse", sse, methods=["POST"])])
    import socketio

    sio = socketio.AsyncServer(async_mode="asgi")

    @sio.on("message")
    async def message(sid: str, data: dict[str, Any]) -> None:
        for kind in EVENTS:
            await asyncio.sleep(0.001)
            await sio.emit(kind, json.loads(frame(kind, data["run_id"])), to=sid)

    return socketio.ASGIApp(sio, other_asgi_app=web, socketio_path="socket.io")


def _serve(port: int) -> None:
    import uvicorn

    uvicorn.run(_app(), host="127.0.0.1", port=port, log_level="warning")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _measure(port: int, runs: int) -> dict[str, list[float]]:
    from wiringcheck.config import parse_settings
    from wiringcheck.run.drive import perform, perform_sync

    socketio = parse_settings({"probe": {"linger_ms": 0, "transport": "socketio", "type_field": "type"}}).probe
    probes = {
        "websocket": (f"ws://127.0.0.1:{port}/ws", parse_settings({"probe": {"linger_ms": 0}}).probe),
        "sse": (
            f"http://127.0.0.1:{port}/sse",
            parse_settings({"url": f"http://127.0.0.1:{port}/sse", "probe": {"linger_ms": 0}}).probe,
        ),
        "socketio": (f"http://127.0.0.1:{port}/socket.io", socketio),
    }
    sync = {"websocket sync": probes["websocket"], "socketio sync": probes["socketio"]}
    cpu: dict[str, list[float]] = {name: [] for name in [*probes, *sync]}
    for _ in range(3):  # warm-up: imports, first connections
        for url, probe in probes.values():
            await perform(url, probe, {})
        for url, probe in sync.values():
            perform_sync(url, probe, {})
    for index in range(runs):
        order = list(probes.items()) if index % 2 == 0 else list(reversed(probes.items()))
        for name, (url, probe) in order:
            before = time.process_time()
            recording = await perform(url, probe, {})
            cpu[name].append(time.process_time() - before)
            assert recording.end == "terminal", (name, recording.end, recording.error)
        for name, (url, probe) in sync.items() if index % 2 == 0 else reversed(sync.items()):
            before = time.process_time()  # this process's CPU: the client's threads included
            recording = perform_sync(url, probe, {})
            cpu[name].append(time.process_time() - before)
            assert recording.end == "terminal", (name, recording.end, recording.error)
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,), daemon=True)
    server.start()
    try:
        give_up = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > give_up:
                    raise
                time.sleep(0.05)
        cpu = asyncio.run(_measure(port, args.runs))
    finally:
        server.terminate()
        server.join(timeout=5)
    medians = {name: statistics.median(values) * 1000 for name, values in cpu.items()}
    for name, value in medians.items():
        print(f"{name:10} median client CPU per run {value:.3f} ms over {len(cpu[name])} runs")
    print(f"sse / websocket: {medians['sse'] / medians['websocket']:.2f}x")
    print(f"socketio / websocket: {medians['socketio'] / medians['websocket']:.2f}x")
    print(f"socketio sync / websocket sync: {medians['socketio sync'] / medians['websocket sync']:.2f}x")


if __name__ == "__main__":
    main()
