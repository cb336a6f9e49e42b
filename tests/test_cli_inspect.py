"""`wiringcheck inspect`: the tree of what startup built, then a clean shutdown."""

from __future__ import annotations

import contextlib
import io
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from wiringcheck.cli import main
from wiringcheck.commands.inspect import contract_line, format_signature, members_of
from wiringcheck.report import ExitCode

from .conftest import MS
from .integration.helpers import FAULTS, REPO


@pytest.fixture(name="in_repo")
def _in_repo(monkeypatch):
    """Run from the repository, whose [tool.wiringcheck] configures the reference backend."""
    monkeypatch.chdir(REPO)


@pytest.fixture(name="healthy_tree", scope="module")
def _healthy_tree():
    """The plain tree `wiringcheck inspect` prints for the reference backend (booted once for the module)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.chdir(REPO)
        patch.delenv("CI", raising=False)
        code = main(["inspect"])
    return code, out.getvalue().splitlines()


def test_inspect_shows_each_role_class_and_origin(healthy_tree):
    """Each role's class, where it lives, and its bases are shown."""
    code, lines = healthy_tree

    assert ExitCode.OK == code
    assert any(
        re.match(r"\s+registry: fixtures\.agentchat\.registry\.AgentRegistry  at state\.agent_supervisor", line)
        for line in lines
    )
    assert "bases: BaseAgentRegistry" in {line.strip() for line in lines}


def test_inspect_marks_async_and_says_own_or_inherited_with_file_and_line(healthy_tree):
    """Members carry their signature (async marked), and where they are defined: own or inherited, file:line."""
    _, lines = healthy_tree
    stripped = [line.strip() for line in lines]

    started = stripped.index(
        "async def notify_agent_started(self, run_id: str, agent_name: str, "
        "context: dict[str, Any] | None = None) -> None"
    )
    assert re.fullmatch(r"own, fixtures/agentchat/bridge\.py:\d+", stripped[started + 1])
    assert "contract ✓ async notify_agent_started(run_id, agent_name, context=None)" == stripped[started + 2]
    register = stripped.index("def register(self, agent: Agent) -> None")
    assert re.fullmatch(
        r"inherited from BaseAgentRegistry, fixtures/agentchat/registry\.py:\d+", stripped[register + 1]
    )
    assert 'contract: "register(agent)"' == stripped[register + 2]


def test_inspect_shows_wire_state_with_values(healthy_tree):
    """Each wire is shown holding or not, with the value on each side."""
    _, lines = healthy_tree
    stripped = [line.strip() for line in lines]

    wire = stripped.index("✓ registry.websocket_manager is bridge.websocket_manager")
    assert stripped[wire + 1].startswith(
        "registry.websocket_manager = <fixtures.agentchat.websocket_manager.WebSocketManager at 0x"
    )


def test_inspect_shuts_the_backend_down(healthy_tree):
    """After the tree is printed nothing listens any more on the port the backend was served on."""
    _, lines = healthy_tree
    port = int(re.search(r"served at ws://127\.0\.0\.1:(\d+)/ws", lines[0])[1])

    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5000 * MS):
        pass


def test_inspect_shows_a_broken_wire(in_repo, capsys):
    """On the seed's fault the wires are shown broken, both sides None."""
    code = main(["inspect", "--config", str(FAULTS / "legacy_setter" / "wiringcheck.toml")])

    out = capsys.readouterr().out
    assert ExitCode.OK == code
    assert "✗ bridge.websocket_manager is not None\n      bridge.websocket_manager = None" in out


def test_inspect_of_a_backend_that_does_not_boot_exits_three(in_repo, capsys):
    """A startup crash is one line naming the exception, exit 3."""
    code = main(["inspect", "--config", str(FAULTS / "boot_crash" / "wiringcheck.toml")])

    err = capsys.readouterr().err
    assert ExitCode.BOOT_FAILED == code
    assert "wiringcheck: error: boot: the lifespan's startup raised RuntimeError: redis connection refused" in err


def test_inspect_of_a_url_says_what_it_can_show(tmp_path, monkeypatch, capsys):
    """A running URL has no objects in this process: the tree says so, and that --probe shows its frames."""
    config = tmp_path / "wiringcheck.toml"
    config.write_text('url = "ws://127.0.0.1:9/ws"\n')

    code = main(["inspect", "--config", str(config)])

    out = capsys.readouterr().out
    assert (ExitCode.OK, True, True) == (
        code,
        "its objects live in another process" in out,
        "(pass --probe to start one run and see the frames it sends)" in out,
    )


