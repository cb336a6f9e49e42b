"""The Locust user, headless with a master and one worker on 127.0.0.1, against the reference backend.

Locust runs in processes of its own (its gevent monkey patching must never reach this test
process), forked from an interpreter that imported it once (`tests.prefork`), the backend on
a thread of this one; the test reads Locust's own statistics: one row per event, no failures.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from .. import prefork
from ..locust_stop import stop_when
from ..serving import served

# Never import locust here: importing it monkey-patches this whole test process with gevent
# (threads become greenlets, and a later fork in another test deadlocks). Only look it up.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="locust is not installed (pip install 'wiringcheck[load]')"
)

REPO = Path(__file__).resolve().parents[2]
EVENTS = {"agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def factory_app(factory: str) -> Any:
    """The app `module:function` makes, served on a thread of this process (`tests.serving`): uvicorn in an
    interpreter of its own cost half a second of CPU to start, and the backend is not what these tests test."""
    module, _, function = factory.partition(":")
    return getattr(importlib.import_module(module), function)()


def locust_against(
    factory: str, tmp_path: Path, env: dict[str, str], *, users: int, seconds: int, path: str = ""
) -> tuple[int, str, list[dict[str, str]]]:
    """One Locust process (tmp_path/locustfile.py) against the app `factory` (`factory_app`): Locust's exit code,
    its log, and one row of its final statistics per request name, under the names of its CSV's columns.

    The statistics are read from `--json-file`: Locust can leave its CSV empty after a short run (seen at 1
    and 2 s on a busy machine) while its final JSON statistics are whole."""
    with served(factory_app(factory)) as port:
        locust = [
            *("-f", str(tmp_path / "locustfile.py")),
            *("--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--stop-timeout", "2"),
            *("--host", f"http://127.0.0.1:{port}{path}", "--json-file", str(tmp_path / "run")),
        ]
        with prefork.locust(locust, env=env, cwd=REPO, log=tmp_path / "locust.log") as process:
            process.wait(timeout=90)
    log = (tmp_path / "locust.log").read_text(errors="replace")
    stats = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    rows = [
        {
            "Name": entry["name"],
            "Type": entry["method"],
            "Request Count": str(entry["num_requests"]),
            "Failure Count": str(entry["num_failures"]),
        }
        for entry in stats
    ]
    return process.returncode, log, rows


@pytest.mark.slow
def test_locust_master_and_worker_report_each_event(tmp_path, monkeypatch):
    """1 s of Locust (master + 1 worker, 5 users): five event names in the CSV, zero failures."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    monkeypatch.delenv("AGENTCHAT_TOKENS", raising=False)
    master_port = free_port()
    locust = ["-f", str(REPO / "docs" / "locustfile.py")]
    with served(factory_app("fixtures.agentchat.app:create_app")) as backend_port:
        master = [
            *locust,
            *("--headless", "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(master_port)),
            *("--expect-workers", "1", "--expect-workers-max-wait", "60", "-u", "5", "-r", "5", "-t", "1s"),
            *("--host", f"ws://127.0.0.1:{backend_port}/ws", "--csv", str(tmp_path / "run")),
        ]
        worker = [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(master_port)]
        with (
            prefork.locust(master, env=env, cwd=REPO, log=tmp_path / "master.log") as head,
            prefork.locust(worker, env=env, cwd=REPO, log=tmp_path / "worker.log"),
        ):
            head.wait(timeout=90)
    log = (tmp_path / "master.log").read_text(errors="replace")

    assert 0 == head.returncode, log[-2000:]
    with (tmp_path / "run_stats.csv").open(encoding="utf-8") as stats:
        rows = [row for row in csv.DictReader(stats) if row["Name"] != "Aggregated"]
    assert EVENTS == {row["Name"] for row in rows}
    assert {"WS"} == {row["Type"] for row in rows}
    assert all(int(row["Request Count"]) > 0 for row in rows)
    assert 0 == sum(int(row["Failure Count"]) for row in rows)


@pytest.mark.slow
def test_locust_runs_twenty_users_over_socketio(tmp_path, monkeypatch):
    """Locust until 20 runs completed, 20 users over python-socketio's sync client in greenlets: each event, no
    failure, no libev error.

    The reason the WebSocket user has a transport of its own (`websocket_sync`) is that a
    reader left waiting on a closed descriptor makes libev abort the whole Locust process:
    the socket.io client must never do that either, run after run.  socketchat's own
    configuration, with bounds far from how long its runs take on a machine this busy
    (this test is about the client, not the backend's latency).
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    monkeypatch.delenv("SOCKETCHAT_TOKEN", raising=False)
    config = (REPO / "fixtures" / "socketchat" / "wiringcheck.toml").read_text(encoding="utf-8")
    config = config.replace("budget_ms = 100", "budget_ms = 2000").replace("deadline = 5.0", "deadline = 20.0")
    (tmp_path / "wiringcheck.toml").write_text(config.replace('["../.."]', json.dumps([str(REPO)])))
    locustfile = (REPO / "fixtures" / "socketchat" / "locustfile.py").read_text(encoding="utf-8")
    locustfile = locustfile.replace('"fixtures/socketchat/wiringcheck.toml"', repr(str(tmp_path / "wiringcheck.toml")))
    (tmp_path / "locustfile.py").write_text(
        locustfile + stop_when("name == 'agent_completed' and exception is None", 20)
    )
    code, log, rows = locust_against(
        "fixtures.socketchat.app:create_app", tmp_path, env, users=20, seconds=60, path="/ws/socket.io"
    )

    assert 0 == code, log[-2000:]
    assert not [line for line in log.splitlines() if "Traceback" in line or "invalid fd" in line.lower()], log[-3000:]
    assert EVENTS == {row["Name"] for row in rows}
    assert {"SOCKETIO"} == {row["Type"] for row in rows}
    assert all(int(row["Request Count"]) >= 20 for row in rows)
    assert 0 == sum(int(row["Failure Count"]) for row in rows)


@pytest.mark.slow
def test_locust_warms_the_backend_up_once_before_its_first_judged_run(tmp_path):
    """Two users against a backend whose first run after boot drops tool_completed, with `warmup = 1`:
    the process's first user makes the unjudged run, both users wait for it, and no run fails."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    (tmp_path / "wiringcheck.toml").write_text(
        '[probe]\ntransport = "sse"\npath = "/runs"\ntrigger = { text = "hi" }\nwarmup = 1\n'
        "deadline = 5.0\nbudget_ms = 2000\n",
        encoding="utf-8",
    )
    (tmp_path / "locustfile.py").write_text(
        "from wiringcheck.locust import WiringcheckUser\n\n\n"
        "class Warmed(WiringcheckUser):\n"
        f"    config = {str(tmp_path / 'wiringcheck.toml')!r}\n"
        + stop_when("name == 'agent_completed' and exception is None", 2),
        encoding="utf-8",
    )
    code, log, rows = locust_against("tests.integration.test_warmup:create_app", tmp_path, env, users=2, seconds=60)

    counts = {row["Name"]: int(row["Request Count"]) for row in rows}
    assert (0, True) == (code, counts.get("tool_completed", 0) > 0), (counts, log[-3000:])
    assert 0 == sum(int(row["Failure Count"]) for row in rows), log[-2000:]


def test_this_process_is_not_monkey_patched():
    """The Locust test runs Locust in subprocesses: gevent never patches the test process (or `run`)."""
    import threading

    assert "gevent" not in sys.modules
    assert "gevent" not in type(threading.Lock()).__module__
