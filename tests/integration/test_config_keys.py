"""The keys real applications needed, on a real backend: [env] around its import and boot, a single emit(kind).

The backend is written afresh for each test, under a module name of its own, so that
its import really happens inside the run (a module imported by an earlier test would
have read its environment already).
"""

from __future__ import annotations

import os
import textwrap
import uuid
from pathlib import Path

import pytest

from wiringcheck.backend import booted
from wiringcheck.cli import main
from wiringcheck.config import load_settings
from wiringcheck.findings import Status
from wiringcheck.report import ExitCode
from wiringcheck.runner import run

from ..conftest import MS
from .helpers import check

BACKEND = '''
import asyncio
import contextlib
import os
import time

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

APPDIR = os.environ["WC_TEST_APPDIR"]  # read at import, as a settings module does
EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")


class Emitter:
    """Every event goes through one method, emit(kind, run_id): the shape the emit map's kind argument is for."""

    def __init__(self):
        self.socket = None

    async def emit(self, kind, run_id):
        await self.socket.send_json({"type": kind, "run_id": run_id, "timestamp": time.time()})


@contextlib.asynccontextmanager
async def lifespan(app):
    database = os.environ["WC_TEST_DATABASE_URL"]
    if "WC_TEST_API_KEY" in os.environ and os.environ.get("WC_TEST_FAIL"):
        raise RuntimeError(f"the model server refused the key {os.environ['WC_TEST_API_KEY']}")
    app.state.seen = {"appdir": APPDIR, "database": database, "tmp_exists": os.path.isdir(APPDIR)}
    app.state.emitter = Emitter()
    os.environ["WC_TEST_APPDIR"] = "changed by the backend"
    yield


async def chat(websocket):
    await websocket.accept()
    message = await websocket.receive_json()
    emitter = websocket.app.state.emitter
    emitter.socket = websocket
    await emitter.emit("agent_started", message["run_id"])
    await asyncio.sleep(DELAY)
    for kind in EVENTS[1:]:
        await emitter.emit(kind, message["run_id"])
    with contextlib.suppress(Exception):  # until the probe closes
        await websocket.receive_text()


def create_app():
    app = Starlette(lifespan=lifespan, routes=[WebSocketRoute("/ws", chat)])
    return app
'''

DELAY_MS = 120
"""How long the backend waits after agent_started: the terminal is emitted at least this much later."""


@pytest.fixture(name="backend")
def _backend(tmp_path, monkeypatch):
    """A fresh backend module in its own folder; the variables it needs are unset outside the run."""
    module = f"envapp_{uuid.uuid4().hex}"
    (tmp_path / f"{module}.py").write_text(BACKEND.replace("DELAY", f"{DELAY_MS * MS!r}"), encoding="utf-8")
    for name in ("WC_TEST_APPDIR", "WC_TEST_DATABASE_URL", "WC_TEST_API_KEY", "WC_TEST_FAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WC_TEST_DATABASE_URL", "postgres://outside/the-run")  # set before: restored exactly
    return tmp_path, module


ENV = """
[env]
WC_TEST_APPDIR = "{tmp}"
WC_TEST_DATABASE_URL = "sqlite:///{tmp}/app.db"
"""


def configure(backend: tuple[Path, str], extra: str = "", *, env: str = ENV) -> Path:
    folder, module = backend
    path = folder / "wiringcheck.toml"
    path.write_text(
        textwrap.dedent(
            f"""\
            app = "{module}:create_app"

            [roles.emitter]
            path = "state.emitter"
            class = "{module}:Emitter"

            [probe]
            gap_ms = false
            deadline = 5.0
            """
        )
        + extra
        + env,
        encoding="utf-8",
    )
    return path