@pytest.fixture(name="running_url")
def _running_url() -> Iterator[str]:
    """The reference backend served by uvicorn on a thread of this process: a URL to inspect."""
    from fixtures.agentchat.app import create_app

    from .serving import served

    with served(create_app()) as port:
        yield f"ws://127.0.0.1:{port}/ws"


def test_inspect_probe_of_a_url_shows_its_frames(running_url):
    """`inspect --url ... --probe` starts one run on a running backend and shows the shapes of its frames."""
    code, lines = _inspect("--url", running_url, "--probe")

    assert (ExitCode.OK, "frames: 5 received, run ended: terminal") == (
        code,
        next(line for line in lines if "frames:" in line),
    )
    assert "suggested configuration: none, pyproject.toml already maps every frame that arrived" in lines


def test_inspect_needs_no_configuration_file(tmp_path, monkeypatch, capsys):
    """`inspect --app` in a project without any configuration boots the app from the working directory."""
    (tmp_path / "myagent.py").write_text("from tests.streaming_apps import sse_only\n\napp = sse_only()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)

    code = main(["inspect", "--app", "myagent:app"])

    out = capsys.readouterr().out
    assert (ExitCode.OK, True) == (code, "wiringcheck inspect: app myagent:app" in out)


def test_inspect_lists_http_streams_and_suggests_the_sse_transport(tmp_path, monkeypatch):
    """An app that streams over HTTP only: its routes (an included router's) and the transport the probe needs."""
    monkeypatch.chdir(tmp_path)

    code, lines = _inspect("--app", "tests.streaming_apps:sse_only", cwd=tmp_path)

    assert ExitCode.OK == code
    assert ["sse POST /api/agent/run  (its endpoint answers with text/event-stream)",
            "stream GET /api/agent/export  (response_class=StreamingResponse)"] == lines[
        lines.index("http streaming routes") + 1 : lines.index("http streaming routes") + 3
    ]  # fmt: skip
    assert any('set transport = "sse", path = "/api/agent/run"' in line for line in lines)


def test_inspect_finds_a_websocket_in_an_included_router_of_a_mounted_app(tmp_path):
    """FastAPI's include_router routes (wrapped since 0.165), under a mount: listed with their whole prefix."""
    code, lines = _inspect("--app", "tests.streaming_apps:socket_in_a_router", cwd=tmp_path)

    assert (ExitCode.OK, "/api/v1/chat/ws") == (code, lines[lines.index("websocket routes") + 1])


def test_inspect_lists_what_sits_on_app_state(tmp_path):
    """What startup stored on app.state, one level into the backend's objects: the paths a role can take."""
    code, lines = _inspect("--app", "tests.streaming_apps:sse_only", cwd=tmp_path)

    listed = lines.index("app.state (role paths)")

    assert ExitCode.OK == code
    assert ["state.agent: tests.streaming_apps.Agent", "state.agent.tools: tests.streaming_apps.Tools"] == lines[
        listed + 1 : listed + 3
    ]


def test_a_role_at_state_lists_what_startup_stored_there(tmp_path):
    """A role whose path is `state` shows app.state's attributes as its members."""
    config = tmp_path / "wiringcheck.toml"
    config.write_text(
        f'app = "tests.streaming_apps:sse_only"\npythonpath = ["{REPO}"]\n[roles.state]\npath = "state"\n'
    )

    code, lines = _inspect("--config", str(config))

    assert (ExitCode.OK, "instance attribute agent = <tests.streaming_apps.Agent at 0x") == (
        code,
        next(line for line in lines if line.startswith("instance attribute agent"))[:60],
    )


class _Base:
    async def ping(self, a, /, b, *args, c=1, **kw) -> None: ...

    @property
    def state(self) -> int:
        return 1


class _Child(_Base):
    limit = 3

    @staticmethod
    def make(x: int) -> _Child: ...

    def __init__(self) -> None:
        self.wired = None
        self._hidden = 1


def test_members_of_classifies_kind_and_origin_without_calling_anything():
    """Methods, properties, static methods, class and instance attributes, own or inherited; _private hidden."""
    members = {m.name: (m.kind, m.origin) for m in members_of(_Child())}

    assert {
        "limit": ("class attribute", "own"),
        "make": ("staticmethod", "own"),
        "ping": ("async def", "inherited from _Base"),
        "state": ("property", "inherited from _Base"),
        "wired": ("instance attribute", "instance"),
    } == members


def test_signature_and_contract_line_follow_the_source():
    """Positional-only, *args, keyword-only and **kwargs read as written; the contract line drops self."""
    import inspect

    signature = inspect.signature(_Base.ping)

    assert "(self, a, /, b, *args, c=1, **kw) -> None" == format_signature(signature)
    assert "async ping(a, b, *args, c=1, **kw)" == contract_line("ping", signature, is_async=True, bound=True)


def _inspect(*args: str, cwd: Path = REPO) -> tuple[int, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.chdir(cwd)
        patch.delenv("CI", raising=False)
        code = main(["inspect", *args])
    return code, [line.strip() for line in out.getvalue().splitlines()]


def test_inspect_lists_the_apps_websocket_routes(healthy_tree):
    """An in-process app's WebSocket routes are listed, so ws_path can be copied from them."""
    stripped = [line.strip() for line in healthy_tree[1]]

    assert "/ws" == stripped[stripped.index("websocket routes") + 1]


STUDIO_UNMAPPED = """
app = "fixtures.studio.app:create_app"
pythonpath = ["{repo}"]
ws_path = "/api/ws/runs/{{run_id}}"

[probe]
trigger = {{ type = "user_message", content = "What is 6 times 7?" }}
deadline = 0.5
auth = {{ subprotocol = "jwt.{{token_b64url}}", token = "studio-dev-token" }}

[[probe.setup]]
method = "POST"
path = "/api/runs"
json = {{ task = "What is 6 times 7?" }}
auth = {{ header = "Authorization", token = "studio-dev-token" }}
expect_status = 201
capture = {{ run_id = "run.id" }}
"""
"""The studio with its connection configured and its protocol not yet mapped: where a new user starts."""


def test_inspect_probe_suggests_matchers_for_a_nested_protocol(tmp_path):
    """`inspect --probe` shows each frame shape once and maps the studio's nested types onto the five events."""
    config = tmp_path / "wiringcheck.toml"
    config.write_text(STUDIO_UNMAPPED.format(repo=REPO))

    code, lines = _inspect("--config", str(config), "--probe")

    assert ExitCode.OK == code
    assert 'tool_executing = { type = "message", "data.type" = "ToolCallRequestEvent" }' in lines
    assert 'agent_completed = { type = "completion", status = "complete" }' in lines
    assert ('timestamp_field = "data.created"', "/api/ws/runs/{run_id}") == (
        lines[lines.index("[probe]") + 1],
        lines[2],
    )


def test_inspect_probe_suggests_nothing_the_configuration_already_maps():
    """With the studio's own configuration, every frame is mapped: nothing is suggested again."""
    config = str(REPO / "fixtures" / "studio" / "wiringcheck.toml")

    code, lines = _inspect("--config", config, "--probe")

    assert (ExitCode.OK, True) == (
        code,
        "suggested configuration: none, wiringcheck.toml already maps every frame that arrived" in lines,
    )


RELAY_UNMAPPED = """
boot = "fixtures.relay.server:boot"
pythonpath = ["{repo}"]

[probe]
trigger = {{ op = "run", id = "{{run_id}}", input = "add 40 and 2" }}
type_field = "kind"
batch_field = "events"
deadline = 0.5

[probe.auth]
first_message = {{ op = "auth", key = "{{token}}" }}
ack = {{ op = "auth_ok" }}
token = "relay-dev-key"
"""
"""The relay (a boot target) with its connection and batches configured, its events not yet mapped."""


def test_inspect_probe_splits_batches_and_ignores_heartbeats(tmp_path):
    """With batch_field configured, batched events are shapes of their own, and heartbeats are suggested ignored."""
    config = tmp_path / "wiringcheck.toml"
    config.write_text(RELAY_UNMAPPED.format(repo=REPO))

    code, lines = _inspect("--config", str(config), "--probe")

    assert (ExitCode.OK, True, True) == (
        code,
        'ignore = [{ op = "ping" }]' in lines,
        'tool_completed = "tool.result"' in lines,  # every event's type is its `kind`: the type field
    )
