"""The agentchat reference backend works, and its headline fault really drops events.

These run the real app under uvicorn on 127.0.0.1 with a real ``websockets`` client,
in the test's own event loop, so they exercise exactly what wiringcheck exercises.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from fixtures.agentchat.agents import Delays
from fixtures.agentchat.app import UNAUTHORIZED, create_app
from fixtures.agentchat.auth import parse_tokens
from fixtures.faults.legacy_setter.app import create_app as create_legacy_setter_app

from .conftest import MS

ROOT = Path(__file__).resolve().parent.parent
OTHER_BACKENDS = ("studio", "relay", "serverids", "ssechat", "ndjsonchat", "agui", "adk", "socketchat")
"""Reference backends besides agentchat; their faults are named after them (`studio_setup_refused`)."""
FAULTS = sorted(
    p.parent.name
    for p in (ROOT / "fixtures" / "faults").glob("*/wiringcheck.toml")
    if not p.parent.name.startswith(OTHER_BACKENDS)
)
OTHER_FAULTS = sorted(
    p.parent.name
    for p in (ROOT / "fixtures" / "faults").glob("*/wiringcheck.toml")
    if p.parent.name.startswith(OTHER_BACKENDS)
)
EVENTS = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]
TOKENS = {"dev-token": "demo-user", "other-token": "other-user"}
OWN_REGISTRY = {"guarded_missing", "unguarded_rename", "unawaited_setter", "signature_drift"}
OWN_PROBE_KEYS = {
    "buffered_bridge": {"emit"},
    "silent_tool_error": {"trigger", "events"},
    "tool_error_reported": {"trigger", "events"},
}
"""Faults whose run is probed differently: emission timed, or the failing-tool trigger and its events."""
OWN_TABLES = {"broadcast_fallback": {"isolation"}, "wrong_routing_key": {"isolation"}}
"""Faults that need more of the configuration: two users at once."""
REFERENCE_APP = {"tool_error_reported"}
"""Healthy variants that probe the reference app itself."""
STATUS_WIRES = {"degraded_startup": "state.startup_error is None"}
"""Faults whose app records a startup error on `app.state`: the wire that reads it, on a role at `state`."""


@asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[str]:
    """Run ``app`` under uvicorn on a free port; yields the ``ws://`` base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(2000 * MS):
            while not server.started:
                assert not task.done(), "uvicorn stopped during startup"
                await asyncio.sleep(5 * MS)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(2000 * MS):
            await task


def trigger(run_id: str, text: str = "What is 6 times 7?") -> str:
    return json.dumps({"type": "user_message", "run_id": run_id, "thread_id": "thread-1", "payload": {"text": text}})