def test_env_is_set_before_the_backend_is_imported_and_restored_after(backend):
    """The run sets [env] before the roles' classes and the app are imported; afterwards, every variable
    is as it was (unset, or its old value), whatever the backend did to it."""
    report = run(load_settings(configure(backend)))

    assert (ExitCode.OK, Status.PASSED) == (report.exit_code, check(report, "boot").status), report.findings
    assert ("postgres://outside/the-run", None) == (
        os.environ.get("WC_TEST_DATABASE_URL"),
        os.environ.get("WC_TEST_APPDIR"),
    )


@pytest.mark.asyncio
async def test_a_booted_session_sees_env_from_import_to_shutdown(backend):
    """backend.booted (fixtures, inspect, load): one fresh {tmp} folder per boot, in every variable naming it,
    removed after shutdown."""
    async with booted(load_settings(configure(backend))) as session:
        seen = dict(session.handle.root.state.seen)
    appdir = Path(seen["appdir"])

    assert (True, True, f"sqlite:///{appdir}/app.db", False) == (
        "wiringcheck-env-" in appdir.name,
        seen["tmp_exists"],
        seen["database"],
        appdir.exists(),  # noqa: ASYNC240  (a test's assertion, not a server's loop)
    )
    assert ("postgres://outside/the-run", None) == (
        os.environ.get("WC_TEST_DATABASE_URL"),
        os.environ.get("WC_TEST_APPDIR"),
    )


def test_inspect_boots_with_env(backend, capsys):
    """`wiringcheck inspect` boots through the same place: the backend that needs [env] boots."""
    path = configure(backend)

    code = main(["inspect", "--config", str(path)])

    assert (0, True) == (code, "Emitter" in capsys.readouterr().out)


def test_without_env_the_backend_does_not_boot(backend):
    """The same backend without [env]: importing it fails, so the variables really came from the table."""
    path = configure(backend, env="")
    untraced = path.read_text(encoding="utf-8").replace("class =", "# class =")  # the boot imports it, not the tracer
    path.write_text(untraced, encoding="utf-8")

    report = run(load_settings(path))

    assert (ExitCode.BOOT_FAILED, True) == (
        report.exit_code,
        any("WC_TEST_APPDIR" in finding.message for finding in report.findings),
    ), [f.message for f in report.findings]


def test_a_secret_env_value_never_reaches_the_report(backend):
    """A value whose name looks secret is scrubbed, here from the boot crash that quotes it."""
    path = configure(backend, env=ENV + 'WC_TEST_API_KEY = "sk-test-0123456789"\nWC_TEST_FAIL = "1"\n')

    report = run(load_settings(path))

    text = "\n".join(f.message for f in report.findings)
    assert (ExitCode.BOOT_FAILED, False, True) == (report.exit_code, "sk-test-0123456789" in text, "***" in text)


def test_one_emit_method_times_each_event_from_its_own_call(backend):
    """emit(kind, run_id) mapped to all five events by its kind argument: each event is timed from its own
    call, so agent_completed, emitted DELAY_MS after agent_started, is not stamped at the first call."""
    emit = "\n[probe.emit]\n" + "".join(
        f'{event} = {{ method = "emitter.emit", argument = "kind" }}\n'
        for event in ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
    )

    report = run(load_settings(configure(backend, emit)))

    emitted = {record.type: record.emitted_at_ms for record in report.events if record.ours}
    assert ExitCode.OK == report.exit_code, [f.message for f in report.findings]
    assert emitted["agent_completed"] - emitted["agent_started"] >= DELAY_MS * MS * 1000 - 1


def test_a_kind_argument_the_live_method_lacks_stops_the_run_with_its_parameters(backend, capsys):
    """Found only once the role exists: a usage error (exit 2) naming the key and the method's parameters."""
    emit = (
        '\n[probe.emit]\nagent_started = { method = "emitter.emit", argument = "knd" }\n'
        'agent_completed = { method = "emitter.emit", argument = "knd" }\n'
    )

    code = main(["run", "--config", str(configure(backend, emit))])

    assert (2, True) == (
        code,
        "probe.emit.agent_started.argument: emitter.emit(kind, run_id) has no parameter 'knd'; did you mean 'kind'?"
        in capsys.readouterr().err,
    )