async def recv_json(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(1000 * MS):
        frame = await ws.recv()
    message: dict[str, Any] = json.loads(frame)
    return message


async def assert_silent(ws: ClientConnection, seconds: float = 0.05) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(seconds):
            await ws.recv()


@pytest.mark.asyncio
async def test_run_events_reach_only_their_user_in_order() -> None:
    """A run's five events reach the user who started it, in order, and nobody else."""
    async with (
        serve(create_app(tokens=TOKENS)) as base,
        connect(f"{base}/ws?token=dev-token") as alice,
        connect(f"{base}/ws", additional_headers={"Authorization": "Bearer other-token"}) as bob,
    ):
        async with asyncio.timeout(1000 * MS):
            await alice.send(trigger("run-1"))
        events = [await recv_json(alice) for _ in EVENTS]
        await assert_silent(bob)

    assert [event["type"] for event in events] == EVENTS
    for event in events:
        assert event["run_id"] == "run-1"
        assert event["agent_name"] == "calculator_agent"
        stamp = datetime.fromisoformat(event["timestamp"])
        assert stamp.utcoffset() == UTC.utcoffset(None)
        assert len(event["timestamp"].split(".")[1]) == len("000000+00:00")
    tool_input = {"operation": "multiply", "operands": [6, 7]}
    assert events[2]["payload"] == {"tool_name": "calculator", "tool_input": tool_input}
    assert events[3]["payload"]["result"] == {"value": 42}
    assert events[4]["payload"]["result"]["answer"].endswith("= 42")


@pytest.mark.asyncio
@pytest.mark.parametrize("query", ["?token=wrong", ""], ids=["unknown-token", "no-token"])
async def test_bad_token_is_closed_with_4401(query: str) -> None:
    """A missing or unknown token is accepted, then closed with code 4401."""
    async with serve(create_app(tokens=TOKENS)) as base, connect(f"{base}/ws{query}") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(1000 * MS):
                await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == UNAUTHORIZED


@pytest.mark.asyncio
async def test_garbage_gets_error_frames_and_the_connection_survives() -> None:
    """Each malformed message gets an error frame, and a valid run still works afterwards."""
    garbage: list[str | bytes] = [
        "not json",
        b"\x00\x01",
        "[1, 2]",
        json.dumps({"type": "ping"}),
        json.dumps({"type": "user_message", "run_id": "run-2"}),
    ]
    async with serve(create_app(tokens=TOKENS)) as base, connect(f"{base}/ws?token=dev-token") as ws:
        replies = []
        for frame in garbage:
            async with asyncio.timeout(1000 * MS):
                await ws.send(frame)
            replies.append(await recv_json(ws))
        async with asyncio.timeout(1000 * MS):
            await ws.send(trigger("run-3"))
        events = [await recv_json(ws) for _ in EVENTS]

    assert [reply["type"] for reply in replies] == ["error"] * len(garbage)
    assert all(reply["payload"]["message"] for reply in replies)
    assert replies[-1]["run_id"] == "run-2"
    assert [event["type"] for event in events] == EVENTS


class DroppedEvents(logging.Handler):
    """Collects the bridge's "emission blocked" warnings and signals once ``expected`` have arrived."""

    def __init__(self, expected: int) -> None:
        super().__init__(logging.WARNING)
        self.expected = expected
        self.messages: list[str] = []
        self.complete = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("emission blocked"):
            self.messages.append(message)
            if len(self.messages) >= self.expected:
                self.complete.set()


@pytest.mark.asyncio
async def test_legacy_setter_drops_every_event(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the incident's legacy setter, boot succeeds but every event is dropped with a warning."""
    monkeypatch.delenv("AGENTCHAT_TOKENS", raising=False)  # the default dev-token must work
    bridge_logger = logging.getLogger("fixtures.agentchat.bridge")
    dropped = DroppedEvents(expected=len(EVENTS))
    bridge_logger.addHandler(dropped)
    app = create_legacy_setter_app()
    try:
        async with serve(app) as base, connect(f"{base}/ws?token=dev-token") as ws:
            assert app.state.agent_websocket_bridge.websocket_manager is None
            async with asyncio.timeout(1000 * MS):
                await ws.send(trigger("run-4"))
                await dropped.complete.wait()
            await assert_silent(ws)
    finally:
        bridge_logger.removeHandler(dropped)

    assert dropped.messages == [
        f"emission blocked: no WebSocket manager; dropped {event} for run run-4" for event in EVENTS
    ]


@pytest.mark.asyncio
async def test_shutdown_cancels_runs_in_flight() -> None:
    """Shutdown cancels and awaits a run that is still in progress, leaving no task behind."""
    app = create_app(tokens=TOKENS, delays=Delays(think=30.0, tool=30.0))
    async with serve(app) as base, connect(f"{base}/ws?token=dev-token") as ws:
        async with asyncio.timeout(1000 * MS):
            await ws.send(trigger("run-5"))
        started = await recv_json(ws)
        assert app.state.agent_supervisor.active_runs == ["run-5"]
        run_tasks = [task for task in asyncio.all_tasks() if task.get_name() == "agent-run-run-5"]
    assert started["type"] == "agent_started"
    assert app.state.agent_supervisor.active_runs == []
    assert [task.cancelled() for task in run_tasks] == [True]


@pytest.mark.asyncio
async def test_health_and_wiring_after_startup() -> None:
    """After startup, /health answers 200 and the registry and bridge share the app's manager."""
    app = create_app()
    async with serve(app) as base:
        state = app.state
        assert state.websocket_manager is not None
        assert state.agent_supervisor.registry.websocket_manager is state.websocket_manager
        assert state.agent_websocket_bridge.websocket_manager is state.websocket_manager
        host, port = base.removeprefix("ws://").split(":")
        async with asyncio.timeout(1000 * MS):
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            response = await reader.read()
            writer.close()
            await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert json.loads(body) == {"status": "ok"}


def test_token_list_parsing() -> None:
    """AGENTCHAT_TOKENS parses as token:user pairs, and a malformed entry is an error."""
    assert parse_tokens("dev-token:demo-user, t2:u2,") == {"dev-token": "demo-user", "t2": "u2"}
    with pytest.raises(ValueError, match="expected 'token:user'"):
        parse_tokens("dev-token")


@pytest.mark.parametrize("name", FAULTS)
def test_fault_config_differs_from_the_healthy_one_only_where_the_fault_does(name: str) -> None:
    """Each fault's factory builds an app and its config is the healthy config aimed at it."""
    healthy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["wiringcheck"]
    config = tomllib.loads((ROOT / "fixtures" / "faults" / name / "wiringcheck.toml").read_text())

    module = "fixtures.agentchat.app" if name in REFERENCE_APP else f"fixtures.faults.{name}.app"
    assert config.pop("app") == f"{module}:create_app"
    for key in OWN_PROBE_KEYS.get(name, ()):
        config["probe"].pop(key)
        healthy["probe"].pop(key, None)
    for key in OWN_TABLES.get(name, ()):
        config.pop(key)
    if name in STATUS_WIRES:
        config["wires"].remove(STATUS_WIRES[name])
        assert {"path": "state"} == config["roles"].pop("state")
    assert config.pop("pythonpath") == ["../../.."]
    assert config.pop("startup_timeout", None) == (1.0 if name == "boot_hang" else None)
    # A load-only fault also says how many users with which tokens; its thresholds make it fail.
    assert ("load" in config) == (name == "drops_under_load")
    config.pop("load", None)
    healthy.pop("load", None)  # the repository's own load example: per-user test tokens
    healthy.pop("isolation", None)  # and its isolation users, off unless --isolation
    registry_class = config["roles"]["registry"].pop("class")
    expected_class = f"{module}:AgentRegistry" if name in OWN_REGISTRY else healthy["roles"]["registry"]["class"]
    assert registry_class == expected_class
    del healthy["app"], healthy["roles"]["registry"]["class"]
    assert config == healthy

    module_path, _, class_name = registry_class.partition(":")
    assert isinstance(getattr(importlib.import_module(module_path), class_name), type)
    assert isinstance(importlib.import_module(module).create_app(), Starlette)


@pytest.mark.parametrize("name", OTHER_FAULTS)
def test_other_backends_fault_config_differs_only_in_its_target(name: str) -> None:
    """A studio or relay fault's config is its backend's healthy config, aimed at the fault's module."""
    backend = name.split("_", 1)[0]
    healthy = tomllib.loads((ROOT / "fixtures" / backend / "wiringcheck.toml").read_text())
    config = tomllib.loads((ROOT / "fixtures" / "faults" / name / "wiringcheck.toml").read_text())

    key = "app" if "app" in healthy else "boot"
    assert config.pop(key).startswith(f"fixtures.faults.{name}.app:")
    assert (config.pop("pythonpath"), healthy.pop("pythonpath")) == (["../../.."], ["../.."])
    del healthy[key]
    assert config == healthy
